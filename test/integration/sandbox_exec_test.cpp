// SPDX-License-Identifier: Apache-2.0
// Commands end to end: exec_command in each exit-status mode, bash (short and long paths,
// unicode), bash_ws, streaming, timeouts with partial output, concurrency.
#include "integration/sandbox_fixture.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>

#include <atomic>
#include <vector>

using namespace eci;
using namespace eci::test;
namespace asio = boost::asio;
using std::chrono::milliseconds;
using std::chrono::seconds;

TEST_CASE("sandbox e2e: exec_command keeps stdout and stderr apart in every exit mode",
          "[sandbox-e2e]") {
    const auto mode = GENERATE(emulator::ExitStatusMode::none, emulator::ExitStatusMode::channel4,
                               emulator::ExitStatusMode::k8s);
    AsyncSandboxFixture fx(sandbox_emulator_options(mode));
    fx.run([&]() -> asio::awaitable<void> {
        auto sandbox = co_await make_running_sandbox(*fx.client, "exec-modes");
        std::vector<std::string> argv;
        argv.emplace_back("sh");
        argv.emplace_back("-c");
        argv.emplace_back("echo out; echo err >&2; exit 3");
        auto run = co_await sandbox.exec_command(argv);
        REQUIRE(run.ok());
        CHECK(run->stdout_text == "out\n");
        CHECK(run->stderr_text == "err\n");
        CHECK(run->output.size() == 8);
        CHECK(run->dispatch == Dispatch::accepted);
        CHECK_FALSE(run->request_id.empty());
        CHECK(run->outcome == CommandOutcome::exited);
        // The /bin/sh wrapper reports the code on every convention, without a trace in stderr.
        REQUIRE(run->exit_code.has_value());
        CHECK(*run->exit_code == 3);
        CHECK(run->output.find("__ECI_EXIT_") == std::string::npos);
        // Arguments reach the program untouched: no shell parsing of spaces, quotes, globs or
        // `$`, and an empty argument stays one.
        std::vector<std::string> words;
        for (const char* word : {"printf", "[%s]", "a b", "'q'", "*", "$HOME", "", "x;y"})
            words.emplace_back(word);
        auto literal = co_await sandbox.exec_command(words);
        REQUIRE(literal.ok());
        CHECK(literal->stdout_text == "[a b]['q'][*][$HOME][][x;y]");
        CHECK(literal->exit_code == 0);
        CHECK(literal->success());
        // raw_argv sends argv bare: the code is then only what the stream reports.
        ExecCommandOptions raw;
        raw.raw_argv = true;
        auto bare = co_await sandbox.exec_command(argv, raw);
        REQUIRE(bare.ok());
        CHECK(bare->stdout_text == "out\n");
        CHECK(bare->stderr_text == "err\n");
        if (mode == emulator::ExitStatusMode::none) {
            CHECK_FALSE(bare->exit_code.has_value());
        } else {
            CHECK(bare->exit_code == 3);
        }
        // bash learns the code from its own report in every mode.
        auto b = co_await sandbox.bash("echo hi; echo oops >&2; exit 7");
        REQUIRE(b.ok());
        CHECK(b->stdout_text == "hi\n");
        CHECK(b->stderr_text == "oops\n");
        REQUIRE(b->exit_code.has_value());
        CHECK(*b->exit_code == 7);
        CHECK_FALSE(b->success());
        CHECK(b->output.find("__ECI_EXIT_") == std::string::npos);
        auto ws = co_await sandbox.bash_ws("echo ws; false");
        REQUIRE(ws.ok());
        CHECK(ws->stdout_text.find("ws\n") != std::string::npos);
        REQUIRE(ws->exit_code.has_value());
        CHECK(*ws->exit_code == 1);
        CHECK(ws->stderr_text.find("__ECI_EXIT_") == std::string::npos);
    });
}

