// SPDX-License-Identifier: Apache-2.0
// The sandbox runtime against the real kernel: isolated mode (these tests run as root) and
// degraded mode (forced). Every test has a hard deadline; nothing sleeps and hopes.
#include "emulator/runtime/runtime.hpp"
#include "support/proc_scan.hpp"

#include <fmt/core.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffers_iterator.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <catch2/catch.hpp>

#include <dirent.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <random>
#include <set>
#include <string>

namespace asio = boost::asio;
using namespace std::chrono_literals;
using eci::emulator::ExecProcess;
using eci::emulator::ExecSpec;
using eci::emulator::ExitStatus;
using eci::emulator::MainExit;
using eci::emulator::Runtime;
using eci::emulator::RuntimeOptions;
using eci::emulator::SandboxProcesses;
using eci::emulator::SandboxSpec;
using eci::test::children_of;
using eci::test::pids_with_marker;

namespace {

std::string random_suffix() {
    std::random_device device;
    return fmt::format("{:08x}", device());
}

struct Output {
    std::string out;
    std::string err;
    std::optional<eci::Result<ExitStatus>> status;
};

asio::awaitable<void> read_all(asio::posix::stream_descriptor* stream, std::string* into) {
    // Ends at EOF (pipes) or EIO (a pty whose last writer exited).
    co_await asio::async_read(*stream, asio::dynamic_buffer(*into),
                              asio::as_tuple(asio::use_awaitable));
}

asio::awaitable<void> write_then_close(ExecProcess* process, std::string input) {
    if (!input.empty()) {
        auto [ec, n] = co_await asio::async_write(process->stdin_pipe(), asio::buffer(input),
                                                  asio::as_tuple(asio::use_awaitable));
        (void)n;
        REQUIRE_FALSE(ec);
    }
    process->close_stdin();
}

// co_spawn needs a default-constructible result, which Result<ExecProcess> is not.
asio::awaitable<bool> start_into(SandboxProcesses* sandbox, ExecSpec spec,
                                 std::optional<eci::Result<ExecProcess>>* out) {
    out->emplace(co_await sandbox->exec(std::move(spec)));
    co_return true;
}

asio::awaitable<Output> collect(ExecProcess* process, std::string input) {
    using namespace asio::experimental::awaitable_operators;
    Output output;
    if (process->tty()) {
        if (!input.empty()) {
            co_await asio::async_write(process->terminal(), asio::buffer(input),
                                       asio::as_tuple(asio::use_awaitable));
        }
        co_await read_all(&process->terminal(), &output.out);
    } else if (process->has_stdin()) {
        co_await (read_all(&process->stdout_pipe(), &output.out) &&
                  read_all(&process->stderr_pipe(), &output.err) &&
                  write_then_close(process, std::move(input)));
    } else {
        co_await (read_all(&process->stdout_pipe(), &output.out) &&
                  read_all(&process->stderr_pipe(), &output.err));
    }
    output.status = co_await process->wait();
    co_return output;
}

/// One io_context and one runtime per test; run() drives the loop under a deadline.
class Harness {
  public:
    explicit Harness(bool degraded, const std::function<void(RuntimeOptions&)>& adjust = {}) {
        state_dir_ = std::filesystem::temp_directory_path() / ("eci-rt-" + random_suffix());
        RuntimeOptions options;
        options.state_dir = state_dir_;
        options.force_degraded = degraded;
        options.warning = [](std::string_view) {};
        if (adjust)
            adjust(options);
        auto created = Runtime::create(io.get_executor(), options);
        REQUIRE(created.ok());
        runtime = std::move(*created);
    }
    ~Harness() {
        runtime->shutdown();
        std::error_code ignored;
        std::filesystem::remove_all(state_dir_, ignored);
    }

    /// Whether the test can go on in the mode it asked for (isolation needs root).
    bool mode_available(bool degraded) const {
        if (degraded || runtime->isolated())
            return true;
        WARN("isolated mode unavailable here: " << runtime->degraded_reason());
        return false;
    }

