// SPDX-License-Identifier: Apache-2.0
// The defaults hold (issue 14): with the DEFAULT client configuration (retry budget, backoffs,
// throttle gate, session options untouched), sandbox lifecycles on shell sessions under the
// fault mix of the issue (20% throttling, 5% 503, 2% resets, 2% WebSocket drops) all complete,
// and nothing is left in the emulator: no sandbox, no process. The full-size runs (100 and
// 1000 lifecycles, several seeds, both bench modes) are bench commands in docs/performance.md.
#include "integration/sandbox_fixture.hpp"

#include <eci/shell_session.hpp>

#include <boost/asio/detached.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <optional>
#include <string>
#include <vector>

using namespace eci;
using namespace eci::test;
namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {

// One lifecycle as a user writes it: create and wait, a session, commands, a tmux job,
// delete. Returns the first failure, or an empty string.
asio::awaitable<std::string> session_lifecycle(AsyncEciSandbox& client, int n) {
    CreateOptions create;
    create.image = "registry.example/ubuntu:22.04";
    create.name = fmt::format("defaults-{}", n);
    create.wait_until_running = true;
    auto sandbox = co_await client.create(std::move(create));
    if (!sandbox.ok())
        co_return "create: " + sandbox.error().to_string();
    std::string failure;
    auto opened = co_await ShellSession::open(*sandbox);
    if (!opened.ok()) {
        failure = "session: " + opened.error().to_string();
    } else {
        auto session = std::move(opened).value();
        for (int i = 0; i < 2 && failure.empty(); ++i) {
            ShellRunOptions exec;
            exec.idempotent = true;
            const auto expected = fmt::format("{}-{}", sandbox->id(), i);
            auto ran = co_await session.run(fmt::format("echo {}", expected), std::move(exec));
            if (!ran.ok())
                failure = fmt::format("command {}: {}", i, ran.error().to_string());
            else if (ran->stdout_text != expected + "\n")
                failure = fmt::format("command {}: stdout '{}'", i, ran->stdout_text);
        }
        if (failure.empty()) {
            TmuxStartOptions start;
            auto job = co_await session.tmux_start("sleep 0.2; exit 7", std::move(start));
            if (!job.ok()) {
                failure = "tmux_start: " + job.error().to_string();
            } else {
                TmuxWaitOptions wait;
                auto waited = co_await session.tmux_wait(*job, std::move(wait));
                if (!waited.ok())
                    failure = "tmux_wait: " + waited.error().to_string();
                else if (waited->exit_code.value_or(-1) != 7)
                    failure = fmt::format("tmux_wait: exit {}", waited->exit_code.value_or(-1));
            }
        }
        (void)co_await session.close();
    }
    auto removed = co_await sandbox->remove();
    if (!removed.ok() && failure.empty())
        failure = "delete: " + removed.error().to_string();
    co_return failure;
}

}  // namespace

TEST_CASE(
    "faults e2e: default config, 24 session lifecycles under the fault mix, none failed "
    "and nothing left",
    "[faults-e2e][no-leak][serial]") {
    constexpr int lifecycles = 24;
    auto options = sandbox_emulator_options(emulator::ExitStatusMode::channel4);
    options.faults.throttle = 0.2;
    options.faults.unavailable = 0.05;
    options.faults.reset = 0.02;
    options.faults.ws_drop = 0.02;
    options.seed = 7;
    options.start_delay = 20ms;
    // The fixture's client: the default configuration (client_config_for only points it at
    // the emulator and, as the bench does, leaves out pacing at the real service's limits).
    AsyncSandboxFixture fx(options);
    std::vector<std::optional<std::string>> failures(lifecycles);
    boost::json::object final_stats;
    fx.run(
        [&]() -> asio::awaitable<void> {
            auto executor = co_await asio::this_coro::executor;
            for (int n = 0; n < lifecycles; ++n) {
                asio::co_spawn(
                    executor,
                    [&, n]() -> asio::awaitable<void> {
                        failures[static_cast<std::size_t>(n)] =
                            co_await session_lifecycle(*fx.client, n);
                    },
                    asio::detached);
            }
            const std::function<bool()> all_done = [&] {
                return std::all_of(failures.begin(), failures.end(),
                                   [](const auto& f) { return f.has_value(); });
            };
            CHECK(co_await wait_until(all_done, 170s));
            // Before the fixture stops the emulator (which would delete any leftovers).
            final_stats = boost::json::parse(fx.emulator->stats_json()).as_object();
        },
        180s);
    int failed = 0;
    for (const auto& failure : failures) {
        INFO(failure.value_or("did not finish"));
        CHECK(failure.has_value());
        CHECK(failure.value_or("x").empty());
        failed += failure && failure->empty() ? 0 : 1;
    }
    CHECK(failed == 0);
    CHECK(final_stats.at("sandboxes").to_number<std::int64_t>() == 0);
    CHECK(final_stats.at("processes").to_number<std::int64_t>() == 0);
    const auto& injected = final_stats.at("faults_injected").as_object();
    // Checked so the test cannot pass vacuously. Which faults a seed draws depends on how the
    // lifecycles interleave, so only the frequent kinds are required: over ~130 calls a 20%
    // throttle and a 5% 503 each miss with probability under 0.2%, while a 2% reset before or
    // after the action misses one side in about one run of four (seen in a CI trial).
    // WebSocket drops at 2% seldom hit 24 sessions; "shell session: open starts a new shell
    // when the WebSocket drops ..." covers them.
    for (const char* kind : {"throttle", "unavailable"}) {
        INFO(kind);
        CHECK(injected.contains(kind));
    }
    const auto stats = fx.client->api().stats();
    WARN(fmt::format("{} API calls, {} retries, {} throttled; faults injected: {}",
                     stats.total_api_calls(), stats.retries, stats.throttled,
                     boost::json::serialize(injected)));
}