TEST_CASE("sandbox e2e: bash with unicode, exec_dir and sync=false", "[sandbox-e2e]") {
    AsyncSandboxFixture fx;
    fx.run([&]() -> asio::awaitable<void> {
        auto sandbox = co_await make_running_sandbox(*fx.client, "unicode");
        auto run = co_await sandbox.bash("echo 'héllo 世界 🚀' && printf '%s' \"it's\"");
        REQUIRE(run.ok());
        CHECK(run->stdout_text == "héllo 世界 🚀\nit's");
        CHECK(run->success());

        ExecOptions in_dir;
        in_dir.exec_dir = "/tmp/dir with 'quote'";
        auto made = co_await sandbox.bash("mkdir -p \"/tmp/dir with 'quote'\"");
        REQUIRE(made.ok());
        auto pwd = co_await sandbox.bash("pwd", in_dir);
        REQUIRE(pwd.ok());
        CHECK(pwd->stdout_text == "/tmp/dir with 'quote'\n");

        ExecOptions async_only;
        async_only.sync = false;
        std::vector<std::string> argv(1, "true");
        auto urls = co_await sandbox.exec_command(argv, async_only);
        REQUIRE(urls.ok());
        CHECK(urls->websocket_url.rfind("wss://", 0) == 0);
        CHECK_FALSE(urls->exit_code.has_value());
    });
}

TEST_CASE("sandbox e2e: a 100 KB script through bash and bash_ws", "[sandbox-e2e]") {
    AsyncSandboxFixture fx;
    fx.run([&]() -> asio::awaitable<void> {
        auto sandbox = co_await make_running_sandbox(*fx.client, "long-script");
        std::string script;
        int lines = 0;
        while (script.size() < 100 * 1024) {
            script += "x" + std::to_string(lines) + "='value é " + std::to_string(lines) + "'\n";
            ++lines;
        }
        script += "echo \"$x0|$x" + std::to_string(lines - 1) + "\"\nexit 4\n";
        auto run = co_await sandbox.bash(script);
        REQUIRE(run.ok());
        CHECK(run->stdout_text == "value é 0|value é " + std::to_string(lines - 1) + "\n");
        REQUIRE(run->exit_code.has_value());
        CHECK(*run->exit_code == 4);

        auto ws = co_await sandbox.bash_ws(script);
        REQUIRE(ws.ok());
        CHECK(ws->stdout_text.find("value é 0|") != std::string::npos);
        CHECK(ws->exit_code == 4);
    });
}

TEST_CASE("sandbox e2e: bash commands around the 256-character Command element limit",
          "[sandbox-e2e]") {
    // The API reference limits a Command element to 256 characters (the emulator enforces it
    // with --strict-command-limits); the wrapper of a command of about 100 bytes already
    // crosses it, so every length here must still run under either rule (the long ones on
    // stdin), and sync=false must refuse a long one clearly instead of sending it.
    const bool strict = GENERATE(false, true);
    auto options = sandbox_emulator_options();
    options.strict_command_limits = strict;
    AsyncSandboxFixture fx(options);
    fx.run([&]() -> asio::awaitable<void> {
        auto sandbox = co_await make_running_sandbox(*fx.client, "element-limit");
        for (std::size_t length : {10u, 90u, 120u, 200u, 400u, 1500u, 2500u}) {
            std::string command = "echo ";
            command += std::string(length, 'a');
            command += "; exit 3";
            auto run = co_await sandbox.bash(command);
            REQUIRE(run.ok());
            CHECK(run->stdout_text == std::string(length, 'a') + "\n");
            CHECK(run->exit_code == 3);
        }
        ExecOptions detached;
        detached.sync = false;
        std::string long_command = "echo " + std::string(400, 'b');
        auto refused = co_await sandbox.bash(std::move(long_command), std::move(detached));
        REQUIRE_FALSE(refused.ok());
        CHECK(refused.error().kind == ErrorKind::invalid_argument);
    });
}

TEST_CASE("sandbox e2e: streaming callback sees chunks in order", "[sandbox-e2e]") {
    AsyncSandboxFixture fx;
    fx.run([&]() -> asio::awaitable<void> {
        auto sandbox = co_await make_running_sandbox(*fx.client, "stream");
        std::string streamed_out, streamed_err;
        ExecOptions options;
        options.on_output = [&](OutputStream stream, std::string_view bytes) {
            (stream == OutputStream::standard_output ? streamed_out : streamed_err) += bytes;
        };
        options.max_output_bytes = 4;
        auto run = co_await sandbox.bash(
            "for i in 1 2 3; do echo line$i; sleep 0.05; done; echo bad >&2", options);
        REQUIRE(run.ok());
        CHECK(streamed_out == "line1\nline2\nline3\n");
        CHECK(streamed_err == "bad\n");
        CHECK(run->truncated);
        CHECK(run->stdout_text == "ne3\n");  // the last 4 bytes
    });
}

