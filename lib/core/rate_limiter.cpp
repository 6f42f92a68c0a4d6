// SPDX-License-Identifier: Apache-2.0
#include "core/rate_limiter.hpp"

#include "core/actions.hpp"

#include <algorithm>
#include <cmath>

namespace eci {

const std::map<std::string, ActionRateLimit, std::less<>>& documented_rate_limits() {
    // From the one action table (core/actions.*). Burst 0: one second's worth (see
    // ActionRateLimit), the conservative reading while the service's window is unknown.
    static const std::map<std::string, ActionRateLimit, std::less<>> limits = [] {
        std::map<std::string, ActionRateLimit, std::less<>> table;
        for (const auto& action : detail::all_actions()) {
            if (action.per_minute > 0)
                table.emplace(std::string(action.name),
                              ActionRateLimit{static_cast<double>(action.per_minute), 0});
        }
        return table;
    }();
    return limits;
}

ActionRateLimit RateLimitConfig::limit_for(std::string_view action) const {
    if (auto found = per_action.find(action); found != per_action.end())
        return found->second;
    const auto& documented = documented_rate_limits();
    if (auto found = documented.find(action); found != documented.end())
        return found->second;
    return {};
}

namespace detail {
namespace {

using seconds_d = std::chrono::duration<double>;

TokenBucket::clock::duration to_clock(double seconds) {
    return std::chrono::ceil<TokenBucket::clock::duration>(seconds_d(seconds));
}

}  // namespace

TokenBucket::TokenBucket(double per_second, double burst, clock::time_point now)
    : per_second_(per_second), burst_(std::max(1.0, burst)), tokens_(burst_), updated_(now) {}

double TokenBucket::tokens(clock::time_point now) const {
    if (now <= updated_)
        return tokens_;
    const double added = seconds_d(now - updated_).count() * per_second_;
    return std::min(burst_, tokens_ + added);
}

TokenBucket::clock::duration TokenBucket::peek(clock::time_point now) const {
    const double left = tokens(now) - 1;
    return left >= 0 ? clock::duration::zero() : to_clock(-left / per_second_);
}

TokenBucket::clock::duration TokenBucket::reserve(clock::time_point now) {
    const auto wait = peek(now);
    tokens_ = tokens(now) - 1;
    updated_ = std::max(updated_, now);
    return wait;
}

void TokenBucket::refund(clock::time_point now) {
    tokens_ = std::min(burst_, tokens(now) + 1);
    updated_ = std::max(updated_, now);
}

RateLimiter::RateLimiter(RateLimitConfig config) : config_(std::move(config)) {}

TokenBucket* RateLimiter::bucket_for(std::string_view action, clock::time_point now) {
    if (!config_.enabled)
        return nullptr;
    if (auto found = buckets_.find(action); found != buckets_.end())
        return &found->second;
    const ActionRateLimit limit = config_.limit_for(action);
    if (!(limit.per_minute > 0))
        return nullptr;
    const double per_second = limit.per_minute / 60.0;
    const double burst = limit.burst > 0 ? limit.burst : per_second;
    auto [it, inserted] =
        buckets_.emplace(std::string(action), TokenBucket(per_second, burst, now));
    return &it->second;
}

std::optional<RateLimiter::clock::duration> RateLimiter::reserve(
    std::string_view action, clock::time_point now, std::optional<clock::duration> max_wait) {
    TokenBucket* bucket = bucket_for(action, now);
    if (bucket == nullptr)
        return clock::duration::zero();
    if (max_wait && bucket->peek(now) > *max_wait)
        return std::nullopt;
    return bucket->reserve(now);
}

void RateLimiter::refund(std::string_view action, clock::time_point now) {
    if (auto found = buckets_.find(action); found != buckets_.end())
        found->second.refund(now);
}

}  // namespace detail
}  // namespace eci
