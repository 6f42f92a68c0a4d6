// SPDX-License-Identifier: Apache-2.0
// The client-side rate limiter: rolling windows and token buckets, per-action limits and their
// defaults, the configuration checks, and the FIFO semaphore behind the concurrency cap.
#include "core/rate_limiter.hpp"
#include "async/async_semaphore.hpp"
#include "support/run_with_deadline.hpp"

#include <eci/config.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <string_view>
#include <vector>

using namespace eci;
using namespace eci::detail;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

namespace {

// How many calls of `action` go without waiting at `now`, one after another.
int immediate_sends(RateLimiter& limiter, std::string_view action, clock_type::time_point now) {
    int sent = 0;
    while (limiter.reserve(action, now, std::nullopt) == clock_type::duration::zero())
        ++sent;
    return sent;
}

}  // namespace

TEST_CASE("rate limit: a token bucket spends its burst, then paces at its rate", "[rate-limit]") {
    const auto t0 = clock_type::time_point{} + 100s;
    TokenBucket bucket(10.0, 3.0, t0);  // 10 per second, burst 3
    CHECK(bucket.reserve(t0) == 0s);
    CHECK(bucket.reserve(t0) == 0s);
    CHECK(bucket.reserve(t0) == 0s);
    // Reservations queue behind each other: 100 ms, then 200 ms.
    CHECK(bucket.reserve(t0) == 100ms);
    CHECK(bucket.reserve(t0) == 200ms);
    CHECK(bucket.peek(t0) == 300ms);
    // 250 ms later 2.5 tokens came back: -2 + 2.5 = 0.5 left, the next waits 50 ms.
    CHECK(bucket.reserve(t0 + 250ms) == 50ms);
    // A refund gives the token back.
    bucket.refund(t0 + 250ms);
    CHECK(bucket.peek(t0 + 250ms) == 50ms);
    // Idle for long: back to the burst, not beyond.
    CHECK(bucket.tokens(t0 + 60s) == Approx(3.0));
}

TEST_CASE("rate limit: defaults follow the documented per-minute limits", "[rate-limit]") {
    const auto& documented = documented_rate_limits();
    CHECK(documented.at("DescribeContainerGroups").per_minute == 2000);
    CHECK(documented.at("CreateContainerGroup").per_minute == 1000);
    CHECK(documented.at("DeleteContainerGroup").per_minute == 1000);
    CHECK(documented.at("ExecContainerCommand").per_minute == 500);
    CHECK(documented.at("CreateImageCache").per_minute == 200);
    CHECK(documented.count("DescribeContainerGroupStatus") == 0);

    RateLimitConfig config;
    CHECK(config.enabled);
    CHECK(config.max_concurrent == 64);
    CHECK(config.limit_for("ExecContainerCommand").per_minute == 500);
    CHECK(config.limit_for("NoSuchAction").per_minute == 0);
    config.per_action["ExecContainerCommand"] = ActionRateLimit{60, 2};
    config.per_action["DescribeContainerGroups"] = ActionRateLimit{0, 0};
    CHECK(config.limit_for("ExecContainerCommand").per_minute == 60);

    const auto t0 = clock_type::time_point{} + 100s;
    RateLimiter limiter(config);
    // 60 per minute, burst 2 (an explicit burst: a token bucket): two at once, then one per
    // second.
    CHECK(limiter.reserve("ExecContainerCommand", t0, std::nullopt) == 0s);
    CHECK(limiter.reserve("ExecContainerCommand", t0, std::nullopt) == 0s);
    CHECK(limiter.reserve("ExecContainerCommand", t0, std::nullopt) == 1s);
    // A wait beyond the caller's budget reserves nothing.
    CHECK_FALSE(limiter.reserve("ExecContainerCommand", t0, 1500ms).has_value());
    CHECK(limiter.reserve("ExecContainerCommand", t0, 2500ms) == 2s);
    // Removed and unknown limits never wait.
    for (int i = 0; i < 1000; ++i) {
        REQUIRE(limiter.reserve("DescribeContainerGroups", t0, std::nullopt) == 0s);
        REQUIRE(limiter.reserve("NoSuchAction", t0, std::nullopt) == 0s);
    }
    // The documented default is a rolling minute: CreateContainerGroup 1000/min all at once,
    // the ones after a minute later.
    CHECK(immediate_sends(limiter, "CreateContainerGroup", t0) == 1000);
    CHECK(limiter.reserve("CreateContainerGroup", t0, std::nullopt) == 60s);

    config.enabled = false;
    RateLimiter off(config);
    for (int i = 0; i < 100; ++i)
        REQUIRE(off.reserve("ExecContainerCommand", t0, std::nullopt) == 0s);
}

