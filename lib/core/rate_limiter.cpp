// SPDX-License-Identifier: Apache-2.0
#include "core/rate_limiter.hpp"

#include "core/actions.hpp"

#include <algorithm>
#include <cmath>

namespace eci {

const std::map<std::string, ActionRateLimit, std::less<>>& documented_rate_limits() {
    // From the one action table (core/actions.*). Burst 0: a rolling minute (see
    // ActionRateLimit), which keeps to the documented figure however the service counts a
    // whole minute.
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

RollingWindow::RollingWindow(std::size_t limit, clock::duration window)
    : limit_(std::max<std::size_t>(1, limit)), window_(window) {}

RollingWindow::clock::time_point RollingWindow::next_slot(clock::time_point now) const {
    if (scheduled_.empty())
        return now;
    // After the newest (FIFO), and a full window after the send `limit` places back, so that
    // no half-open window holds more than `limit`. Sends forgotten by forget_before() ended
    // their window by `now`, so they would not push the result past `now` anyway.
    auto slot = std::max(now, scheduled_.back());
    if (scheduled_.size() >= limit_)
        slot = std::max(slot, scheduled_[scheduled_.size() - limit_] + window_);
    return slot;
}

void RollingWindow::forget_before(clock::time_point now) {
    while (!scheduled_.empty() && scheduled_.front() + window_ <= now)
        scheduled_.pop_front();
}

RollingWindow::clock::duration RollingWindow::peek(clock::time_point now) const {
    return next_slot(now) - now;
}

RollingWindow::clock::duration RollingWindow::reserve(clock::time_point now) {
    forget_before(now);
    const auto slot = next_slot(now);
    scheduled_.push_back(slot);
    return slot - now;
}

void RollingWindow::refund(clock::time_point now) {
    if (scheduled_.empty() || scheduled_.back() <= now)
        return;
    // The caller's time is one of those after `now`; only when they are all equal is it
    // known to be the newest's.
    const auto first_ahead = std::upper_bound(scheduled_.begin(), scheduled_.end(), now);
    if (*first_ahead == scheduled_.back())
        scheduled_.pop_back();
}

RateLimiter::RateLimiter(RateLimitConfig config) : config_(std::move(config)) {}

RateLimiter::Pacer* RateLimiter::pacer_for(std::string_view action, clock::time_point now) {
    if (!config_.enabled)
        return nullptr;
    if (auto found = pacers_.find(action); found != pacers_.end())
        return &found->second;
    const ActionRateLimit limit = config_.limit_for(action);
    if (!(limit.per_minute > 0))
        return nullptr;
    if (limit.burst > 0) {
        auto [it, inserted] = pacers_.emplace(
            std::string(action), TokenBucket(limit.per_minute / 60.0, limit.burst, now));
        return &it->second;
    }
    // Whole calls per minute; a fraction of a call cannot be sent, and a limit above a
    // billion a minute is no limit in practice (and keeps the conversion defined).
    const double calls = std::clamp(std::floor(limit.per_minute), 1.0, 1e9);
    auto [it, inserted] =
        pacers_.emplace(std::string(action),
                        RollingWindow(static_cast<std::size_t>(calls), std::chrono::minutes(1)));
    return &it->second;
}

std::optional<RateLimiter::clock::duration> RateLimiter::reserve(
    std::string_view action, clock::time_point now, std::optional<clock::duration> max_wait) {
    Pacer* pacer = pacer_for(action, now);
    if (pacer == nullptr)
        return clock::duration::zero();
    return std::visit(
        [&](auto& chosen) -> std::optional<clock::duration> {
            if (max_wait && chosen.peek(now) > *max_wait)
                return std::nullopt;
            return chosen.reserve(now);
        },
        *pacer);
}

void RateLimiter::refund(std::string_view action, clock::time_point now) {
    if (auto found = pacers_.find(action); found != pacers_.end())
        std::visit([&](auto& chosen) { chosen.refund(now); }, found->second);
}

}  // namespace detail
}  // namespace eci
