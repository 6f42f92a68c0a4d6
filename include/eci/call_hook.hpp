// SPDX-License-Identifier: Apache-2.0
// eci::CallHook: a function the client calls at the start and end of every OpenAPI attempt,
// where a program attaches its own metrics or tracing (OpenTelemetry spans, Prometheus).
#pragma once

#include <eci/error.hpp>

#include <chrono>
#include <functional>
#include <optional>
#include <string_view>

namespace eci {

/// Which moment of an attempt a CallEvent reports.
enum class CallPhase {
    start,  ///< the signed request is about to be sent
    end,    ///< the service answered with success and the reply was read
    error,  ///< the attempt failed (`will_retry` says whether another attempt follows)
};

/// The stable lower-case name of a phase: "start", "end" or "error".
std::string_view to_string(CallPhase phase) noexcept;

/// One moment of one attempt of an OpenAPI call. Views are valid during the hook call only.
/// Holds no secret: no parameters, headers, signatures, bodies or URLs.
struct CallEvent {
    CallPhase phase = CallPhase::start;
    std::string_view action{};  ///< the ECI action, e.g. "CreateContainerGroup"
    int attempt = 1;            ///< 1 for the first attempt of a call, 2 for the first retry, ...
    /// end and error: this attempt's exchange (send to reply or failure); zero at start.
    std::chrono::microseconds latency{0};
    /// end and error: the whole call so far (rate-limit waits, earlier attempts and backoff
    /// included); zero at start.
    std::chrono::microseconds call_elapsed{0};
    std::string_view request_id{};  ///< the reply's RequestId (end; error when there was a reply)
    std::optional<ErrorKind> error_kind{};  ///< error only
    std::string_view error_code{};          ///< error only: the service's Code, when it sent one
    int http_status = 0;                    ///< the reply's HTTP status; 0 without a reply
    Dispatch dispatch = Dispatch::not_applicable;  ///< error only: whether it reached the service
    bool will_retry = false;  ///< error only: another attempt of the same call follows
};

/// Called synchronously on the client's executor for every attempt: once with `start`, then
/// once with `end` or `error`. Keep it short and non-blocking (record, enqueue); an exception
/// it throws is swallowed (observing never fails a call).
using CallHook = std::function<void(const CallEvent&)>;

}  // namespace eci
