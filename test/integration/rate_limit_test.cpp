// SPDX-License-Identifier: Apache-2.0
// The client-side rate limiter against the emulator's per-action token buckets
// (--qps-limit) and per-key minute limits (--rate-limit): a burst paced under the limit is
// never throttled, the same burst without the limiter is, the default rolling minute sends a
// minute's budget at once and then holds back, and waiting honours the call's deadline and
// cancellation.
#include "integration/sandbox_fixture.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/detached.hpp>
#include <boost/json/parse.hpp>

using namespace eci;
using namespace eci::test;
namespace asio = boost::asio;
using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {

constexpr double emulator_qps = 10;  // DescribeContainerGroups, burst 10
constexpr int burst_calls = 30;

emulator::EmulatorOptions limited_emulator() {
    auto options = sandbox_emulator_options();
    options.faults.qps_limits["DescribeContainerGroups"] = emulator_qps;
    return options;
}

AsyncEciSandbox client_with(AsyncSandboxFixture& fx, RateLimitConfig limits) {
    auto config = client_config_for(fx.emulator->ready());
    config.rate_limit = std::move(limits);
    auto created = AsyncEciSandbox::from_config(fx.io.get_executor(), std::move(config));
    if (!created)
        FAIL("client: " << created.error().to_string());
    return std::move(*created);
}

struct BurstOutcome {
    int ok = 0;
    std::chrono::steady_clock::duration elapsed{};
};

// `calls` concurrent DescribeContainerGroups (list) calls.
asio::awaitable<BurstOutcome> list_burst(AsyncEciSandbox client, int calls = burst_calls) {
    auto executor = co_await asio::this_coro::executor;
    BurstOutcome outcome;
    int done = 0;
    const auto started = std::chrono::steady_clock::now();
    for (int i = 0; i < calls; ++i) {
        asio::co_spawn(
            executor,
            [&, client]() mutable -> asio::awaitable<void> {
                auto page = co_await client.list();
                if (page.ok())
                    ++outcome.ok;
                else
                    UNSCOPED_INFO("list: " << page.error().to_string());
                ++done;
            },
            asio::detached);
    }
    const bool all = co_await wait_until([&] { return done == calls; }, seconds(60));
    REQUIRE(all);
    outcome.elapsed = std::chrono::steady_clock::now() - started;
    co_return outcome;
}

// A DescribeContainerGroups call with a 300 ms deadline while the limiter's next slot is
// further away: it must fail at once as a timeout that sent nothing.
asio::awaitable<void> check_refused_at_once(OpenApiClient api) {
    CallOptions short_deadline;
    short_deadline.deadline = milliseconds(300);
    auto request = DescribeContainerGroupsRequest{};  // named: README, "GCC 12"
    const auto started = std::chrono::steady_clock::now();
    auto refused = co_await api.describe_container_groups(request, short_deadline);
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().kind == ErrorKind::timeout);
    CHECK(refused.error().dispatch == Dispatch::not_sent);
    CHECK(std::chrono::steady_clock::now() - started < milliseconds(250));
}

}  // namespace

TEST_CASE("rate limit e2e: a burst paced just under the emulator's limit is never throttled",
          "[rate-limit-e2e]") {
    AsyncSandboxFixture fx(limited_emulator());
    fx.run(
        [&]() -> asio::awaitable<void> {
            RateLimitConfig limits;
            // 8 per second (480 per minute), burst 8, against the emulator's 10 and 10.
            limits.per_action["DescribeContainerGroups"] = ActionRateLimit{480, 8};
            auto client = client_with(fx, limits);
            const auto outcome = co_await list_burst(client);
            const auto stats = client.api().stats();
            CHECK(outcome.ok == burst_calls);
            CHECK(stats.throttled == 0);
            CHECK(stats.retries == 0);
            CHECK(stats.api_calls.at("DescribeContainerGroups") == burst_calls);
            // 8 at once, the other 22 at 8 per second: 2.75 s (one more token may have come
            // back while the burst was being issued on a loaded machine).
            CHECK(stats.rate_limited_waits >= burst_calls - 9);
            CHECK(outcome.elapsed >= milliseconds(2500));
            CHECK(outcome.elapsed < seconds(30));
            CHECK(stats.rate_limited_wait_time >= milliseconds(2000));
        },
        seconds(90));
}

