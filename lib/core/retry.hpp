// SPDX-License-Identifier: Apache-2.0
// Retry decisions, without I/O: whether a failed call may be sent again, after how long, and
// gates that make every caller of an action back off together while the service throttles it.
#pragma once

#include <eci/error.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace eci::detail {

/// How a call is retried. Defaults suit ECI's per-minute rate limits.
struct RetryPolicy {
    bool enabled = true;    ///< false: every failure is final
    int max_attempts = 10;  ///< attempts in total, the first included; <= 1 means no retry
    std::chrono::milliseconds initial_backoff{200};  ///< cap of the first retry's delay
    std::chrono::milliseconds max_backoff{10'000};   ///< cap of any one delay
    double multiplier = 2;  ///< growth of the cap per attempt; values < 1 are treated as 1
    /// Time budget of the whole call, first attempt to last retry; no retry is scheduled that
    /// would start after it. 0 = no overall budget.
    std::chrono::milliseconds overall_deadline{60'000};
};

/// Whether a call may be sent again after a failure, by what it does on the service.
enum class RetrySafety {
    /// Repeating it is harmless: reads, deletes, and creates carrying a ClientToken.
    always,
    /// It must not run twice (an exec): retry only when the request provably never ran:
    /// it never left this process (Dispatch::not_sent), or the service answered with an
    /// error Code (it refused before running anything).
    only_if_not_sent,
    /// Never retried.
    never,
};

/// Whether `error` may be retried under `safety`, ignoring attempt counts and time.
///
/// Retryable errors: throttled, service with HTTP >= 500 or Code ServiceUnavailable /
/// InternalError, network, and timeout or tls only when the request was not sent. For
/// only_if_not_sent, a transport failure qualifies only with Dispatch::not_sent, a reply with
/// an error Code qualifies (the service answered, so it refused), a 5xx without a Code (a
/// proxy's page: the call may have reached the service) does not, and Dispatch::accepted or
/// unknown never does. Thread safety: pure function.
bool is_retry_allowed(const Error& error, RetrySafety safety) noexcept;

/// Whether `error` leaves open that the call was carried out: a reply lost after sending
/// (Dispatch::unknown), or a transport failure that is not known to have happened before
/// sending. A create with such an error may have made a sandbox. Thread safety: pure function.
bool outcome_unknown(const Error& error) noexcept;

/// What create() does with the sandbox it made when waiting for it to run failed (timed out,
/// was cancelled, or the sandbox failed to start).
enum class FailedCreateAction {
    remove,  ///< delete it: nobody else knows it exists
    keep,    ///< CreateOptions::keep_on_failure: the caller takes it (Error::sandbox_id)
};
FailedCreateAction on_failed_wait(bool keep_on_failure) noexcept;

/// Whether the service answered "not now" (Throttling, 5xx, ServiceUnavailable,
/// InternalError): it is there and a later attempt may succeed. Thread safety: pure function.
bool is_retryable_reply(const Error& error) noexcept;

/// Whether a delete's failure still leaves the sandbox gone: not_found counts as deleted.
bool delete_confirmed(const Error& error) noexcept;

/// Whether a delete that failed with `error` is worth another round (after its call's own
/// retries): transient failures only (throttled, 5xx, transport); never a refusal such as
/// invalid_argument or auth, which would fail the same way. Thread safety: pure function.
bool delete_worth_retrying(const Error& error) noexcept;

/// The delay before the next attempt, or nullopt to give up (the error is final).
///
/// `attempt` is the number of attempts made so far (1 after the first failure). The delay is
/// drawn with full jitter: uniform in [0, min(max_backoff, initial_backoff *
/// multiplier^(attempt-1))], from `random` (any 64-bit random number; the caller owns the
/// generator so tests can pin it). It gives up when the policy is disabled, `attempt` reached
/// max_attempts, is_retry_allowed is false, or `elapsed + delay` would pass
/// overall_deadline. Thread safety: pure function.
std::optional<std::chrono::milliseconds> next_retry_delay(const RetryPolicy& policy,
                                                          const Error& error, RetrySafety safety,
                                                          int attempt,
                                                          std::chrono::milliseconds elapsed,
                                                          std::uint64_t random) noexcept;

/// How the throttle gates decide to close and back off.
struct ThrottleGateOptions {
    std::chrono::milliseconds initial_backoff{1'000};  ///< closed time after a first closing
    std::chrono::milliseconds max_backoff{30'000};     ///< longest closed time
    /// Sustained throttling again within this time after the gate reopened doubles the
    /// backoff; later closings start again from initial_backoff.
    std::chrono::milliseconds escalation_window{10'000};
    /// The gate judges the action by its last `window` replies (sent since it last closed)...
    std::size_t window = 20;
    /// ...and closes once at least `min_replies` of them are in and at least `close_percent`
    /// percent of them were throttled. Scattered throttles (a share well under half) leave
    /// it open: each throttled call then backs off on its own.
    std::size_t min_replies = 10;
    unsigned close_percent = 60;
};

/// Shared back-off state for the calls of one client, one gate per action: when the service
/// throttles an action persistently, its gate closes for a while and every caller of that
/// action waits before sending, so many coroutines slow down together instead of each
/// hammering the service on its own schedule. The service's limits are per action
/// (DescribeContainerGroups 2000/min, ExecContainerCommand 500/min, ...), so a throttled exec
/// does not hold back the describes and deletes of the same client.
///
/// Why a share of recent replies and not any one throttle: a client over its limit sees most
/// replies throttled, and closing fast is right; but a throttle now and then (another client
/// of the account briefly over the limit, or a fault-injecting emulator) closed a gate shared
/// by a thousand callers for a second each time, often enough that under a steady 20% of
/// throttles the gate was closed nearly all the time and calls ran out of their deadlines
/// while waiting at it (docs/transport.md, "The throttle gate").
///
/// Sustained throttling again right after reopening doubles the closed time (up to
/// max_backoff). A reply to a call sent before the gate last closed says nothing new (the
/// call was already in flight) and changes nothing. Each success after reopening halves the
/// backoff until it is gone.
///
/// Sans-io: callers pass the current time and sleep themselves. Thread safety: every member
/// function is safe to call concurrently (an internal mutex), so one gate can be shared by
/// coroutines on a multi-threaded executor.
class ThrottleGate {
  public:
    using clock = std::chrono::steady_clock;

    explicit ThrottleGate(ThrottleGateOptions options = {}) : options_(options) {}

    /// How long a caller of `action` should wait before sending at `now`: zero when its gate
    /// is open, else the rest of the closed time plus a jitter of up to a quarter of the
    /// current backoff (from `random`), so the waiters do not all send at the same instant.
    std::chrono::milliseconds delay_before_send(std::string_view action, clock::time_point now,
                                                std::uint64_t random) const;

    /// Records that a call of `action` sent at `sent_at` was throttled at `now`: closes its
    /// gate once the recent replies are mostly throttled, with a doubled backoff when that
    /// happens again soon after reopening.
    void on_throttled(std::string_view action, clock::time_point sent_at, clock::time_point now);

    /// Records that a call of `action` sent at `sent_at` succeeded at `now`: counts against
    /// closing, and decays the backoff once the gate is open.
    void on_success(std::string_view action, clock::time_point sent_at, clock::time_point now);

    /// The current backoff step of `action` (zero when not throttled recently).
    std::chrono::milliseconds current_backoff(std::string_view action) const;

    /// When the gate of `action` opens (or opened); the epoch when it never closed.
    clock::time_point open_at(std::string_view action) const;

  private:
    struct Gate {
        std::chrono::milliseconds backoff{0};
        clock::time_point closed_at{};  ///< when it last closed
        clock::time_point open_at{};
        /// The recent replies, oldest first, as bits (1 = throttled), at most options_.window.
        std::deque<bool> recent;
        std::size_t recent_throttled = 0;
    };

    /// Adds a reply to `gate`'s window; true when the window now says to close.
    bool record(Gate& gate, bool throttled) const;

    ThrottleGateOptions options_;
    mutable std::mutex mutex_;
    std::map<std::string, Gate, std::less<>> gates_;  ///< by action; a handful at most
};

}  // namespace eci::detail
