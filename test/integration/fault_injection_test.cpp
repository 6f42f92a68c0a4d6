// SPDX-License-Identifier: Apache-2.0
// Fault injection end to end: 100 sandbox lifecycles run concurrently against an emulator that
// throttles, answers 503, resets connections and drops exec WebSockets, and every lifecycle
// still completes, with no sandbox created twice and nothing left behind.
#include "integration/sandbox_fixture.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json/parse.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

using namespace eci;
using namespace eci::test;
namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {

boost::json::object stats_of(const emulator::Emulator& emu) {
    return boost::json::parse(emu.stats_json()).as_object();
}

std::int64_t count_in(const boost::json::object& doc, std::string_view group,
                      std::string_view key) {
    const auto& inner = doc.at(group).as_object();
    const auto* value = inner.if_contains(key);
    return value ? value->to_number<std::int64_t>() : 0;
}

// What one lifecycle reached; `failure` names the first step that failed.
struct Lifecycle {
    std::string sandbox_id;
    std::string failure;
    // "step seconds" for each step reached, so a slow or stuck lifecycle says where it was.
    std::string steps;
    std::chrono::steady_clock::time_point step_started = std::chrono::steady_clock::now();
    double seconds = 0;
    bool created = false;
    bool done = false;

    void step(std::string_view name) {
        const auto now = std::chrono::steady_clock::now();
        seconds += std::chrono::duration<double>(now - step_started).count();
        steps += fmt::format("{} {:.2f}s; ", name,
                             std::chrono::duration<double>(now - step_started).count());
        step_started = now;
    }
};

}  // namespace

