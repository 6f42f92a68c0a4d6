// SPDX-License-Identifier: Apache-2.0
// The client-side rate limiter: token buckets, per-action limits and their defaults, the
// configuration checks, and the FIFO semaphore behind the concurrency cap.
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

#include <cmath>
#include <limits>
#include <vector>

using namespace eci;
using namespace eci::detail;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

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
    // 60 per minute, burst 2: two at once, then one per second.
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
    // The documented default burst is one second's worth: CreateContainerGroup 1000/min.
    int immediate = 0;
    while (limiter.reserve("CreateContainerGroup", t0, std::nullopt) == 0s)
        ++immediate;
    CHECK(immediate == 16);

    config.enabled = false;
    RateLimiter off(config);
    for (int i = 0; i < 100; ++i)
        REQUIRE(off.reserve("ExecContainerCommand", t0, std::nullopt) == 0s);
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
