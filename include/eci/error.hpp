// SPDX-License-Identifier: Apache-2.0
// eci::Error: what went wrong, as a value.
#pragma once

#include <fmt/core.h>

#include <memory>
#include <string>
#include <string_view>
#include <system_error>

namespace eci {

struct CommandResult;  // eci/command.hpp; only referenced here, so error.hpp stays light

/// The broad class of a failure: what a caller branches on.
enum class ErrorKind {
    invalid_argument = 1,  ///< the caller's input was refused (locally or by the service)
    auth,                  ///< credentials missing or refused, signature mismatch, forbidden
    not_found,             ///< the sandbox (or another named resource) does not exist
    throttled,             ///< the service (or the local limiter) asked us to slow down
    timeout,               ///< a deadline passed before the operation completed
    network,               ///< connect, reset, DNS or other transport failure
    tls,                   ///< TLS handshake or certificate verification failed
    protocol,              ///< the peer sent something we cannot understand
    service,               ///< the service failed (5xx) or refused for another reason
    cancelled,             ///< the operation was cancelled by the caller
};

/// The stable lower-case name of a kind, e.g. "invalid_argument".
std::string_view to_string(ErrorKind kind) noexcept;

/// The std::error_category of ErrorKind values ("eci").
const std::error_category& error_category() noexcept;
std::error_code make_error_code(ErrorKind kind) noexcept;

/// Whether a command reached the sandbox before the failure (the dispatch evidence of the
/// exec paths; `not_applicable` for every call that does not run a command).
enum class Dispatch {
    not_applicable,  ///< not a command
    not_sent,        ///< the request never left this process (connect/TLS failure): safe to resend
    refused,         ///< the service refused it before running anything: safe to resubmit
    accepted,        ///< the service accepted it: it ran, or is running
    unknown,         ///< cannot be known (reply lost after sending): never resubmit blindly
};
std::string_view to_string(Dispatch dispatch) noexcept;

/// A failure with its diagnostics. `message` is the library's own text and always safe to
/// log; `service_message` is text the server sent. Neither ever holds a secret.
struct Error {
    ErrorKind kind = ErrorKind::service;
    std::string code;             ///< the service's error Code, e.g. "InvalidParameter"; empty
                                  ///< when the failure happened on our side
    std::string message;          ///< what happened, in the library's words
    std::string service_message;  ///< the service's Message, when it sent one
    std::string request_id;       ///< the service's RequestId, when there was a reply
    int http_status = 0;          ///< HTTP status of the reply; 0 when there was none
    std::string endpoint;         ///< host[:port] the call went to, when known
    Dispatch dispatch = Dispatch::not_applicable;
    /// The sandbox a failed create() made, when it made one: its wait failed, timed out or
    /// was cancelled, or its delete of it failed. Empty when no sandbox is known to exist (or
    /// the call did not create one). Read it with `sandbox_deleted`; the id is in `message` too.
    std::string sandbox_id;
    /// Whether create() deleted `sandbox_id` (confirmed gone) before returning the error:
    /// false when CreateOptions::keep_on_failure kept it or the delete itself failed, so the
    /// caller owns it (remove() it, or reap() finds it by its tags).
    bool sandbox_deleted = false;
    /// For a command that timed out, was cancelled or lost its connection after it started:
    /// what it produced until then (outcome timed_out, cancelled or connection_lost). Null for
    /// every other error. Include <eci/command.hpp> to read it.
    std::shared_ptr<const CommandResult> partial;

    /// Whether a caller may retry the same call: throttling, 5xx, ServiceUnavailable and
    /// transport failures. It says nothing about whether a retry is *safe* (an exec that
    /// failed with an unknown outcome must not be resubmitted; see `dispatch`).
    bool is_retryable() const noexcept;

    /// One line: kind, code, HTTP status, message, service message and RequestId.
    std::string to_string() const;

    std::error_code error_code() const noexcept { return make_error_code(kind); }

    /// Builds an error with just a kind and the library's message.
    static Error make(ErrorKind kind, std::string message);
};

}  // namespace eci

namespace std {
template <>
struct is_error_code_enum<eci::ErrorKind> : true_type {};
}  // namespace std

template <>
struct fmt::formatter<eci::Error> : fmt::formatter<std::string_view> {
    fmt::format_context::iterator format(const eci::Error& error, fmt::format_context& ctx) const;
};

template <>
struct fmt::formatter<eci::ErrorKind> : fmt::formatter<std::string_view> {
    fmt::format_context::iterator format(eci::ErrorKind kind, fmt::format_context& ctx) const;
};
