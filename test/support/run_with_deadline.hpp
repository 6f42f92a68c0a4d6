// SPDX-License-Identifier: Apache-2.0
// Runs one test coroutine on an io_context with a hard deadline, so a hung network test fails
// instead of hanging the suite; and a condition wait with a deadline for use inside it.
#pragma once

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <catch2/catch.hpp>

#include <chrono>
#include <exception>
#include <functional>

namespace eci::test {

/// Co-spawns `make_test()` (a callable returning awaitable<void>; asio keeps it alive, so a
/// lambda's captures stay valid) on `io` and runs `io` until the coroutine finishes or
/// `deadline` passes.
/// An exception escaping the coroutine (a failed REQUIRE) is rethrown here; missing the
/// deadline fails the test. `io` is left stopped; objects the coroutine refers to must live
/// until `io` is destroyed (declare the io_context first in the test).
template <class MakeTest>
void run_with_deadline(boost::asio::io_context& io, MakeTest make_test,
                       std::chrono::steady_clock::duration deadline = std::chrono::seconds(30)) {
    bool done = false;
    std::exception_ptr failure;
    io.restart();
    boost::asio::co_spawn(io, std::move(make_test), [&](std::exception_ptr error) {
        done = true;
        failure = error;
        io.stop();
    });
    io.run_for(deadline);
    if (failure)
        std::rethrow_exception(failure);
    if (!done)
        FAIL("the test coroutine did not finish before its deadline");
}

/// Waits (polling every millisecond on a timer, never blocking the io_context) until
/// `condition()` holds; returns false if it still does not after `timeout`.
inline boost::asio::awaitable<bool> wait_until(
    std::function<bool()> condition,
    std::chrono::steady_clock::duration timeout = std::chrono::seconds(5)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor);
    while (!condition()) {
        if (std::chrono::steady_clock::now() >= deadline)
            co_return false;
        timer.expires_after(std::chrono::milliseconds(1));
        co_await timer.async_wait(boost::asio::use_awaitable);
    }
    co_return true;
}

}  // namespace eci::test
