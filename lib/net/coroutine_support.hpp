// SPDX-License-Identifier: Apache-2.0
// Small pieces every lib/net coroutine uses: the completion token that turns errors into
// values, the cancellation test, and durations in milliseconds for messages.
#pragma once

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/cancellation_state.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>

namespace eci::detail {

/// `co_await op(use_tuple)` gives (error_code, ...) instead of throwing.
inline constexpr auto use_tuple = boost::asio::as_tuple(boost::asio::use_awaitable);

/// Whether the awaiting coroutine was cancelled. Spelled as a plain function of the state
/// (`co_await this_coro::cancellation_state`), not a helper coroutine: co_await of another
/// awaitable throws once cancellation is set.
inline bool was_cancelled(const boost::asio::cancellation_state& state) noexcept {
    return state.cancelled() != boost::asio::cancellation_type::none;
}

/// A duration in whole milliseconds, for messages ("within 200 ms").
inline long long milliseconds_of(std::chrono::steady_clock::duration duration) noexcept {
    return std::chrono::duration_cast<std::chrono::milliseconds>(duration).count();
}

}  // namespace eci::detail
