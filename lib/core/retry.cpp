// SPDX-License-Identifier: Apache-2.0
#include "core/retry.hpp"

#include <algorithm>
#include <cmath>

namespace eci::detail {

bool is_retryable_reply(const Error& error) noexcept {
    if (error.kind == ErrorKind::throttled)
        return true;
    return error.kind == ErrorKind::service &&
           (error.http_status >= 500 || error.code == "ServiceUnavailable" ||
            error.code == "InternalError");
}

namespace {

bool is_transport_failure(const Error& error) noexcept {
    return error.kind == ErrorKind::network || error.kind == ErrorKind::timeout ||
           error.kind == ErrorKind::tls;
}

}  // namespace

bool is_retry_allowed(const Error& error, RetrySafety safety) noexcept {
    if (safety == RetrySafety::never)
        return false;
    if (is_transport_failure(error)) {
        // A certificate that failed verification will fail again: never retried. A reset or
        // timeout after sending may have run the call: retried only when running it twice is
        // harmless (reads, deletes, creates and restarts carrying a ClientToken).
        if (error.kind == ErrorKind::tls)
            return false;
        return error.dispatch == Dispatch::not_sent || safety == RetrySafety::always;
    }
    if (!is_retryable_reply(error))
        return false;
    if (safety == RetrySafety::always)
        return true;
    // only_if_not_sent: the service must have answered with its own error, which it does
    // before running anything; a code-less 5xx may come from a proxy after the call ran.
    if (error.dispatch == Dispatch::accepted || error.dispatch == Dispatch::unknown)
        return false;
    return error.dispatch == Dispatch::refused || !error.code.empty();
}

bool outcome_unknown(const Error& error) noexcept {
    if (error.dispatch == Dispatch::unknown)
        return true;
    return is_transport_failure(error) && error.dispatch != Dispatch::not_sent &&
           error.dispatch != Dispatch::refused;
}

FailedCreateAction on_failed_wait(bool keep_on_failure) noexcept {
    return keep_on_failure ? FailedCreateAction::keep : FailedCreateAction::remove;
}

bool delete_confirmed(const Error& error) noexcept {
    return error.kind == ErrorKind::not_found;
}

bool delete_worth_retrying(const Error& error) noexcept {
    return is_retryable_reply(error) || is_transport_failure(error);
}

std::optional<std::chrono::milliseconds> next_retry_delay(const RetryPolicy& policy,
                                                          const Error& error, RetrySafety safety,
                                                          int attempt,
                                                          std::chrono::milliseconds elapsed,
                                                          std::uint64_t random) noexcept {
    if (!policy.enabled || attempt < 1 || attempt >= policy.max_attempts)
        return std::nullopt;
    if (!is_retry_allowed(error, safety))
        return std::nullopt;

    // Computed in double: multiplier^attempt overflows any integer long before it matters,
    // and min() with max_backoff brings an infinity back to range.
    const double multiplier = std::max(1.0, policy.multiplier);
    double grown =
        static_cast<double>(policy.initial_backoff.count()) * std::pow(multiplier, attempt - 1);
    if (std::isnan(grown))
        grown = 0;  // 0 ms * infinity
    const double capped = std::clamp(
        grown, 0.0, static_cast<double>(std::max<std::int64_t>(0, policy.max_backoff.count())));
    const auto cap = static_cast<std::uint64_t>(capped);
    const std::chrono::milliseconds delay(static_cast<std::int64_t>(random % (cap + 1)));

    if (policy.overall_deadline.count() > 0 && elapsed + delay >= policy.overall_deadline)
        return std::nullopt;
    return delay;
}

std::chrono::milliseconds ThrottleGate::delay_before_send(std::string_view action,
                                                          clock::time_point now,
                                                          std::uint64_t random) const {
    const std::lock_guard lock(mutex_);
    const auto found = gates_.find(action);
    if (found == gates_.end() || now >= found->second.open_at)
        return std::chrono::milliseconds(0);
    const Gate& gate = found->second;
    const auto rest = std::chrono::ceil<std::chrono::milliseconds>(gate.open_at - now);
    const auto jitter_cap = static_cast<std::uint64_t>(gate.backoff.count() / 4);
    return rest + std::chrono::milliseconds(static_cast<std::int64_t>(random % (jitter_cap + 1)));
}

bool ThrottleGate::record(Gate& gate, bool throttled) const {
    gate.recent.push_back(throttled);
    gate.recent_throttled += throttled ? 1 : 0;
    while (gate.recent.size() > std::max<std::size_t>(options_.window, 1)) {
        gate.recent_throttled -= gate.recent.front() ? 1 : 0;
        gate.recent.pop_front();
    }
    return throttled && gate.recent.size() >= options_.min_replies &&
           gate.recent_throttled * 100 >= gate.recent.size() * options_.close_percent;
}

void ThrottleGate::on_throttled(std::string_view action, clock::time_point sent_at,
                                clock::time_point now) {
    const std::lock_guard lock(mutex_);
    auto found = gates_.find(action);
    if (found == gates_.end())
        found = gates_.emplace(std::string(action), Gate{}).first;
    Gate& gate = found->second;
    // Sent before the gate last closed: the replies that closed it already said this.
    if (sent_at < gate.closed_at)
        return;
    if (now < gate.open_at)  // closed meanwhile by another reply
        return;
    if (!record(gate, true))
        return;
    const bool recent =
        gate.backoff.count() > 0 && now - gate.open_at <= options_.escalation_window;
    gate.backoff =
        recent ? std::min(gate.backoff * 2, options_.max_backoff) : options_.initial_backoff;
    gate.closed_at = now;
    gate.open_at = now + gate.backoff;
    // The next closing is judged on replies to calls sent after this one.
    gate.recent.clear();
    gate.recent_throttled = 0;
}

void ThrottleGate::on_success(std::string_view action, clock::time_point sent_at,
                              clock::time_point now) {
    const std::lock_guard lock(mutex_);
    auto found = gates_.find(action);
    if (found == gates_.end())
        found = gates_.emplace(std::string(action), Gate{}).first;
    Gate& gate = found->second;
    if (sent_at < gate.closed_at)
        return;
    record(gate, false);
    if (gate.backoff.count() == 0 || now < gate.open_at)
        return;
    gate.backoff /= 2;
    if (gate.backoff < options_.initial_backoff)
        gate.backoff = std::chrono::milliseconds(0);
}

std::chrono::milliseconds ThrottleGate::current_backoff(std::string_view action) const {
    const std::lock_guard lock(mutex_);
    const auto found = gates_.find(action);
    return found == gates_.end() ? std::chrono::milliseconds(0) : found->second.backoff;
}

ThrottleGate::clock::time_point ThrottleGate::open_at(std::string_view action) const {
    const std::lock_guard lock(mutex_);
    const auto found = gates_.find(action);
    return found == gates_.end() ? clock::time_point{} : found->second.open_at;
}

}  // namespace eci::detail