    std::shared_ptr<SandboxProcesses> start(SandboxSpec spec) {
        if (spec.id.empty())
            spec.id = "sb-" + random_suffix();
        auto started = runtime->start(std::move(spec));
        if (!started)
            FAIL(started.error().to_string());
        return *started;
    }

    template <class T>
    T run(asio::awaitable<T> task, std::chrono::steady_clock::duration deadline = 20s) {
        std::optional<T> result;
        std::exception_ptr failure;
        asio::co_spawn(io, std::move(task), [&](std::exception_ptr e, T value) {
            failure = e;
            if (!e)
                result.emplace(std::move(value));
        });
        run_until([&] { return result.has_value() || failure != nullptr; }, deadline);
        if (failure)
            std::rethrow_exception(failure);
        return std::move(*result);
    }

    template <class Predicate>
    void run_until(Predicate done, std::chrono::steady_clock::duration deadline = 20s) {
        const auto end = std::chrono::steady_clock::now() + deadline;
        io.restart();
        while (!done()) {
            if (std::chrono::steady_clock::now() >= end)
                FAIL("deadline passed");
            io.run_for(20ms);
        }
    }

    /// Starts `spec` in `sandbox`, running the io_context until it has started (or failed).
    eci::Result<ExecProcess> start_exec(SandboxProcesses& sandbox, ExecSpec spec) {
        std::optional<eci::Result<ExecProcess>> started;
        run(start_into(&sandbox, std::move(spec), &started));
        return std::move(*started);
    }

    Output exec(SandboxProcesses& sandbox, ExecSpec spec, std::string input = {}) {
        auto process = start_exec(sandbox, std::move(spec));
        if (!process)
            FAIL(process.error().to_string());
        return run(collect(&*process, std::move(input)));
    }

    ExitStatus exec_status(SandboxProcesses& sandbox, std::vector<std::string> argv) {
        ExecSpec spec;
        spec.argv = std::move(argv);
        Output output = exec(sandbox, std::move(spec));
        REQUIRE(output.status->ok());
        return output.status->value();
    }

    asio::io_context io;
    std::unique_ptr<Runtime> runtime;

  private:
    std::filesystem::path state_dir_;
};

ExecSpec shell(std::string script) {
    ExecSpec spec;
    spec.argv = {"sh", "-c", std::move(script)};
    return spec;
}

}  // namespace

TEST_CASE("runtime: exec returns stdout, stderr and the exit code separately", "[runtime]") {
    const bool degraded = GENERATE(false, true);
    Harness harness(degraded);
    if (!harness.mode_available(degraded))
        return;
    auto sandbox = harness.start({});
    Output output = harness.exec(*sandbox, shell("echo out; echo err >&2; exit 3"));
    CHECK(output.out == "out\n");
    CHECK(output.err == "err\n");
    REQUIRE(output.status->ok());
    CHECK(output.status->value() == ExitStatus{3, 0});

    ExecSpec echo;
    echo.argv = {"echo", "hello", "world"};
    output = harness.exec(*sandbox, echo);
    CHECK(output.out == "hello world\n");
    CHECK(output.status->value().success());
}

TEST_CASE("runtime: stdin pipe round trip through cat", "[runtime]") {
    const bool degraded = GENERATE(false, true);
    Harness harness(degraded);
    if (!harness.mode_available(degraded))
        return;
    auto sandbox = harness.start({});
    ExecSpec spec;
    spec.argv = {"cat"};
    spec.open_stdin = true;
    // Larger than a pipe buffer: the writer and the reader must make progress together.
    std::string input;
    for (int i = 0; i < 20000; ++i)
        input += fmt::format("line {}\n", i);
    Output output = harness.exec(*sandbox, spec, input);
    CHECK(output.out == input);
    CHECK(output.status->value().success());
}

