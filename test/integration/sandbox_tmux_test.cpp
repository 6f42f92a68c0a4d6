// SPDX-License-Identifier: Apache-2.0
// tmux jobs end to end against the emulator (real tmux in each sandbox): start, poll, wait
// with backoff, kill, list, refusals, the long-command script file, timeouts, cancellation.
#include "integration/sandbox_fixture.hpp"

#include "core/encoding.hpp"
#include "core/tmux_commands.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

using namespace eci;
using namespace eci::test;
namespace asio = boost::asio;
using std::chrono::milliseconds;
using std::chrono::seconds;
using std::chrono::steady_clock;

namespace {

std::uint64_t calls(const AsyncEciSandbox& client, std::string_view action) {
    auto stats = client.api().stats();
    auto found = stats.api_calls.find(action);
    return found == stats.api_calls.end() ? 0 : found->second;
}

// Polls (every 50 ms) until `accept` holds for the poll result, or `limit` passes.
template <class Accept>
asio::awaitable<std::optional<TmuxPollResult>> poll_until(AsyncSandbox& sandbox, std::string id,
                                                          Accept accept, milliseconds limit) {
    const auto deadline = steady_clock::now() + limit;
    asio::steady_timer timer(co_await asio::this_coro::executor);
    for (;;) {
        auto polled = co_await sandbox.tmux_poll(id);
        if (!polled.ok())
            FAIL("poll: " << polled.error().to_string());
        if (accept(*polled))
            co_return std::move(*polled);
        if (steady_clock::now() >= deadline)
            co_return std::nullopt;
        timer.expires_after(milliseconds(50));
        co_await timer.async_wait(asio::use_awaitable);
    }
}

bool has_session(const std::vector<TmuxSessionInfo>& sessions, const std::string& id) {
    return std::any_of(sessions.begin(), sessions.end(),
                       [&](const TmuxSessionInfo& s) { return s.session_id == id; });
}

}  // namespace

TEST_CASE("sandbox tmux: a 5 s job observed by tmux_wait with backoff", "[tmux]") {
    AsyncSandboxFixture fx;
    fx.run(
        [&]() -> asio::awaitable<void> {
            auto sandbox = co_await make_running_sandbox(*fx.client, "tmux-5s");
            const auto begun = steady_clock::now();
            auto id = co_await sandbox.tmux_start(
                "for i in 1 2 3 4 5; do echo tick $i; sleep 1; done; exit 3");
            require_ok(id);
            CHECK(id->starts_with("eci_cmd_"));
            CHECK(id->size() == 8 + 12);
            auto first = co_await sandbox.tmux_poll(*id);
            require_ok(first);
            CHECK(first->status == TmuxStatus::running);
            CHECK(first->session_id == *id);
            CHECK_FALSE(first->request_id.empty());

            const auto execs_before = calls(*fx.client, "ExecContainerCommand");
            TmuxWaitOptions wait;
            wait.timeout = seconds(30);
            wait.poll_interval = milliseconds(100);
            wait.backoff_factor = 1.5;
            wait.max_poll_interval = milliseconds(1000);
            auto done = co_await sandbox.tmux_wait(*id, wait);
            const auto took = steady_clock::now() - begun;
            require_ok(done);
            CHECK(done->status == TmuxStatus::completed);
            REQUIRE(done->exit_code.has_value());
            CHECK(*done->exit_code == 3);
            CHECK(done->output.find("tick 1\ntick 2\ntick 3\ntick 4\ntick 5") != std::string::npos);
            CHECK(done->output.find("__ECI_MARKER") == std::string::npos);
            CHECK(took >= seconds(4));
            // Backoff: ~5 s at 0.1 s x1.5 up to 1 s is about 10 polls (+1 cleanup kill);
            // a fixed 100 ms interval would need about 50.
            const auto execs = calls(*fx.client, "ExecContainerCommand") - execs_before;
            CHECK(execs >= 4);
            CHECK(execs <= 16);
            // cleanup (the default) killed the session.
            auto gone = co_await sandbox.tmux_poll(*id);
            require_ok(gone);
            CHECK(gone->status == TmuxStatus::not_found);
            CHECK(to_string(gone->status) == "not_found");
        },
        seconds(60));
}