TEST_CASE("rate limit: a rolling window sends its limit at once, then a window later",
          "[rate-limit]") {
    const auto t0 = clock_type::time_point{} + 100s;
    RollingWindow window(3, 60s);
    CHECK(window.peek(t0) == 0s);
    for (int i = 0; i < 3; ++i)
        CHECK(window.reserve(t0 + std::chrono::seconds(i)) == 0s);  // sent at 0, 1, 2 s
    // Each next one waits until the send `limit` places back leaves the window.
    CHECK(window.peek(t0 + 10s) == 50s);
    CHECK(window.peek(t0 + 10s) == 50s);      // peek changes nothing
    CHECK(window.reserve(t0 + 10s) == 50s);   // at 60 s
    CHECK(window.reserve(t0 + 10s) == 51s);   // at 61 s
    CHECK(window.reserve(t0 + 10s) == 52s);   // at 62 s
    CHECK(window.reserve(t0 + 10s) == 110s);  // at 120 s
    // FIFO: a later caller never gets an earlier time than one queued before it.
    RollingWindow fifo(2, 60s);
    CHECK(fifo.reserve(t0) == 0s);
    CHECK(fifo.reserve(t0) == 0s);
    CHECK(fifo.reserve(t0 + 1s) == 59s);   // at 60 s
    CHECK(fifo.reserve(t0 + 30s) == 30s);  // at 60 s too: the window [0, 60) is full
    CHECK(fifo.reserve(t0 + 30s) == 90s);  // at 120 s
    // After a quiet window everything is forgotten: memory follows the calls, not the limit.
    RollingWindow quiet(2000, 60s);
    CHECK(quiet.reserve(t0) == 0s);
    CHECK(quiet.reserve(t0 + 61s) == 0s);
    CHECK(quiet.scheduled() == 1);
}

TEST_CASE("rate limit: a rolling window never schedules more than its limit in any window",
          "[rate-limit]") {
    // Callers arrive in clumps at increasing times; check every scheduled send against the
    // `limit` before it.
    constexpr std::size_t limit = 7;
    constexpr auto span = 10s;
    RollingWindow window(limit, span);
    std::mt19937 random(12345);
    std::uniform_int_distribution<int> gap_ms(0, 3000);
    std::uniform_int_distribution<int> clump(1, 12);
    auto now = clock_type::time_point{} + 100s;
    std::vector<clock_type::time_point> sends;
    for (int round = 0; round < 500; ++round) {
        now += std::chrono::milliseconds(gap_ms(random));
        for (int i = clump(random); i > 0; --i) {
            const auto peeked = window.peek(now);
            const auto wait = window.reserve(now);
            REQUIRE(wait == peeked);
            REQUIRE(wait >= 0s);
            const auto at = now + wait;
            // FIFO: never before an earlier caller.
            if (!sends.empty())
                REQUIRE(at >= sends.back());
            sends.push_back(at);
        }
        // Memory: the past window's sends plus the queue, never the whole history.
        REQUIRE(window.scheduled() <=
                limit + static_cast<std::size_t>(std::count_if(sends.begin(), sends.end(),
                                                               [&](auto at) { return at > now; })));
    }
    REQUIRE(sends.size() > 2000);
    for (std::size_t i = limit; i < sends.size(); ++i)
        REQUIRE(sends[i] - sends[i - limit] >= span);
    // The limit is reached, not just kept: some window holds exactly `limit` sends.
    bool full = false;
    for (std::size_t i = limit - 1; i < sends.size() && !full; ++i)
        full = sends[i] - sends[i - (limit - 1)] < span;
    CHECK(full);
}

