// SPDX-License-Identifier: Apache-2.0
// AccountRateLimits: the service's per-minute limits, one token bucket per AccessKey and
// action (lib/core's TokenBucket; the documented figures from lib/core's action table).
// Sans-io: the router passes the time. Not thread-safe (the server's strand only).
#pragma once

#include "emulator/options.hpp"

#include "core/rate_limiter.hpp"

#include <chrono>
#include <map>
#include <string>
#include <string_view>

namespace eci::emulator {

class AccountRateLimits {
  public:
    using Clock = std::chrono::steady_clock;

    /// No limits at all.
    AccountRateLimits() = default;
    /// `time_scale` > 0: a minute of service time lasts 60 s / time_scale.
    AccountRateLimits(AccountRateLimitOptions options, double time_scale);

    /// The limit in force for `action`, calls per minute of service time: the per_minute
    /// override, else the documented figure when `documented` is on, else 0 (none).
    double per_minute(std::string_view action) const;

    /// Takes one call of `action` by `access_key_id` at `now`. false = over the limit: the
    /// call must be refused (it took nothing). Each (key, action) bucket holds a minute's
    /// worth of calls (the documented figure) and refills at that rate, and starts full.
    bool admit(std::string_view access_key_id, std::string_view action, Clock::time_point now);

  private:
    AccountRateLimitOptions options_;
    double time_scale_ = 1;
    /// Keyed by "<AccessKeyId>\n<Action>".
    std::map<std::string, eci::detail::TokenBucket, std::less<>> buckets_;
};

}  // namespace eci::emulator