TEST_CASE("sandbox tmux: poll sees running, then completed, one exec and no describe each",
          "[tmux]") {
    AsyncSandboxFixture fx;
    fx.run([&]() -> asio::awaitable<void> {
        auto sandbox = co_await make_running_sandbox(*fx.client, "tmux-poll");
        TmuxStartOptions start;
        start.session_id = "gate-job";
        auto id = co_await sandbox.tmux_start(
            "echo begun; while [ ! -f /tmp/go ]; do sleep 0.05; done; echo finished", start);
        require_ok(id);
        CHECK(*id == "gate-job");
        auto running = co_await poll_until(
            sandbox, *id,
            [](const TmuxPollResult& p) {
                return p.status == TmuxStatus::running &&
                       p.output.find("begun") != std::string::npos;
            },
            milliseconds(10000));
        REQUIRE(running.has_value());
        CHECK_FALSE(running->exit_code.has_value());

        // A poll on a handle costs exactly one ExecContainerCommand and no describe.
        const auto execs = calls(*fx.client, "ExecContainerCommand");
        const auto describes = calls(*fx.client, "DescribeContainerGroups");
        auto one = co_await sandbox.tmux_poll(*id);
        require_ok(one);
        CHECK(calls(*fx.client, "ExecContainerCommand") == execs + 1);
        CHECK(calls(*fx.client, "DescribeContainerGroups") == describes);

        auto go = co_await sandbox.write_file_ws("/tmp/go", "");
        require_ok(go);
        auto done = co_await poll_until(
            sandbox, *id, [](const TmuxPollResult& p) { return p.status != TmuxStatus::running; },
            milliseconds(10000));
        REQUIRE(done.has_value());
        CHECK(done->status == TmuxStatus::completed);
        CHECK(done->exit_code == 0);
        CHECK(done->output == "begun\nfinished");
        // remain-on-exit kept the completed session until it is killed.
        auto killed = co_await sandbox.tmux_kill(*id);
        require_ok(killed);
        CHECK(*killed);
    });
}

TEST_CASE("sandbox tmux: an existing session id is refused and the command runs once", "[tmux]") {
    AsyncSandboxFixture fx;
    fx.run([&]() -> asio::awaitable<void> {
        auto sandbox = co_await make_running_sandbox(*fx.client, "tmux-dup");
        TmuxStartOptions start;
        start.session_id = "dup-job";
        const std::string command = "echo ran >> /tmp/dup.log; sleep 30";
        auto first = co_await sandbox.tmux_start(command, start);
        require_ok(first);
        auto appended = co_await poll_until(
            sandbox, *first,
            [](const TmuxPollResult& p) { return p.status == TmuxStatus::running; },
            milliseconds(5000));
        REQUIRE(appended.has_value());
        auto check_log = co_await sandbox.bash(
            "for i in $(seq 100); do [ -s /tmp/dup.log ] && break; sleep 0.05; done; "
            "cat /tmp/dup.log");
        require_ok(check_log);
        REQUIRE(check_log->stdout_text == "ran\n");

        auto second = co_await sandbox.tmux_start(command, start);
        REQUIRE_FALSE(second.ok());
        CHECK(second.error().kind == ErrorKind::invalid_argument);
        CHECK(second.error().message.find("already exists") != std::string::npos);
        // The refusal happened before tmux made anything: one session, one line.
        auto sessions = co_await sandbox.tmux_list();
        require_ok(sessions);
        CHECK(std::count_if(sessions->begin(), sessions->end(), [](const TmuxSessionInfo& s) {
                  return s.session_id == "dup-job";
              }) == 1);
        auto log = co_await sandbox.bash("cat /tmp/dup.log");
        require_ok(log);
        CHECK(log->stdout_text == "ran\n");
        auto killed = co_await sandbox.tmux_kill("dup-job");
        require_ok(killed);
        CHECK(*killed);
    });
}