TEST_CASE("runtime: tty exec runs on a pseudo-terminal that can be resized", "[runtime]") {
    const bool degraded = GENERATE(false, true);
    Harness harness(degraded);
    if (!harness.mode_available(degraded))
        return;
    auto sandbox = harness.start({});
    ExecSpec spec = shell(
        "test -t 0 && test -t 1 && echo is-a-tty; stty size; read line; "
        "stty size; echo got:$line");
    spec.tty = true;
    spec.terminal_size = {30, 100};
    auto process = harness.start_exec(*sandbox, spec);
    REQUIRE(process.ok());
    REQUIRE(process->tty());
    auto task = [](ExecProcess* p) -> asio::awaitable<Output> {
        Output output;
        // Wait for the first size, resize, then unblock `read`.
        asio::streambuf buffer;
        auto [ec, n] = co_await asio::async_read_until(p->terminal(), buffer, "30 100",
                                                       asio::as_tuple(asio::use_awaitable));
        (void)n;
        REQUIRE_FALSE(ec);
        output.out.assign(asio::buffers_begin(buffer.data()), asio::buffers_end(buffer.data()));
        REQUIRE(p->resize({40, 120}).ok());
        co_await asio::async_write(p->terminal(), asio::buffer(std::string("ping\n")),
                                   asio::as_tuple(asio::use_awaitable));
        co_await read_all(&p->terminal(), &output.out);
        output.status = co_await p->wait();
        co_return output;
    };
    Output output = harness.run(task(&*process));
    CHECK(output.out.find("is-a-tty") != std::string::npos);
    CHECK(output.out.find("40 120") != std::string::npos);
    CHECK(output.out.find("got:ping") != std::string::npos);
    CHECK(output.status->value().success());
}

TEST_CASE("runtime: exit codes, signals, kill and missing programs", "[runtime]") {
    const bool degraded = GENERATE(false, true);
    Harness harness(degraded);
    if (!harness.mode_available(degraded))
        return;
    auto sandbox = harness.start({});
    CHECK(harness.exec_status(*sandbox, {"sh", "-c", "exit 7"}) == ExitStatus{7, 0});
    CHECK(harness.exec_status(*sandbox, {"sh", "-c", "kill -TERM $$"}) == ExitStatus{0, SIGTERM});
    CHECK(harness.exec_status(*sandbox, {"false"}) == ExitStatus{1, 0});

    // kill() ends the command and its process group (the background sleep holds stdout).
    auto process = harness.start_exec(*sandbox, shell("sleep 1000 & sleep 1000"));
    REQUIRE(process.ok());
    process->kill();
    Output output = harness.run(collect(&*process, {}));
    REQUIRE(output.status->ok());
    CHECK(output.status->value() == ExitStatus{0, SIGKILL});

    ExecSpec missing;
    missing.argv = {"no-such-program-" + random_suffix()};
    auto failed = harness.start_exec(*sandbox, missing);
    REQUIRE_FALSE(failed.ok());
    CHECK(failed.error().kind == eci::ErrorKind::invalid_argument);
    CHECK(failed.error().message.find("not found") != std::string::npos);
}

TEST_CASE("runtime: container and exec environment variables and working directory", "[runtime]") {
    const bool degraded = GENERATE(false, true);
    Harness harness(degraded);
    if (!harness.mode_available(degraded))
        return;
    SandboxSpec spec;
    spec.env = {{"FOO", "bar baz"}, {"PATH", "/usr/bin:/bin"}};
    auto sandbox = harness.start(spec);
    ExecSpec exec = shell("echo \"$FOO|$EXTRA|$PATH|$ECI_EMULATOR_SANDBOX|$HOME\"; pwd");
    exec.env = {{"EXTRA", "1"}};
    Output output = harness.exec(*sandbox, exec);
    const std::string home = degraded ? (sandbox->files_dir() / "home").string() : "/root";
    const std::string cwd = degraded ? (sandbox->files_dir() / "workspace").string() : "/workspace";
    CHECK(output.out ==
          fmt::format("bar baz|1|/usr/bin:/bin|{}|{}\n{}\n", sandbox->id(), home, cwd));

    ExecSpec in_tmp = shell("pwd");
    in_tmp.working_dir = "/tmp";
    CHECK(harness.exec(*sandbox, in_tmp).out == "/tmp\n");
}