TEST_CASE("rate limit e2e: the same burst without the limiter is throttled and retried",
          "[rate-limit-e2e]") {
    AsyncSandboxFixture fx(limited_emulator());
    fx.run(
        [&]() -> asio::awaitable<void> {
            RateLimitConfig limits;
            limits.enabled = false;
            auto client = client_with(fx, limits);
            const auto outcome = co_await list_burst(client);
            const auto stats = client.api().stats();
            CHECK(stats.throttled > 0);
            CHECK(stats.retries > 0);
            CHECK(stats.rate_limited_waits == 0);
            CHECK(outcome.ok > 0);
        },
        seconds(90));
}

TEST_CASE(
    "rate limit e2e: the default rolling minute sends a key's whole minute at once and "
    "holds the next call back",
    "[rate-limit-e2e]") {
    // The emulator's per-key minute limit (--rate-limit DescribeContainerGroups=20/min): a
    // bucket of 20 that starts full, as the realistic profile models the service.
    constexpr int per_minute = 20;
    auto options = sandbox_emulator_options();
    options.account_limits.per_minute["DescribeContainerGroups"] = per_minute;
    AsyncSandboxFixture fx(options);
    fx.run(
        [&]() -> asio::awaitable<void> {
            RateLimitConfig limits;
            limits.per_action["DescribeContainerGroups"] = ActionRateLimit{per_minute, 0};
            auto client = client_with(fx, limits);
            auto api = client.api();
            const auto outcome = co_await list_burst(client, per_minute);
            CHECK(outcome.ok == per_minute);
            CHECK(api.stats().throttled == 0);
            CHECK(api.stats().rate_limited_waits == 0);

            // The 21st's slot is a minute after the first.
            co_await check_refused_at_once(api);
            CHECK(api.stats().api_calls.at("DescribeContainerGroups") == per_minute);
            CHECK(api.stats().throttled == 0);
            const auto stats = boost::json::parse(fx.emulator->stats_json());
            CHECK_FALSE(stats.at("faults_injected").as_object().contains("rate_limit"));
        },
        seconds(30));
}

TEST_CASE(
    "rate limit e2e: waiting for the limiter honours the deadline and cancellation, and "
    "max_concurrent caps calls in flight",
    "[rate-limit-e2e]") {
    auto options = sandbox_emulator_options();
    options.faults.latency = milliseconds(200);
    AsyncSandboxFixture fx(options);
    fx.run(
        [&]() -> asio::awaitable<void> {
            RateLimitConfig limits;
            limits.per_action["DescribeContainerGroups"] = ActionRateLimit{60, 1};  // 1 per s
            limits.max_concurrent = 2;
            auto client = client_with(fx, limits);
            auto api = client.api();
            auto first = co_await client.list();
            REQUIRE(first.ok());

            // The next token is ~1 s away.
            co_await check_refused_at_once(api);
            CHECK(api.stats().api_calls.at("DescribeContainerGroups") == 1);

            // Cancelled while waiting for its token: cancelled, nothing sent.
            asio::cancellation_signal cancel;
            std::optional<Result<DescribeContainerGroupsResponse>> cancelled;
            auto executor = co_await asio::this_coro::executor;
            auto request2 = DescribeContainerGroupsRequest{};
            CallOptions defaults;
            asio::co_spawn(
                executor,
                [&]() -> asio::awaitable<void> {
                    cancelled = co_await api.describe_container_groups(request2, defaults);
                },
                asio::bind_cancellation_slot(cancel.slot(), asio::detached));
            REQUIRE(co_await wait_until([&] { return api.stats().rate_limited_waits == 1; }));
            cancel.emit(asio::cancellation_type::terminal);
            REQUIRE(co_await wait_until([&] { return cancelled.has_value(); }));
            REQUIRE_FALSE(cancelled->ok());
            CHECK(cancelled->error().kind == ErrorKind::cancelled);
            CHECK(api.stats().api_calls.at("DescribeContainerGroups") == 1);

            // max_concurrent = 2: four slow calls (200 ms latency, within their action's
            // burst) run two at a time.
            int done = 0;
            const auto four_started = std::chrono::steady_clock::now();
            for (int i = 0; i < 4; ++i) {
                asio::co_spawn(
                    executor,
                    [&, api]() mutable -> asio::awaitable<void> {
                        auto log_request = DescribeContainerLogRequest{};
                        log_request.container_group_id = "eci-nonexistent";
                        log_request.container_name = "c";
                        CallOptions call;
                        (void)co_await api.describe_container_log(log_request, call);
                        ++done;
                    },
                    asio::detached);
            }
            REQUIRE(co_await wait_until([&] { return done == 4; }, seconds(20)));
            CHECK(std::chrono::steady_clock::now() - four_started >= milliseconds(390));
            CHECK(api.stats().concurrency_waits >= 2);
        },
        seconds(60));
}