TEST_CASE("sandbox tmux: invalid session ids are refused before any exec", "[tmux]") {
    AsyncSandboxFixture fx;
    fx.run([&]() -> asio::awaitable<void> {
        auto sandbox = co_await make_running_sandbox(*fx.client, "tmux-ids");
        const auto execs = calls(*fx.client, "ExecContainerCommand");
        const std::vector<std::string> bad_ids = {"has space",
                                                  "semi;colon",
                                                  "quote'",
                                                  "dollar$x",
                                                  "ünï",
                                                  std::string(65, 'a'),
                                                  std::string("nul\0x", 5)};
        for (const auto& bad : bad_ids) {
            TmuxStartOptions start;
            start.session_id = bad;
            auto started = co_await sandbox.tmux_start("true", start);
            REQUIRE_FALSE(started.ok());
            CHECK(started.error().kind == ErrorKind::invalid_argument);
            auto polled = co_await sandbox.tmux_poll(bad);
            REQUIRE_FALSE(polled.ok());
            CHECK(polled.error().kind == ErrorKind::invalid_argument);
            auto waited = co_await sandbox.tmux_wait(bad);
            REQUIRE_FALSE(waited.ok());
            CHECK(waited.error().kind == ErrorKind::invalid_argument);
            auto killed = co_await sandbox.tmux_kill(bad);
            REQUIRE_FALSE(killed.ok());
            CHECK(killed.error().kind == ErrorKind::invalid_argument);
        }
        auto empty_poll = co_await sandbox.tmux_poll("");
        REQUIRE_FALSE(empty_poll.ok());
        CHECK(empty_poll.error().kind == ErrorKind::invalid_argument);
        TmuxStartOptions zero_history;
        zero_history.history_limit = 0;
        auto refused = co_await sandbox.tmux_start("true", zero_history);
        REQUIRE_FALSE(refused.ok());
        CHECK(refused.error().kind == ErrorKind::invalid_argument);
        CHECK(calls(*fx.client, "ExecContainerCommand") == execs);
    });
}

TEST_CASE("sandbox tmux: a long command goes through the script file", "[tmux]") {
    AsyncSandboxFixture fx;
    fx.run([&]() -> asio::awaitable<void> {
        auto sandbox = co_await make_running_sandbox(*fx.client, "tmux-long");
        std::string command;
        for (int i = 0; i < 60; ++i)
            command += "v" + std::to_string(i) + "='é value " + std::to_string(i) + "'\n";
        command += "echo \"long-ok $v0|$v59\"; exit 5";
        REQUIRE(detail::base64_encode(command).size() > detail::tmux_inline_base64_limit);
        TmuxStartOptions start;
        start.session_id = "long-job";
        auto id = co_await sandbox.tmux_start(command, start);
        require_ok(id);
        auto script = co_await sandbox.bash("test -f /tmp/tmux_cmd_long-job.sh");
        require_ok(script);
        CHECK(script->exit_code == 0);
        TmuxWaitOptions wait;
        wait.timeout = seconds(20);
        auto done = co_await sandbox.tmux_wait(*id, wait);
        require_ok(done);
        INFO("status " << to_string(done->status) << ", output: " << done->output);
        CHECK(done->status == TmuxStatus::completed);
        CHECK(done->exit_code == 5);
        CHECK(done->output.find("long-ok é value 0|é value 59") != std::string::npos);
        // The cleanup kill removed the script file too.
        auto removed = co_await sandbox.bash("test -e /tmp/tmux_cmd_long-job.sh");
        require_ok(removed);
        CHECK(removed->exit_code == 1);
    });
}

