// SPDX-License-Identifier: Apache-2.0
// Client-side pacing of OpenAPI calls, without I/O: a token bucket per action whose limits
// come from RateLimitConfig (the service's documented per-minute figures by default).
#pragma once

#include <eci/config.hpp>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>

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

/// One bucket per action, created on first use from RateLimitConfig::limit_for.
/// Thread safety: none; one executor uses it (as the OpenAPI client state).
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
    TokenBucket* bucket_for(std::string_view action, clock::time_point now);

    RateLimitConfig config_;
    std::map<std::string, TokenBucket, std::less<>> buckets_;
};

}  // namespace eci::detail