TEST_CASE("runtime: /tmp, /root and /workspace are private per sandbox", "[runtime]") {
    Harness harness(false);
    if (!harness.mode_available(false))
        return;
    auto a = harness.start({});
    auto b = harness.start({});
    const std::string name = "eci-runtime-test-" + random_suffix();
    for (const char* dir : {"/tmp/", "/root/", "/workspace/"}) {
        const std::string path = dir + name;
        CHECK(harness.exec_status(*a, {"sh", "-c", "echo x > " + path}).success());
        CHECK(harness.exec_status(*a, {"test", "-f", path}).success());
        CHECK(harness.exec_status(*b, {"test", "-e", path}) == ExitStatus{1, 0});
        CHECK_FALSE(std::filesystem::exists(path));
    }
    // A restart starts from empty directories.
    REQUIRE(a->restart().ok());
    CHECK(harness.exec_status(*a, {"test", "-e", "/tmp/" + name}) == ExitStatus{1, 0});
}

TEST_CASE("runtime: degraded mode keeps TMPDIR and HOME per sandbox", "[runtime]") {
    Harness harness(true);
    REQUIRE_FALSE(harness.runtime->isolated());
    auto a = harness.start({});
    auto b = harness.start({});
    CHECK(
        harness.exec_status(*a, {"sh", "-c", "echo x > $TMPDIR/f && echo y > $HOME/g"}).success());
    CHECK(harness.exec_status(*a, {"sh", "-c", "test -f $TMPDIR/f && test -f $HOME/g"}).success());
    CHECK(harness.exec_status(*b, {"sh", "-c", "test -e $TMPDIR/f || test -e $HOME/g"}) ==
          ExitStatus{1, 0});
}

TEST_CASE("runtime: the host filesystem is read-only inside an isolated sandbox", "[runtime]") {
    Harness harness(false);
    if (!harness.mode_available(false))
        return;
    auto sandbox = harness.start({});
    const std::string path = "/usr/eci-runtime-test-" + random_suffix();
    Output output = harness.exec(*sandbox, shell("touch " + path));
    CHECK_FALSE(output.status->value().success());
    CHECK(output.err.find("Read-only file system") != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(path));
    // ... while /dev stays usable and /proc shows only the sandbox.
    CHECK(harness.exec_status(*sandbox, {"sh", "-c", "echo x > /dev/null"}).success());
    output = harness.exec(*sandbox, shell("echo $$; ls /proc | grep -c '^[0-9]'"));
    CHECK(output.out.substr(0, 2) != "1\n");  // pid 1 is the init, not us
    CHECK(std::stoi(output.out.substr(output.out.find('\n') + 1)) <= 4);
}

TEST_CASE("runtime: a tmux server started by an exec lives on, per sandbox", "[runtime]") {
    const bool degraded = GENERATE(false, true);
    Harness harness(degraded);
    if (!harness.mode_available(degraded))
        return;
    auto a = harness.start({});
    auto b = harness.start({});
    CHECK(harness.exec_status(*a, {"tmux", "new-session", "-d", "-s", "work", "sleep 1000"})
              .success());
    CHECK(harness.exec_status(*a, {"tmux", "has-session", "-t", "work"}).success());
    CHECK_FALSE(harness.exec_status(*b, {"tmux", "has-session", "-t", "work"}).success());
    CHECK(a->live_process_count() >= 2);  // the tmux server and its sleep (+ init)

    // Stopping kills everything, daemons included; at once, not eventually.
    const std::string marker = "ECI_EMULATOR_SANDBOX=" + a->id();
    REQUIRE_FALSE(pids_with_marker(marker).empty());
    REQUIRE(a->stop().ok());
    CHECK(pids_with_marker(marker).empty());
    CHECK(a->live_process_count() == 0);
    REQUIRE(a->restart().ok());
    CHECK_FALSE(harness.exec_status(*a, {"tmux", "has-session", "-t", "work"}).success());
}