TEST_CASE("sandbox tmux: exec_dir with a quote and a space", "[tmux]") {
    AsyncSandboxFixture fx;
    fx.run([&]() -> asio::awaitable<void> {
        auto sandbox = co_await make_running_sandbox(*fx.client, "tmux-dir");
        auto made = co_await sandbox.bash("mkdir -p \"/tmp/it's a dir\"");
        require_ok(made);
        TmuxStartOptions start;
        start.exec_dir = "/tmp/it's a dir";
        auto id = co_await sandbox.tmux_start("pwd; exit 0", start);
        require_ok(id);
        TmuxWaitOptions wait;
        wait.timeout = seconds(20);
        auto done = co_await sandbox.tmux_wait(*id, wait);
        require_ok(done);
        CHECK(done->exit_code == 0);
        CHECK(done->output == "/tmp/it's a dir");
    });
}

TEST_CASE("sandbox tmux: 20 jobs that exit at once all report code 7 and their output", "[tmux][serial]") {
    AsyncSandboxFixture fx;
    fx.run(
        [&]() -> asio::awaitable<void> {
            auto sandbox = co_await make_running_sandbox(*fx.client, "tmux-instant");
            std::vector<std::string> ids;
            for (int i = 0; i < 20; ++i) {
                TmuxStartOptions start;
                start.session_id = "instant-" + std::to_string(i);
                auto id = co_await sandbox.tmux_start(
                    "echo instant " + std::to_string(i) + "; exit 7", start);
                require_ok(id);
                ids.push_back(*id);
            }
            for (std::size_t i = 0; i < ids.size(); ++i) {
                TmuxWaitOptions wait;
                wait.timeout = seconds(20);
                auto done = co_await sandbox.tmux_wait(ids[i], wait);
                require_ok(done);
                INFO("job " << i << " status " << to_string(done->status)
                            << ", output: " << done->output);
                CHECK(done->status == TmuxStatus::completed);
                CHECK(done->exit_code == 7);
                CHECK(done->output == "instant " + std::to_string(i));
            }
            // The cleanup kills removed the exit-code files too.
            auto left = co_await sandbox.bash("ls /tmp | grep -c '^eci_tmux_instant-' || true");
            require_ok(left);
            CHECK(left->stdout_text == "0\n");
        },
        seconds(90));
}

TEST_CASE("sandbox tmux: list, kill, then poll is not_found (client and handle)", "[tmux]") {
    AsyncSandboxFixture fx;
    fx.run([&]() -> asio::awaitable<void> {
        auto sandbox = co_await make_running_sandbox(*fx.client, "tmux-list");
        auto empty = co_await sandbox.tmux_list();
        require_ok(empty);
        CHECK(empty->empty());
        auto a = co_await sandbox.tmux_start("sleep 30");
        require_ok(a);
        // By id on the client.
        auto b = co_await fx.client->tmux_start(sandbox.id(), "sleep 30");
        require_ok(b);
        auto listed = co_await fx.client->tmux_list(sandbox.id());
        require_ok(listed);
        CHECK(listed->size() == 2);
        CHECK(has_session(*listed, *a));
        CHECK(has_session(*listed, *b));
        for (const auto& s : *listed)
            CHECK(s.created > 1600000000);

        auto killed = co_await sandbox.tmux_kill(*a);
        require_ok(killed);
        CHECK(*killed);
        auto polled = co_await sandbox.tmux_poll(*a);
        require_ok(polled);
        CHECK(polled->status == TmuxStatus::not_found);
        auto again = co_await fx.client->tmux_kill(sandbox.id(), *a);
        require_ok(again);
        CHECK_FALSE(*again);
        // Waiting for a gone session ends at once with not_found.
        auto waited = co_await sandbox.tmux_wait(*a);
        require_ok(waited);
        CHECK(waited->status == TmuxStatus::not_found);
        auto left = co_await sandbox.tmux_list();
        require_ok(left);
        CHECK_FALSE(has_session(*left, *a));
        CHECK(has_session(*left, *b));
        auto by_id = co_await fx.client->tmux_poll(sandbox.id(), *b);
        require_ok(by_id);
        CHECK(by_id->status == TmuxStatus::running);
        auto killed_b = co_await sandbox.tmux_kill(*b);
        CHECK(killed_b.ok());
    });
}