TEST_CASE("rate limit: a rolling window's refund frees a slot only when it is safe",
          "[rate-limit]") {
    const auto t0 = clock_type::time_point{} + 100s;
    RollingWindow window(2, 60s);
    CHECK(window.reserve(t0) == 0s);
    CHECK(window.reserve(t0) == 0s);
    CHECK(window.reserve(t0) == 60s);
    // The caller waiting for 60 s gives up: its slot goes to the next caller.
    window.refund(t0 + 1s);
    CHECK(window.peek(t0 + 1s) == 59s);
    CHECK(window.reserve(t0 + 1s) == 59s);   // at 60 s
    CHECK(window.reserve(t0 + 1s) == 59s);   // at 60 s: two in [60, 120)
    CHECK(window.reserve(t0 + 1s) == 119s);  // at 120 s
    // Queued at 60 s and at 120 s: the caller who gave up may be either, so nothing is freed
    // (freeing the 120 s slot while its owner still sends would put three in [60, 120]).
    window.refund(t0 + 2s);
    CHECK(window.peek(t0 + 2s) == 118s);  // at 120 s, a window after the 60 s sends
    // Once every reservation is past, a refund does nothing.
    RollingWindow past(1, 60s);
    CHECK(past.reserve(t0) == 0s);
    past.refund(t0);
    past.refund(t0 + 10s);
    CHECK(past.peek(t0 + 10s) == 50s);
}

TEST_CASE("rate limit: the default pace is a rolling minute, an explicit burst a bucket",
          "[rate-limit]") {
    const auto t0 = clock_type::time_point{} + 100s;
    RateLimitConfig config;
    RateLimiter limiter(config);
    // ExecContainerCommand, 500 per minute: 500 at once, the 501st a minute after the first.
    for (int i = 0; i < 500; ++i)
        REQUIRE(limiter.reserve("ExecContainerCommand", t0, std::nullopt) == 0s);
    CHECK(limiter.reserve("ExecContainerCommand", t0 + 5s, std::nullopt) == 55s);
    // A caller that cannot wait that long reserves nothing: the next one still gets 60 s.
    CHECK_FALSE(limiter.reserve("ExecContainerCommand", t0 + 5s, 54s).has_value());
    CHECK(limiter.reserve("ExecContainerCommand", t0 + 5s, std::nullopt) == 55s);
    // A caller that gave up gives its slot back.
    limiter.refund("ExecContainerCommand", t0 + 6s);
    CHECK(limiter.reserve("ExecContainerCommand", t0 + 6s, std::nullopt) == 54s);
    // A fraction of a call per minute rounds down, at least one.
    config.per_action["DescribeContainerLog"] = ActionRateLimit{2.9, 0};
    config.per_action["DescribeContainerGroupPrice"] = ActionRateLimit{0.5, 0};
    // The pace before 0.2: a bucket of one second's worth.
    config.per_action["CreateContainerGroup"] = ActionRateLimit{1000, 1000.0 / 60};
    RateLimiter configured(config);
    CHECK(configured.reserve("DescribeContainerLog", t0, std::nullopt) == 0s);
    CHECK(configured.reserve("DescribeContainerLog", t0, std::nullopt) == 0s);
    CHECK(configured.reserve("DescribeContainerLog", t0, std::nullopt) == 60s);
    CHECK(configured.reserve("DescribeContainerGroupPrice", t0, std::nullopt) == 0s);
    CHECK(configured.reserve("DescribeContainerGroupPrice", t0, std::nullopt) == 60s);
    CHECK(immediate_sends(configured, "CreateContainerGroup", t0) == 16);
}

