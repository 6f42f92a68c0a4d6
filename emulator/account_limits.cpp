// SPDX-License-Identifier: Apache-2.0
#include "emulator/account_limits.hpp"

#include "core/actions.hpp"

namespace eci::emulator {

AccountRateLimits::AccountRateLimits(AccountRateLimitOptions options, double time_scale)
    : options_(std::move(options)), time_scale_(time_scale > 0 ? time_scale : 1) {}

double AccountRateLimits::per_minute(std::string_view action) const {
    if (auto found = options_.per_minute.find(action); found != options_.per_minute.end())
        return found->second;
    if (options_.documented) {
        if (const auto* description = eci::detail::find_action(action))
            return description->per_minute;
    }
    return 0;
}

bool AccountRateLimits::admit(std::string_view access_key_id, std::string_view action,
                              Clock::time_point now) {
    const double limit = per_minute(action);
    if (limit <= 0)
        return true;
    std::string key;
    key.reserve(access_key_id.size() + 1 + action.size());
    key.append(access_key_id).append(1, '\n').append(action);
    auto bucket = buckets_.find(key);
    if (bucket == buckets_.end()) {
        // The service states its limits per minute and not how it measures them; a bucket of
        // a minute's worth that refills evenly admits the documented count in any minute
        // after a quiet one (docs/emulator.md, "The realistic profile").
        const double per_second = limit / 60.0 * time_scale_;
        bucket = buckets_.emplace(std::move(key), eci::detail::TokenBucket(per_second, limit, now))
                     .first;
    }
    if (bucket->second.peek(now) > Clock::duration::zero())
        return false;
    (void)bucket->second.reserve(now);
    return true;
}

}  // namespace eci::emulator
