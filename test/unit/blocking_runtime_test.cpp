// SPDX-License-Identifier: Apache-2.0
// The blocking facade's engine on its own: a call that ignores cancellation must not leave its
// caller blocked once shutdown() gave up waiting for it.
#include "sandbox/blocking_runtime.hpp"

#include <catch2/catch.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <future>
#include <memory>

using namespace eci;
namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {

// An operation that refuses cancellation and would take a minute: what a bug in an
// operation's cancellation handling looks like from the runtime's side.
asio::awaitable<Result<int>> stubborn_wait(std::promise<void>& started) {
    co_await asio::this_coro::reset_cancellation_state(asio::disable_cancellation());
    asio::steady_timer timer(co_await asio::this_coro::executor, 60s);
    started.set_value();
    auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    (void)ec;
    co_return 1;
}

}  // namespace

TEST_CASE("blocking runtime: a call that outlives the shutdown bound fails its caller",
          "[blocking]") {
    // Held here as a Sandbox handle would hold it: the io_context outlives shutdown().
    auto runtime = std::make_shared<EciSandbox::Runtime>();
    runtime->shutdown_bound = 200ms;
    std::promise<void> started;
    auto started_future = started.get_future();
    auto caller = std::async(std::launch::async, [&] {
        return runtime->call<int>([&] { return stubborn_wait(started); });
    });
    REQUIRE(started_future.wait_for(10s) == std::future_status::ready);

    const auto begin = std::chrono::steady_clock::now();
    runtime->shutdown();
    REQUIRE(caller.wait_for(10s) == std::future_status::ready);
    const auto waited = std::chrono::steady_clock::now() - begin;
    auto result = caller.get();
    REQUIRE_FALSE(result.ok());
    CHECK(result.error().kind == ErrorKind::cancelled);
    CHECK(waited < 5s);  // the bound (200 ms), not the operation's minute

    // Later calls are refused at once; a second shutdown is a no-op.
    auto later = runtime->call<int>([]() -> asio::awaitable<Result<int>> { co_return 2; });
    REQUIRE_FALSE(later.ok());
    CHECK(later.error().kind == ErrorKind::cancelled);
    runtime->shutdown();
}

TEST_CASE("blocking runtime: calls that honour cancellation return before the bound",
          "[blocking]") {
    auto runtime = std::make_shared<EciSandbox::Runtime>();
    std::promise<void> started;
    auto started_future = started.get_future();
    auto caller = std::async(std::launch::async, [&] {
        return runtime->call<int>([&]() -> asio::awaitable<Result<int>> {
            asio::steady_timer timer(co_await asio::this_coro::executor, 60s);
            started.set_value();
            auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
            if (ec == asio::error::operation_aborted)
                co_return Error::make(ErrorKind::cancelled, "timer cancelled");
            co_return 1;
        });
    });
    REQUIRE(started_future.wait_for(10s) == std::future_status::ready);
    const auto begin = std::chrono::steady_clock::now();
    runtime->shutdown();  // bound 10 s: must not be reached
    CHECK(std::chrono::steady_clock::now() - begin < 2s);
    REQUIRE(caller.wait_for(10s) == std::future_status::ready);
    auto result = caller.get();
    REQUIRE_FALSE(result.ok());
    CHECK(result.error().kind == ErrorKind::cancelled);
    CHECK(result.error().message == "timer cancelled");  // its own result, not the runtime's
}