TEST_CASE(
    "rate limit e2e: a call without its own deadline queues past its retry budget, up to "
    "rate_limit.max_wait",
    "[rate-limit-e2e]") {
    AsyncSandboxFixture fx(sandbox_emulator_options());
    fx.run(
        [&]() -> asio::awaitable<void> {
            // 5 a second, one at a time: three calls at once wait 0, 200 and 400 ms.
            auto config = client_config_for(fx.emulator->ready());
            config.rate_limit.enabled = true;  // the fixture's clients run without it
            config.retry.overall_deadline = milliseconds(100);
            config.rate_limit.per_action["DescribeContainerGroups"] = ActionRateLimit{300, 1};
            auto three_at_once = [&](ClientConfig client_config)
                -> asio::awaitable<std::vector<Result<DescribeContainerGroupsResponse>>> {
                auto client = AsyncEciSandbox::from_config(fx.io.get_executor(), client_config);
                REQUIRE(client);
                auto api = client->api();
                std::vector<Result<DescribeContainerGroupsResponse>> results;
                for (int i = 0; i < 3; ++i)
                    results.emplace_back(Error::make(ErrorKind::cancelled, "not done"));
                int done = 0;
                auto executor = co_await asio::this_coro::executor;
                for (int i = 0; i < 3; ++i) {
                    asio::co_spawn(
                        executor,
                        [&, api, i]() mutable -> asio::awaitable<void> {
                            auto request = DescribeContainerGroupsRequest{};
                            results[i] = co_await api.describe_container_groups(request);
                            ++done;
                        },
                        asio::detached);
                }
                REQUIRE(co_await wait_until([&] { return done == 3; }, seconds(20)));
                co_return results;
            };

            // The default max_wait (1 h): the 100 ms budget does not count the queue.
            const auto started = std::chrono::steady_clock::now();
            auto queued = co_await three_at_once(config);
            for (auto& result : queued) {
                if (!result)
                    FAIL("describe: " << result.error().to_string());
            }
            CHECK(std::chrono::steady_clock::now() - started >= milliseconds(350));

            // A max_wait of 250 ms: the third call's slot is 400 ms away, it fails at once.
            config.rate_limit.max_wait = milliseconds(250);
            auto bounded = co_await three_at_once(config);
            CHECK(bounded[0].ok());
            CHECK(bounded[1].ok());
            REQUIRE_FALSE(bounded[2].ok());
            CHECK(bounded[2].error().kind == ErrorKind::timeout);
            CHECK(bounded[2].error().dispatch == Dispatch::not_sent);
            CHECK_THAT(bounded[2].error().message, Catch::Contains("rate_limit.max_wait (250 ms)"));
        },
        seconds(60));
}