TEST_CASE("runtime: stop and destroy leave no process behind", "[runtime]") {
    const bool degraded = GENERATE(false, true);
    Harness harness(degraded);
    if (!harness.mode_available(degraded))
        return;
    SandboxSpec spec;
    spec.command = {"sh", "-c", "sleep 1000 & exec sleep 1001"};
    auto sandbox = harness.start(spec);
    // Escapees of every kind: a new session, a double fork, nohup, a tmux server.
    CHECK(harness
              .exec_status(*sandbox, {"sh", "-c",
                                      "setsid sleep 1002 >/dev/null 2>&1 & "
                                      "(sh -c 'sleep 1003 >/dev/null 2>&1 &') ; "
                                      "nohup sleep 1004 >/dev/null 2>&1 & "
                                      "tmux new-session -d 'sleep 1005'"})
              .success());
    const std::string marker = "ECI_EMULATOR_INSTANCE=" + harness.runtime->instance();
    CHECK(pids_with_marker(marker).size() >= 6);
    CHECK(harness.runtime->live_process_count() >= 6);
    // An exec still running when the sandbox stops ends too.
    auto running = harness.start_exec(*sandbox, shell("sleep 1006"));
    REQUIRE(running.ok());

    REQUIRE(sandbox->destroy().ok());
    CHECK(pids_with_marker(marker).empty());
    CHECK(harness.runtime->live_process_count() == 0);
    CHECK(harness.runtime->sandbox_count() == 0);
    Output output = harness.run(collect(&*running, {}));
    CHECK(output.status->value() == ExitStatus{0, SIGKILL});
    CHECK_FALSE(harness.start_exec(*sandbox, shell("true")).ok());
}

TEST_CASE("runtime: an exec child that never reports is killed and reaped", "[runtime]") {
    // The child stalls with every signal blocked, so the SIGTERM a relay is normally stopped
    // with stays pending: only SIGKILL ends it. Before the fix it outlived the failed exec.
    const bool degraded = GENERATE(false, true);
    Harness harness(degraded, [](RuntimeOptions& options) {
        options.kill_timeout = 2000ms;  // also bounds the init's report: room for a busy CI
        options.exec_child_stall = 60s;
    });
    if (!harness.mode_available(degraded))
        return;
    SandboxSpec spec;
    spec.command = {"sleep", "1000"};
    auto sandbox = harness.start(spec);
    const std::set<int> before = children_of(::getpid());

    const auto begin = std::chrono::steady_clock::now();
    auto exec = harness.start_exec(*sandbox, shell("echo never"));
    REQUIRE_FALSE(exec.ok());
    CHECK(exec.error().kind == eci::ErrorKind::timeout);
    CHECK(std::chrono::steady_clock::now() - begin < 20s);  // the report timeout, not the stall
    // Killed and reaped before exec() returned: no new child, not even a zombie.
    CHECK(children_of(::getpid()) == before);
    REQUIRE(sandbox->destroy().ok());
}

TEST_CASE("runtime: the main process's exit status and output are reported", "[runtime]") {
    const bool degraded = GENERATE(false, true);
    Harness harness(degraded);
    if (!harness.mode_available(degraded))
        return;
    std::vector<MainExit> exits;
    SandboxSpec spec;
    spec.command = {"sh", "-c", "echo hello from main; echo oops >&2; exit 4"};
    spec.on_main_exit = [&](const MainExit& event) { exits.push_back(event); };
    auto sandbox = harness.start(spec);
    harness.run_until([&] { return exits.size() == 1; });
    CHECK(exits[0].status == ExitStatus{4, 0});
    CHECK(exits[0].generation == 1);
    CHECK_FALSE(exits[0].sandbox_lost);
    CHECK(sandbox->main_exit() == ExitStatus{4, 0});
    CHECK(sandbox->recent_log(1 << 20) == "hello from main\noops\n");
    CHECK(sandbox->recent_log(5) == "oops\n");
    // The sandbox stays usable until the caller applies its restart policy.
    CHECK(sandbox->running());
    CHECK(harness.exec_status(*sandbox, {"true"}).success());

    // RestartPolicy=Always: the server restarts; the log keeps both runs.
    REQUIRE(sandbox->restart().ok());
    harness.run_until([&] { return exits.size() == 2; });
    CHECK(exits[1].generation == 2);
    CHECK(sandbox->recent_log(1 << 20) == "hello from main\noops\nhello from main\noops\n");

    // A command that cannot be executed fails like a container whose entrypoint is missing.
    std::vector<MainExit> missing_exits;
    SandboxSpec missing;
    missing.command = {"/no/such/entrypoint"};
    missing.on_main_exit = [&](const MainExit& event) { missing_exits.push_back(event); };
    auto broken = harness.start(missing);
    harness.run_until([&] { return missing_exits.size() == 1; });
    CHECK(missing_exits[0].status == ExitStatus{127, 0});
    CHECK(broken->recent_log(1000).find("/no/such/entrypoint") != std::string::npos);
}