TEST_CASE("sandbox e2e: a timeout is an error carrying the partial output", "[sandbox-e2e]") {
    AsyncSandboxFixture fx;
    fx.run([&]() -> asio::awaitable<void> {
        auto sandbox = co_await make_running_sandbox(*fx.client, "timeout");
        ExecOptions options;
        options.timeout = milliseconds(1500);
        const auto start = std::chrono::steady_clock::now();
        auto run = co_await sandbox.bash("echo started; sleep 30; echo never", options);
        const auto took = std::chrono::steady_clock::now() - start;
        REQUIRE_FALSE(run.ok());
        CHECK(run.error().kind == ErrorKind::timeout);
        CHECK(run.error().dispatch == Dispatch::accepted);
        REQUIRE(run.error().partial != nullptr);
        CHECK(run.error().partial->stdout_text == "started\n");
        CHECK(run.error().partial->outcome == CommandOutcome::timed_out);
        CHECK(took < seconds(10));
    });
}

TEST_CASE("sandbox e2e: cancellation through the awaiting coroutine", "[sandbox-e2e]") {
    AsyncSandboxFixture fx;
    fx.run([&]() -> asio::awaitable<void> {
        using namespace asio::experimental::awaitable_operators;
        auto sandbox = co_await make_running_sandbox(*fx.client, "cancel");
        asio::steady_timer timer(co_await asio::this_coro::executor, milliseconds(800));
        auto raced = co_await (sandbox.bash("echo begun; sleep 30") ||
                               timer.async_wait(asio::use_awaitable));
        REQUIRE(raced.index() == 1);
        auto after = co_await sandbox.bash("echo still usable");
        REQUIRE(after.ok());
        CHECK(after->stdout_text == "still usable\n");
    });
}

TEST_CASE("sandbox e2e: 100 concurrent bash coroutines on 10 sandboxes", "[sandbox-e2e][serial]") {
    AsyncSandboxFixture fx;
    fx.run(
        [&]() -> asio::awaitable<void> {
            std::vector<AsyncSandbox> sandboxes;
            for (int i = 0; i < 10; ++i) {
                sandboxes.push_back(
                    co_await make_running_sandbox(*fx.client, "conc-" + std::to_string(i)));
            }
            std::atomic<int> ok{0};
            int finished = 0;
            auto executor = co_await asio::this_coro::executor;
            for (int i = 0; i < 100; ++i) {
                asio::co_spawn(
                    executor,
                    [&, i]() -> asio::awaitable<void> {
                        auto run = co_await sandboxes[static_cast<std::size_t>(i % 10)].bash(
                            "echo n" + std::to_string(i) + "; exit " + std::to_string(i % 5));
                        if (run.ok() && run->stdout_text == "n" + std::to_string(i) + "\n" &&
                            run->exit_code == i % 5) {
                            ++ok;
                        } else if (!run.ok()) {
                            UNSCOPED_INFO("call " << i << ": " << run.error().to_string());
                        }
                    },
                    [&](std::exception_ptr) { ++finished; });
            }
            const bool all_done = co_await wait_until([&] { return finished == 100; }, seconds(90));
            REQUIRE(all_done);
            CHECK(ok == 100);
        },
        seconds(120));
}