TEST_CASE("faults e2e: 100 lifecycles under throttling, 503s, resets and WebSocket drops",
          "[faults-e2e][serial]") {
    // Under ASan every exec start (now also three cgroup joins per exec on a cgroup v1 host,
    // issue 19) runs several times slower: 100 lifecycles took 112 s there in a CI trial, past
    // the 110 s bound below, against 56 s in the dev build. The sanitized build runs half the
    // lifecycles; the dev build keeps the full 100.
// Half the lifecycles also means half the exec WebSockets (about 250): at a 2 % drop rate
// none is dropped in 0.7 % of runs (seen once in session 13's trial), so the sanitized build
// drops at 4 % (none dropped: 0.004 %, as the dev build's 500 at 2 %).
#if defined(__SANITIZE_ADDRESS__)
    constexpr int lifecycles = 50;
    constexpr double ws_drop = 0.04;
#else
    constexpr int lifecycles = 100;
    constexpr double ws_drop = 0.02;
#endif
    constexpr int commands = 2;
    auto options = sandbox_emulator_options();
    options.faults.throttle = 0.2;
    options.faults.unavailable = 0.05;
    options.faults.reset = 0.02;
    options.faults.ws_drop = ws_drop;
    options.seed = 20261127;
    AsyncSandboxFixture fx(options);

    auto config = client_config_for(fx.emulator->ready());
    config.retry.max_attempts = 30;
    config.retry.initial_backoff = 5ms;
    config.retry.max_backoff = 200ms;
    config.retry.overall_deadline = 90s;
    // The faults throttle at random, not because of load: the default 1 s gate (right for
    // the service's per-minute limits) would make this test measure the gate, not the faults.
    config.retry.throttle_initial_backoff = 50ms;
    config.retry.throttle_max_backoff = 400ms;
    auto made = AsyncEciSandbox::from_config(fx.io.get_executor(), config);
    REQUIRE(made.ok());
    auto client = std::move(made).value();

    std::vector<Lifecycle> results(lifecycles);
    int created_count = 0;
    int finished = 0;
    std::int64_t sandboxes_after_creates = -1;
    // Opened (cancelled) once every create has returned; the lifecycles wait on it.
    asio::steady_timer all_created(fx.io, asio::steady_timer::time_point::max());
    boost::json::object final_stats;

    fx.run(
        [&]() -> asio::awaitable<void> {
            auto executor = co_await asio::this_coro::executor;
            for (int n = 0; n < lifecycles; ++n) {
                asio::co_spawn(
                    executor,
                    [&, n]() -> asio::awaitable<void> {
                        auto& life = results[static_cast<std::size_t>(n)];
                        auto fail = [&](std::string step, const Error& error) {
                            life.failure = fmt::format("{}: {}", step, error.to_string());
                        };
                        CreateOptions create;
                        create.image = "registry.example/ubuntu:22.04";
                        create.name = fmt::format("faults-{}", n);
                        create.wait_until_running = true;
                        create.wait_timeout = 60s;
                        life.step_started = std::chrono::steady_clock::now();
                        auto sandbox = co_await client.create(std::move(create));
                        life.step("create");
                        ++created_count;
                        if (!sandbox.ok()) {
                            fail("create", sandbox.error());
                            ++finished;
                            if (created_count == lifecycles)
                                all_created.cancel();
                            co_return;
                        }
                        life.sandbox_id = sandbox->id();
                        life.created = true;
                        // Every create has returned before any delete: the emulator's sandbox
                        // count then is the number of creates that took effect.
                        if (created_count == lifecycles) {
                            sandboxes_after_creates =
                                stats_of(*fx.emulator).at("sandboxes").to_number<std::int64_t>();
                            all_created.cancel();
                        } else {
                            (void)co_await all_created.async_wait(
                                asio::as_tuple(asio::use_awaitable));
                        }
                        life.step("wait for all creates");

                        for (int i = 0; i < commands; ++i) {
                            ExecOptions exec;
                            exec.idempotent = true;
                            exec.timeout = 60s;
                            const auto expected = fmt::format("{}-{}", sandbox->id(), i);
                            auto command = fmt::format("echo {}", expected);
                            auto ran = co_await sandbox->bash(std::move(command), std::move(exec));
                            life.step(fmt::format("bash {}", i));
                            if (!ran.ok()) {
                                fail(fmt::format("bash {}", i), ran.error());
                                ++finished;
                                co_return;
                            }
                            if (!ran->success() || ran->stdout_text != expected + "\n") {
                                life.failure =
                                    fmt::format("bash {}: exit {} stdout '{}'", i,
                                                ran->exit_code.value_or(-1), ran->stdout_text);
                                ++finished;
                                co_return;
                            }
                        }

                        TmuxStartOptions start;
                        start.timeout = 60s;
                        std::string job_command = "sleep 0.2; echo job-done; exit 5";
                        auto job =
                            co_await sandbox->tmux_start(std::move(job_command), std::move(start));
                        life.step("tmux_start");
                        if (!job.ok()) {
                            fail("tmux_start", job.error());
                            ++finished;
                            co_return;
                        }
                        TmuxWaitOptions wait;
                        wait.timeout = 60s;
                        wait.poll_interval = 100ms;
                        wait.max_poll_interval = 1s;
                        auto waited = co_await sandbox->tmux_wait(*job, std::move(wait));
                        life.step("tmux_wait");
                        if (!waited.ok()) {
                            fail("tmux_wait", waited.error());
                            ++finished;
                            co_return;
                        }
                        if (waited->status != TmuxStatus::completed ||
                            waited->exit_code.value_or(-1) != 5) {
                            life.failure = fmt::format(
                                "tmux: status {} exit {} output '{}'", to_string(waited->status),
                                waited->exit_code.value_or(-1), waited->output);
                            ++finished;
                            co_return;
                        }

                        auto removed = co_await sandbox->remove();
                        life.step("delete");
                        if (!removed.ok()) {
                            fail("delete", removed.error());
                            ++finished;
                            co_return;
                        }
                        life.done = true;
                        ++finished;
                    },
                    asio::detached);
            }
            const std::function<bool()> all_finished = [&] { return finished == lifecycles; };
            const bool in_time = co_await wait_until(all_finished, 110s);
            CHECK(in_time);
            // Before the fixture stops the emulator (which would delete any leftovers).
            final_stats = stats_of(*fx.emulator);
        },
        120s);

    int completed = 0;
    std::set<std::string> ids;
    const auto slowest = std::max_element(
        results.begin(), results.end(),
        [](const Lifecycle& a, const Lifecycle& b) { return a.seconds < b.seconds; });
    WARN(fmt::format("slowest lifecycle ({:.2f}s): {}", slowest->seconds, slowest->steps));
    for (const auto& life : results) {
        INFO(life.failure);
        INFO(life.steps);
        CHECK(life.done);
        completed += life.done ? 1 : 0;
        if (life.created)
            ids.insert(life.sandbox_id);
    }
    CHECK(completed == lifecycles);
    // No create took effect twice: as many sandboxes existed once every create had returned
    // as there are distinct ids, one per lifecycle.
    CHECK(ids.size() == static_cast<std::size_t>(lifecycles));
    CHECK(sandboxes_after_creates == lifecycles);

    // Nothing left behind: every sandbox was deleted through the API, its processes gone.
    const auto& stats = final_stats;
    REQUIRE(stats.contains("sandboxes"));
    CHECK(stats.at("sandboxes").to_number<std::int64_t>() == 0);
    CHECK(stats.at("processes").to_number<std::int64_t>() == 0);
    const auto client_stats = client.api().stats();
    std::int64_t injected = 0;
    for (const auto& [kind, value] : stats.at("faults_injected").as_object())
        injected += value.to_number<std::int64_t>();
    WARN(fmt::format(
        "faults injected {} (throttle {}, unavailable {}, reset_before {}, reset_after {}, "
        "ws_drop {}); client: {} API calls, {} retries, {} throttled, {} exec WebSockets; "
        "{} of {} lifecycles completed",
        injected, count_in(stats, "faults_injected", "throttle"),
        count_in(stats, "faults_injected", "unavailable"),
        count_in(stats, "faults_injected", "reset_before"),
        count_in(stats, "faults_injected", "reset_after"),
        count_in(stats, "faults_injected", "ws_drop"), client_stats.total_api_calls(),
        client_stats.retries, client_stats.throttled, client_stats.ws_connections, completed,
        lifecycles));
    CHECK(count_in(stats, "faults_injected", "throttle") > 0);
    CHECK(count_in(stats, "faults_injected", "unavailable") > 0);
    CHECK(count_in(stats, "faults_injected", "ws_drop") > 0);
    CHECK(client_stats.retries > 0);
}