TEST_CASE("runtime: the main process's log is bounded", "[runtime]") {
    Harness harness(false);
    std::optional<MainExit> exit;
    SandboxSpec spec;
    // 3 MiB of output, more than the 1 MiB ring.
    spec.command = {"sh", "-c", "head -c 3145728 /dev/zero | tr '\\0' 'a'; echo END"};
    spec.on_main_exit = [&](const MainExit& event) { exit = event; };
    auto sandbox = harness.start(spec);
    harness.run_until([&] { return exit.has_value(); });
    const std::string log = sandbox->recent_log(1 << 30);
    CHECK(log.size() == 1024 * 1024);
    CHECK(log.substr(log.size() - 5) == "aEND\n");
}

TEST_CASE("runtime: fifty sandboxes start and are all cleaned up", "[runtime][scale]") {
    const bool degraded = GENERATE(false, true);
    Harness harness(degraded);
    if (!harness.mode_available(degraded))
        return;
    std::vector<std::shared_ptr<SandboxProcesses>> sandboxes;
    for (int i = 0; i < 50; ++i) {
        sandboxes.push_back(harness.start({}));
        CHECK(harness.exec_status(*sandboxes.back(), {"sh", "-c", "sleep 1000 >/dev/null 2>&1 &"})
                  .success());
    }
    // Isolated: one init and one sleep per sandbox; degraded: just the sleeps.
    CHECK(harness.runtime->live_process_count() == (degraded ? 50U : 100U));
    CHECK(harness.runtime->sandbox_count() == 50);
    harness.runtime->shutdown();
    CHECK(harness.runtime->live_process_count() == 0);
    CHECK(pids_with_marker("ECI_EMULATOR_INSTANCE=" + harness.runtime->instance()).empty());
    CHECK_FALSE(sandboxes.front()->running());
    CHECK_FALSE(harness.runtime->start({}).ok());
}

TEST_CASE("runtime: sandbox ids are validated and unique", "[runtime]") {
    Harness harness(true);
    SandboxSpec spec;
    spec.id = "../escape";
    CHECK(harness.runtime->start(spec).error().kind == eci::ErrorKind::invalid_argument);
    spec.id = "same";
    auto first = harness.start(spec);
    CHECK_FALSE(harness.runtime->start(spec).ok());
    REQUIRE(first->destroy().ok());
    CHECK(harness.runtime->start(spec).ok());
}

TEST_CASE("runtime: a sandbox whose init is killed from outside is reported lost", "[runtime]") {
    Harness harness(false);
    if (!harness.mode_available(false))
        return;
    std::optional<MainExit> exit;
    SandboxSpec spec;
    spec.command = {"sleep", "1000"};
    spec.on_main_exit = [&](const MainExit& event) { exit = event; };
    auto sandbox = harness.start(spec);
    CHECK(sandbox->main_running());
    REQUIRE(sandbox->init_pid() > 0);
    REQUIRE(::kill(sandbox->init_pid(), SIGKILL) == 0);
    harness.run_until([&] { return exit.has_value(); });
    CHECK(exit->sandbox_lost);
    CHECK(exit->status == ExitStatus{0, SIGKILL});
    CHECK_FALSE(sandbox->running());
    CHECK(pids_with_marker("ECI_EMULATOR_SANDBOX=" + sandbox->id()).empty());
    REQUIRE(sandbox->restart().ok());
    CHECK(sandbox->main_running());
}

