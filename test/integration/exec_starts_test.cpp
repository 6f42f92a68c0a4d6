// SPDX-License-Identifier: Apache-2.0
// What starting exec WebSockets costs and how many start at once: a second exec WebSocket
// resumes the first one's TLS session, and RateLimitConfig::max_concurrent_exec_starts queues
// the starts beyond the cap (all of them still complete).
#include "integration/sandbox_fixture.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include <optional>
#include <string>
#include <vector>

using namespace eci;
using namespace eci::test;
namespace asio = boost::asio;
using std::chrono::milliseconds;
using std::chrono::seconds;

TEST_CASE("exec starts: the second exec WebSocket resumes the first one's TLS session",
          "[exec-starts][tls-session]") {
    AsyncSandboxFixture fx;
    fx.run([&]() -> asio::awaitable<void> {
        auto sandbox = co_await make_running_sandbox(*fx.client, "resume-ws");
        const auto before = fx.client->api().stats();
        auto first = co_await sandbox.bash("echo one");
        require_ok(first);
        CHECK(first->stdout_text == "one\n");
        auto second = co_await sandbox.bash("echo two");
        require_ok(second);
        CHECK(second->stdout_text == "two\n");
        const auto after = fx.client->api().stats();
        CHECK(after.ws_connections - before.ws_connections == 2);
        // The first may have resumed too (a ticket from an earlier WebSocket of this client);
        // the second always has a ticket to offer.
        CHECK(after.ws_tls_resumptions - before.ws_tls_resumptions >= 1);
        CHECK(after.ws_tls_resumptions <= after.ws_connections);

        // A ShellSession's WebSocket resumes as well.
        const auto session_before = fx.client->api().stats();
        auto session = co_await ShellSession::open(sandbox);
        require_ok(session);
        auto ran = co_await session->run("echo three");
        require_ok(ran);
        CHECK(ran->stdout_text == "three\n");
        const auto session_after = fx.client->api().stats();
        CHECK(session_after.ws_connections - session_before.ws_connections == 1);
        CHECK(session_after.ws_tls_resumptions - session_before.ws_tls_resumptions == 1);
        (void)co_await session->close();
    });
}

namespace {

enum class Channel { argv, stdin_ };

// Starts `commands` echoes at once on `sandbox` (bash: the command in argv; bash_ws: on
// stdin), waits for all of them (30 s at most) and returns how many printed what they should.
asio::awaitable<int> echo_at_once(asio::io_context& io, AsyncSandbox& sandbox, int commands,
                                  Channel channel) {
    int done = 0;
    int succeeded = 0;
    for (int i = 0; i < commands; ++i) {
        asio::co_spawn(
            io,
            [&, i]() -> asio::awaitable<void> {
                auto command = "echo run-" + std::to_string(i);
                std::optional<Result<CommandResult>> ran;
                if (channel == Channel::argv)
                    ran.emplace(co_await sandbox.bash(std::move(command)));
                else
                    ran.emplace(co_await sandbox.bash_ws(std::move(command)));
                if (ran->ok() && (*ran)->stdout_text == "run-" + std::to_string(i) + "\n")
                    ++succeeded;
                ++done;
            },
            asio::detached);
    }
    const bool finished = co_await wait_until([&] { return done == commands; }, seconds(30));
    REQUIRE(finished);
    co_return succeeded;
}

}  // namespace

TEST_CASE("exec starts: starts beyond max_concurrent_exec_starts wait their turn and complete",
          "[exec-starts][serial]") {
    AsyncSandboxFixture fx;
    auto config = client_config_for(fx.emulator->ready());
    config.rate_limit.max_concurrent_exec_starts = 2;
    auto capped = AsyncEciSandbox::from_config(fx.io.get_executor(), config);
    REQUIRE(capped.ok());
    fx.run([&]() -> asio::awaitable<void> {
        auto made = co_await make_running_sandbox(*fx.client, "capped-starts");
        // The same sandbox through the capped client (container name known: no describe).
        AsyncSandbox sandbox(*capped, made.id(), made.container_name());
        constexpr int commands = 6;
        const int succeeded = co_await echo_at_once(fx.io, sandbox, commands, Channel::argv);
        CHECK(succeeded == commands);
        const auto stats = capped->api().stats();
        // Two started at once, the other four waited for a slot.
        CHECK(stats.exec_start_waits == commands - 2);
        CHECK(stats.ws_connections == commands);
    });
}

TEST_CASE("exec starts: a start waiting on its ExecContainerCommand holds no start slot",
          "[exec-starts]") {
    // One start slot, and one ExecContainerCommand a second on the client's own limiter: the
    // three commands' calls go out a second apart. bash_ws sends its command on stdin, so
    // nothing can run before its WebSocket connects. A slot taken before the call (the old
    // order) was held through that wait, so the second and third start queued for it; taken
    // once the call has answered, each start finds it free (a connect takes milliseconds).
    AsyncSandboxFixture fx;
    auto config = client_config_for(fx.emulator->ready());
    config.rate_limit.max_concurrent_exec_starts = 1;
    config.rate_limit.enabled = true;
    config.rate_limit.per_action["ExecContainerCommand"] = ActionRateLimit{60, 1};
    auto capped = AsyncEciSandbox::from_config(fx.io.get_executor(), config);
    REQUIRE(capped.ok());
    fx.run([&]() -> asio::awaitable<void> {
        auto made = co_await make_running_sandbox(*fx.client, "slot-after-call");
        AsyncSandbox sandbox(*capped, made.id(), made.container_name());
        constexpr int commands = 3;
        const int succeeded = co_await echo_at_once(fx.io, sandbox, commands, Channel::stdin_);
        CHECK(succeeded == commands);
        const auto stats = capped->api().stats();
        CHECK(stats.rate_limited_waits >= 2);
        CHECK(stats.exec_start_waits == 0);
        CHECK(stats.ws_connections == commands);
    });
}