TEST_CASE("sandbox tmux: a wait that times out carries the last output", "[tmux]") {
    AsyncSandboxFixture fx;
    fx.run([&]() -> asio::awaitable<void> {
        auto sandbox = co_await make_running_sandbox(*fx.client, "tmux-timeout");
        auto id = co_await sandbox.tmux_start("echo waiting-here; sleep 30");
        require_ok(id);
        auto printed = co_await poll_until(
            sandbox, *id,
            [](const TmuxPollResult& p) {
                return p.output.find("waiting-here") != std::string::npos;
            },
            milliseconds(10000));
        REQUIRE(printed.has_value());
        TmuxWaitOptions wait;
        wait.timeout = milliseconds(1000);
        const auto begun = steady_clock::now();
        auto waited = co_await sandbox.tmux_wait(*id, wait);
        const auto took = steady_clock::now() - begun;
        REQUIRE_FALSE(waited.ok());
        CHECK(waited.error().kind == ErrorKind::timeout);
        REQUIRE(waited.error().partial != nullptr);
        CHECK(waited.error().partial->outcome == CommandOutcome::timed_out);
        CHECK(waited.error().partial->stdout_text == "waiting-here");
        CHECK(waited.error().partial->output == "waiting-here");
        CHECK(took >= milliseconds(1000));
        CHECK(took < seconds(10));
        // cleanup also runs after a timeout.
        auto gone = co_await sandbox.tmux_poll(*id);
        require_ok(gone);
        CHECK(gone->status == TmuxStatus::not_found);
    });
}

TEST_CASE("sandbox tmux: a cancelled wait returns cancelled within 100 ms", "[tmux][serial]") {
    AsyncSandboxFixture fx;
    fx.run([&]() -> asio::awaitable<void> {
        auto sandbox = co_await make_running_sandbox(*fx.client, "tmux-cancel");
        auto id = co_await sandbox.tmux_start("echo cancel-me; sleep 30");
        require_ok(id);
        // Cancel at several points of the backoff cycle (during a sleep or a poll).
        const std::vector<int> cancel_after_ms = {30, 260, 700};
        for (int delay_ms : cancel_after_ms) {
            asio::cancellation_signal signal;
            std::optional<Result<TmuxPollResult>> outcome;
            steady_clock::time_point finished;
            auto executor = co_await asio::this_coro::executor;
            asio::co_spawn(
                executor,
                [&]() -> asio::awaitable<void> {
                    TmuxWaitOptions wait;
                    wait.timeout = seconds(30);
                    outcome.emplace(co_await sandbox.tmux_wait(*id, wait));
                    finished = steady_clock::now();
                },
                asio::bind_cancellation_slot(signal.slot(), [](std::exception_ptr e) {
                    if (e)
                        std::rethrow_exception(e);
                }));
            asio::steady_timer timer(executor, milliseconds(delay_ms));
            co_await timer.async_wait(asio::use_awaitable);
            REQUIRE_FALSE(outcome.has_value());
            const auto emitted = steady_clock::now();
            signal.emit(asio::cancellation_type::terminal);
            const bool done = co_await wait_until([&] { return outcome.has_value(); }, seconds(5));
            REQUIRE(done);
            CHECK(finished - emitted < milliseconds(100));
            REQUIRE_FALSE(outcome->ok());
            CHECK(outcome->error().kind == ErrorKind::cancelled);
        }
        // Cancelling the wait leaves the job alone.
        auto still = co_await sandbox.tmux_poll(*id);
        require_ok(still);
        CHECK(still->status == TmuxStatus::running);
        auto killed = co_await sandbox.tmux_kill(*id);
        CHECK(killed.ok());
    });
}
