// SPDX-License-Identifier: Apache-2.0
#include "emulator/faults.hpp"

#include <algorithm>

namespace eci::emulator {

std::string_view to_string(FaultKind kind) noexcept {
    switch (kind) {
        case FaultKind::none:
            return "none";
        case FaultKind::throttle:
            return "throttle";
        case FaultKind::qps_limit:
            return "qps_limit";
        case FaultKind::rate_limit:
            return "rate_limit";
        case FaultKind::unavailable:
            return "unavailable";
        case FaultKind::reset_before:
            return "reset_before";
        case FaultKind::reset_after:
            return "reset_after";
    }
    return "none";
}

FaultInjector::FaultInjector(FaultOptions options, std::uint64_t seed)
    : options_(std::move(options)), random_(seed) {}

FaultInjector::FaultInjector(FaultOptions options, std::uint64_t seed,
                             AccountRateLimits account_limits)
    : options_(std::move(options)), random_(seed), account_limits_(std::move(account_limits)) {}

bool FaultInjector::draw(double probability) {
    if (probability <= 0)
        return false;
    // Draw even for probability 1 so the sequence does not depend on which faults are on.
    double x = std::uniform_real_distribution<double>(0.0, 1.0)(random_);
    return x < probability;
}

FaultKind FaultInjector::decide(std::string_view action, std::string_view access_key_id,
                                Clock::time_point now) {
    if (!account_limits_.admit(access_key_id, action, now))
        return FaultKind::rate_limit;
    if (auto it = options_.qps_limits.find(action); it != options_.qps_limits.end()) {
        // `rate` tokens a second, as many at once (at least one); a call that finds no token
        // is refused rather than queued (the bucket never goes negative here).
        // A rate of 0 (only a library caller can set one) allows one call, then none.
        const double rate = std::max(it->second, 1e-9);
        auto bucket = buckets_.find(action);
        if (bucket == buckets_.end())
            bucket =
                buckets_.emplace(std::string(action), eci::detail::TokenBucket(rate, rate, now))
                    .first;
        if (bucket->second.peek(now) > Clock::duration::zero())
            return FaultKind::qps_limit;
        (void)bucket->second.reserve(now);
    }
    if (!options_.actions.empty() && !options_.actions.contains(action))
        return FaultKind::none;
    if (draw(options_.throttle))
        return FaultKind::throttle;
    if (draw(options_.unavailable))
        return FaultKind::unavailable;
    if (draw(options_.reset)) {
        return std::bernoulli_distribution(0.5)(random_) ? FaultKind::reset_before
                                                         : FaultKind::reset_after;
    }
    return FaultKind::none;
}

bool FaultInjector::drop_websocket() {
    return draw(options_.ws_drop);
}

}  // namespace eci::emulator
