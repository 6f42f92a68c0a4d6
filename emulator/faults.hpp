// SPDX-License-Identifier: Apache-2.0
// FaultInjector: decides, deterministically for a seed, which requests fail and how, and
// enforces per-action QPS limits with core's token bucket (lib/core/rate_limiter) and the
// per-AccessKey per-minute limits (AccountRateLimits). Sans-io: the server carries out the
// decision. Not thread-safe (the emulator calls it from its strand only).
#pragma once

#include "emulator/account_limits.hpp"
#include "emulator/options.hpp"

#include "core/rate_limiter.hpp"

#include <chrono>
#include <map>
#include <random>
#include <string>
#include <string_view>

namespace eci::emulator {

enum class FaultKind {
    none,
    throttle,      ///< Throttling.User from --fault-throttle
    qps_limit,     ///< Throttling.User from a --qps-limit bucket
    unavailable,   ///< 503 ServiceUnavailable
    reset_before,  ///< close the connection, action not carried out
    reset_after,   ///< carry out the action, then close the connection without a reply
    rate_limit,    ///< Throttling.User: the key's per-minute limit of the action (the profile)
};

/// Stable names used as keys of /_emulator/stats "faults_injected".
std::string_view to_string(FaultKind kind) noexcept;

class FaultInjector {
  public:
    using Clock = std::chrono::steady_clock;

    FaultInjector(FaultOptions options, std::uint64_t seed);
    /// Also enforces `account_limits` (checked first: a call over its key's limit is refused
    /// before any other decision is drawn).
    FaultInjector(FaultOptions options, std::uint64_t seed, AccountRateLimits account_limits);

    /// The fault for one authenticated API call of `action` by `access_key_id`, drawn in call
    /// order.
    FaultKind decide(std::string_view action, std::string_view access_key_id,
                     Clock::time_point now);
    /// The same for a call whose key does not matter (no per-AccessKey limits apply).
    FaultKind decide(std::string_view action, Clock::time_point now) {
        return decide(action, {}, now);
    }

    /// Whether the exec WebSocket being opened will be cut mid-stream.
    bool drop_websocket();

    const FaultOptions& options() const noexcept { return options_; }

  private:
    bool draw(double probability);

    FaultOptions options_;
    std::mt19937_64 random_;
    /// Per action with a --qps-limit: core's token bucket, full when the action is first seen.
    std::map<std::string, eci::detail::TokenBucket, std::less<>> buckets_;
    AccountRateLimits account_limits_;
};

}  // namespace eci::emulator
