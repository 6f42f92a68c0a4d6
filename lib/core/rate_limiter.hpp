// SPDX-License-Identifier: Apache-2.0
// Client-side pacing of OpenAPI calls, without I/O: per action a rolling window (the default)
// or a token bucket, whose limits come from RateLimitConfig (the service's documented
// per-minute figures by default).
#pragma once

#include <eci/config.hpp>

#include <chrono>
#include <cstddef>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace eci::detail {

/// A token bucket that hands out reservations: a caller takes a token now and learns how long
/// to wait before using it. Tokens may go negative, so callers queue behind earlier
/// reservations in the order they asked (FIFO), and the rate is never exceeded however many
/// wait. Sans-io: callers pass the time and sleep themselves. Thread safety: none.
class TokenBucket {
  public:
    using clock = std::chrono::steady_clock;

    /// `per_second` > 0 tokens are added per second up to `burst` (>= 1); the bucket starts
    /// full at `now`.
    TokenBucket(double per_second, double burst, clock::time_point now);

    /// Takes one token at `now` and returns the wait before it may be used (zero when a token
    /// was available).
    clock::duration reserve(clock::time_point now);

    /// The wait reserve() would return at `now`, without taking anything.
    clock::duration peek(clock::time_point now) const;

    /// Gives back the token of a reservation that will not be used (its caller gave up).
    void refund(clock::time_point now);

    /// Tokens available at `now` (negative while reservations are queued).
    double tokens(clock::time_point now) const;

  private:
    double per_second_;
    double burst_;
    double tokens_;
    clock::time_point updated_;
};

/// At most `limit` sends in any `window` (half-open: [t, t + window)), each as early as that
/// allows. Reservations are FIFO: each is scheduled at or after the one before, so later
/// callers never overtake earlier ones. Unlike a token bucket it lets a whole minute's budget
/// go at once, which is what a documented "N calls per minute" allows however the service
/// counts a whole minute. Sans-io: callers pass the time and sleep themselves. Thread safety:
/// none.
class RollingWindow {
  public:
    using clock = std::chrono::steady_clock;

    /// `limit` >= 1 sends per `window` > 0.
    RollingWindow(std::size_t limit, clock::duration window);

    /// Schedules one send at `now` or later and returns the wait before it (zero when the
    /// window has room and nobody is queued).
    clock::duration reserve(clock::time_point now);

    /// The wait reserve() would return at `now`, without scheduling anything.
    clock::duration peek(clock::time_point now) const;

    /// The caller of a reservation gave up before its time (`now` is before it). Its slot is
    /// freed when that is provably safe: every scheduled time still ahead of `now` is the
    /// same, so the one removed equals the caller's, whichever reservation was the caller's.
    /// Otherwise nothing changes: removing another caller's time would let a later
    /// reservation join a window that caller still sends in, while an unused slot never
    /// breaks the limit.
    void refund(clock::time_point now);

    /// Sends scheduled and still remembered (for tests and the memory bound).
    std::size_t scheduled() const noexcept { return scheduled_.size(); }

  private:
    // The earliest time a new reservation may take, given what is remembered.
    clock::time_point next_slot(clock::time_point now) const;
    // Forgets sends whose window has closed at `now`: they cannot hold back anything later.
    void forget_before(clock::time_point now);

    std::size_t limit_;
    clock::duration window_;
    // Scheduled send times, nondecreasing: those whose window is still open at the last
    // reserve plus those still ahead. That is at most `limit` past sends plus one per queued
    // caller; the deque grows only as calls come. Not just the newest `limit`: after a refund
    // removes the newest, the one `limit` places back must still be known.
    // Invariant: scheduled_[i + limit_] >= scheduled_[i] + window_.
    std::deque<clock::time_point> scheduled_;
};

/// One pacer per action, created on first use from RateLimitConfig::limit_for: a rolling
/// window of per_minute calls per 60 s when ActionRateLimit::burst is 0, else a token bucket
/// of that burst. Thread safety: none; one executor uses it (as the OpenAPI client state).
class RateLimiter {
  public:
    using clock = TokenBucket::clock;

    explicit RateLimiter(RateLimitConfig config);

    /// Reserves a send slot for `action` at `now`: the wait before sending (zero when none,
    /// or when the limiter is disabled or the action unlimited). When the wait would exceed
    /// `max_wait`, nothing is reserved and nullopt is returned.
    std::optional<clock::duration> reserve(std::string_view action, clock::time_point now,
                                           std::optional<clock::duration> max_wait);

    /// Gives back a reservation of `action` made by reserve() that will not be used.
    void refund(std::string_view action, clock::time_point now);

    const RateLimitConfig& config() const noexcept { return config_; }

  private:
    using Pacer = std::variant<RollingWindow, TokenBucket>;

    Pacer* pacer_for(std::string_view action, clock::time_point now);

    RateLimitConfig config_;
    std::map<std::string, Pacer, std::less<>> pacers_;
};

}  // namespace eci::detail