TEST_CASE("sandbox e2e: every operation works under the reference's strict Command limits",
          "[sandbox-e2e]") {
    // --strict-command-limits: at most 20 elements of at most 256 characters. The library
    // must keep within that whatever it runs (framed scripts and long commands on stdin).
    auto options = sandbox_emulator_options();
    options.strict_command_limits = true;
    AsyncSandboxFixture fx(options);
    fx.run([&]() -> asio::awaitable<void> {
        auto sandbox = co_await make_running_sandbox(*fx.client, "strict-limits");
        std::vector<std::string> argv;
        argv.emplace_back("sh");
        argv.emplace_back("-c");
        argv.emplace_back("exit 3");
        auto wrapped = co_await sandbox.exec_command(argv);
        REQUIRE(wrapped.ok());
        CHECK(wrapped->exit_code == 3);
        std::string long_command = "echo " + std::string(3000, 'z');
        auto long_bash = co_await sandbox.bash(long_command);
        REQUIRE(long_bash.ok());
        CHECK(long_bash->stdout_text.size() == 3001);
        std::string content(200'000, 'q');
        auto written = co_await sandbox.write_file_ws("/tmp/strict.txt", content);
        require_ok(written);
        auto read = co_await sandbox.read_file("/tmp/strict.txt");
        require_ok(read);
        CHECK(read->content == content);
        std::string job = "echo started-" + std::string(400, 'j') + "; exit 4";
        auto started = co_await sandbox.tmux_start(job);
        require_ok(started);
        TmuxWaitOptions wait;
        wait.timeout = std::chrono::seconds(20);
        auto finished = co_await sandbox.tmux_wait(*started, wait);
        require_ok(finished);
        CHECK(finished->status == TmuxStatus::completed);
        CHECK(finished->exit_code == 4);
        auto listed = co_await sandbox.tmux_list();
        require_ok(listed);
        // A user's own argv over the reference's limits is refused by the service, clearly.
        std::vector<std::string> too_long;
        too_long.emplace_back("echo");
        too_long.emplace_back(std::string(300, 'x'));
        auto refused = co_await sandbox.exec_command(too_long);
        REQUIRE_FALSE(refused.ok());
        CHECK(refused.error().code == "InvalidParameter.ValueExceeded");
        CHECK(refused.error().dispatch == Dispatch::refused);
    });
}

TEST_CASE("sandbox e2e: each exec call takes only the options it reads", "[sandbox-e2e]") {
    AsyncSandboxFixture fx;
    fx.run([&]() -> asio::awaitable<void> {
        auto sandbox = co_await make_running_sandbox(*fx.client, "exec-option-types");
        const auto calls_before = fx.client->api().stats().total_api_calls();
        // bash_ws sends its command on the shell's stdin and reads the output: stdin_data and
        // sync=false have nowhere to go. Refused before any call (0.1 ignored them silently).
        ExecOptions with_stdin;
        with_stdin.stdin_data = std::string("data");
        std::string first = "cat";
        auto refused_stdin = co_await sandbox.bash_ws(std::move(first), with_stdin);
        REQUIRE_FALSE(refused_stdin.ok());
        CHECK(refused_stdin.error().kind == ErrorKind::invalid_argument);
        CHECK(refused_stdin.error().message.find("stdin_data") != std::string::npos);
        ExecOptions detached;
        detached.sync = false;
        std::string second = "true";
        auto refused_sync = co_await sandbox.bash_ws(std::move(second), detached);
        REQUIRE_FALSE(refused_sync.ok());
        CHECK(refused_sync.error().kind == ErrorKind::invalid_argument);
        CHECK(fx.client->api().stats().total_api_calls() == calls_before);

        // exec_command takes ExecCommandOptions; plain ExecOptions convert (tty, raw_argv off),
        // so the exit-status wrapper still reports the code and exec_dir applies.
        ExecOptions common;
        common.exec_dir = "/tmp";
        std::vector<std::string> argv;
        argv.emplace_back("sh");
        argv.emplace_back("-c");
        argv.emplace_back("pwd; exit 5");
        auto converted = co_await sandbox.exec_command(argv, common);
        REQUIRE(converted.ok());
        CHECK(converted->stdout_text == "/tmp\n");
        CHECK(converted->exit_code == 5);
        // A TTY merges the streams; bash reads the same ExecOptions without such a field.
        ExecCommandOptions tty;
        tty.tty = true;
        std::vector<std::string> both;
        both.emplace_back("sh");
        both.emplace_back("-c");
        both.emplace_back("echo to-out; echo to-err >&2");
        auto merged = co_await sandbox.exec_command(both, tty);
        REQUIRE(merged.ok());
        CHECK(merged->stderr_text.empty());
        CHECK(merged->stdout_text.find("to-err") != std::string::npos);
    });
}