// Hidden (run with "[.scale1000]"): the cost of 1000 idle sandboxes.
TEST_CASE("runtime: a thousand idle sandboxes", "[.scale1000]") {
    Harness harness(false);
    if (!harness.mode_available(false))
        return;
    std::vector<std::shared_ptr<SandboxProcesses>> sandboxes;
    const auto begin = std::chrono::steady_clock::now();
    for (int i = 0; i < 1000; ++i)
        sandboxes.push_back(harness.start({}));
    const auto started = std::chrono::steady_clock::now();
    CHECK(harness.runtime->live_process_count() == 1000);
    harness.runtime->shutdown();
    const auto stopped = std::chrono::steady_clock::now();
    CHECK(harness.runtime->live_process_count() == 0);
    WARN("start: "
         << std::chrono::duration_cast<std::chrono::milliseconds>(started - begin).count()
         << " ms, shutdown: "
         << std::chrono::duration_cast<std::chrono::milliseconds>(stopped - started).count()
         << " ms");
}

// Hidden (run with "[.start-exec-bench]"): what one sandbox start and one exec cost, as
// medians over 50 of each, with and without user namespaces (docs/emulator-runtime.md
// quotes the figures).
TEST_CASE("runtime: sandbox start and exec latency", "[.start-exec-bench]") {
    const bool userns = GENERATE(true, false);
    Harness harness(false, [&](RuntimeOptions& options) { options.user_namespace = userns; });
    if (!harness.mode_available(false))
        return;
    using clock = std::chrono::steady_clock;
    auto median_us = [](std::vector<clock::duration> samples) {
        std::sort(samples.begin(), samples.end());
        return std::chrono::duration_cast<std::chrono::microseconds>(samples[samples.size() / 2])
            .count();
    };
    std::vector<clock::duration> starts;
    std::vector<std::shared_ptr<SandboxProcesses>> sandboxes;
    for (int i = 0; i < 50; ++i) {
        const auto begin = clock::now();
        sandboxes.push_back(harness.start({}));
        starts.push_back(clock::now() - begin);
    }
    std::vector<clock::duration> execs;
    for (int i = 0; i < 50; ++i) {
        const auto begin = clock::now();
        CHECK(harness.exec_status(*sandboxes[0], {"true"}).success());
        execs.push_back(clock::now() - begin);
    }
    WARN((userns ? "user namespace" : "no user namespace")
         << ": sandbox start median: " << median_us(starts)
         << " us, exec of true (start to exit) median: " << median_us(execs) << " us");
}

TEST_CASE("runtime: without user namespaces the runtime isolates all the same, and warns",
          "[runtime]") {
    std::vector<std::string> warnings;
    Harness harness(false, [&](RuntimeOptions& options) {
        options.refuse_user_namespaces = true;
        options.warning = [&](std::string_view text) { warnings.emplace_back(text); };
    });
    if (!harness.mode_available(false))
        return;
    CHECK_FALSE(harness.runtime->userns());
    CHECK(harness.runtime->userns_reason().find("user namespaces unavailable") !=
          std::string::npos);
    bool warned = false;
    for (const auto& text : warnings)
        warned = warned || text.find("NO user namespace") != std::string::npos;
    CHECK(warned);
    auto sandbox = harness.start({});
    Output output = harness.exec(*sandbox, shell("awk '{print $1, $2, $3}' /proc/self/uid_map"));
    CHECK(output.out == "0 0 4294967295\n");
}

TEST_CASE("runtime: each sandbox's root is its own host id range, reused after it stops",
          "[runtime]") {
    Harness harness(false, [](RuntimeOptions& options) { options.userns_base = 200000; });
    if (!harness.mode_available(false))
        return;
    REQUIRE(harness.runtime->userns());
    auto uid_map = [&](SandboxProcesses& sandbox) {
        return harness.exec(sandbox, shell("awk '{print $1, $2, $3}' /proc/self/uid_map")).out;
    };
    auto first = harness.start({});
    auto second = harness.start({});
    CHECK(uid_map(*first) == "0 200000 65536\n");
    CHECK(uid_map(*second) == "0 265536 65536\n");
    REQUIRE(first->destroy().ok());
    auto third = harness.start({});
    CHECK(uid_map(*third) == "0 200000 65536\n");
}