TEST_CASE("rate limit: validate_config refuses nonsense limits", "[rate-limit]") {
    ClientConfig config;
    config.credentials = {"LTAIxxxxxxxx", "secret", ""};
    config.endpoint.host = "eci.cn-shanghai.aliyuncs.com";
    REQUIRE(validate_config(config).ok());
    config.rate_limit.per_action["X"] = ActionRateLimit{std::nan(""), 0};
    CHECK_FALSE(validate_config(config).ok());
    config.rate_limit.per_action["X"] = ActionRateLimit{10, -1};
    CHECK_FALSE(validate_config(config).ok());
    config.rate_limit.per_action["X"] = ActionRateLimit{std::numeric_limits<double>::infinity(), 0};
    CHECK_FALSE(validate_config(config).ok());
    config.rate_limit.per_action.clear();
    config.rate_limit.per_action[""] = ActionRateLimit{10, 0};
    CHECK_FALSE(validate_config(config).ok());
    config.rate_limit.per_action.clear();
    config.rate_limit.max_concurrent = 2'000'000;
    CHECK_FALSE(validate_config(config).ok());
    config.rate_limit.max_concurrent = 0;
    CHECK(validate_config(config).ok());
}

TEST_CASE(
    "rate limit: the semaphore hands out permits in FIFO order and honours "
    "cancellation and deadlines",
    "[rate-limit]") {
    namespace asio = boost::asio;
    asio::io_context io;
    AsyncSemaphore semaphore(2);
    std::vector<int> order;
    test::run_with_deadline(io, [&]() -> asio::awaitable<void> {
        auto first = co_await semaphore.acquire(std::nullopt);
        auto second = co_await semaphore.acquire(std::nullopt);
        REQUIRE(first.ok());
        REQUIRE(second.ok());
        CHECK_FALSE(*first);
        CHECK(semaphore.available() == 0);

        // Three waiters; the middle one is cancelled; the others get permits in order.
        auto executor = co_await asio::this_coro::executor;
        asio::cancellation_signal cancel_middle;
        std::vector<Result<bool>> results(3, Result<bool>(false));
        int finished = 0;
        for (int i = 0; i < 3; ++i) {
            auto waiter = [&, i]() -> asio::awaitable<void> {
                results[static_cast<std::size_t>(i)] = co_await semaphore.acquire(std::nullopt);
                if (results[static_cast<std::size_t>(i)].ok())
                    order.push_back(i);
                ++finished;
            };
            // co_spawn keeps the lambda (and its captures) alive while the coroutine runs.
            if (i == 1) {
                asio::co_spawn(executor, std::move(waiter),
                               asio::bind_cancellation_slot(cancel_middle.slot(), asio::detached));
            } else {
                asio::co_spawn(executor, std::move(waiter), asio::detached);
            }
        }
        REQUIRE(co_await test::wait_until([&] { return semaphore.waiting() == 3; }));
        cancel_middle.emit(asio::cancellation_type::terminal);
        REQUIRE(co_await test::wait_until([&] { return finished == 1; }));
        REQUIRE_FALSE(results[1].ok());
        CHECK(results[1].error().kind == ErrorKind::cancelled);
        semaphore.release();
        semaphore.release();
        REQUIRE(co_await test::wait_until([&] { return finished == 3; }));
        CHECK(order == std::vector<int>{0, 2});
        CHECK(*results[0]);  // it had to wait

        // A deadline that passes while waiting: timeout, no permit taken.
        auto late = co_await semaphore.acquire(clock_type::now() + 20ms);
        REQUIRE_FALSE(late.ok());
        CHECK(late.error().kind == ErrorKind::timeout);
        semaphore.release();
        semaphore.release();
        CHECK(semaphore.available() == 2);
    });

    AsyncSemaphore unlimited(0);
    CHECK(unlimited.unlimited());
}
