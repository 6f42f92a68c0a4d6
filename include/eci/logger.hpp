// SPDX-License-Identifier: Apache-2.0
// eci::Logger: a level plus a callback the program supplies. The library never writes to
// stdout or stderr on its own.
#pragma once

#include <eci/error.hpp>

#include <fmt/core.h>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace eci {

/// Severity of a log message, from most to least verbose; `off` disables logging.
enum class LogLevel { trace, debug, info, warn, error, off };

/// The stable lower-case name of a level, e.g. "warn".
std::string_view to_string(LogLevel level) noexcept;

/// The structured context of one log message, for a logger that routes, indexes or counts by
/// field. Every field is optional (empty or nullopt: does not apply to this message). The
/// views are valid only during the sink call. Never holds a secret: no credentials,
/// signatures, tokens, URLs with tokens, commands, output or environment values.
struct LogFields {
    /// The ECI action ("CreateContainerGroup", ...) of an API call, or "exec" for the exec
    /// WebSocket of a command.
    std::string_view action{};
    std::string_view sandbox_id{};  ///< the container group the message is about
    std::string_view request_id{};  ///< the service's RequestId of the reply
    int attempt = 0;  ///< 1 for a call's first attempt, 2 for its first retry; 0 = n/a
    std::optional<std::chrono::microseconds> latency{};  ///< how long the step took
    std::optional<Dispatch> dispatch{};     ///< whether the request reached the service
    std::optional<int> exit_code{};         ///< a command's exit code
    std::optional<ErrorKind> error_kind{};  ///< the failure's kind
    std::string_view error_code{};          ///< the service's error Code
    std::string_view endpoint{};            ///< host[:port] of the connection
};

/// The fields that are set, as `key=value` pairs separated by spaces ("action=DeleteContainerGroup
/// sandbox_id=eci-1 attempt=1 latency_us=5230"); empty when none is. This is what a plain
/// `Logger::sink` receives after the message, in square brackets.
std::string format_fields(const LogFields& fields);

/// One log message with its fields, as Logger::record_sink receives it.
struct LogRecord {
    LogLevel level = LogLevel::info;
    std::string_view message{};  ///< one line, without the fields
    LogFields fields;
};

/// Where the library's diagnostics go. A default Logger logs nothing.
///
/// The sink is called synchronously from whichever thread runs the library's I/O, with a
/// message that is only valid during the call; it must not block for long and must be safe
/// to call concurrently if the program runs the library on several threads. An exception
/// from the sink is swallowed (logging never fails a call). Messages never hold secrets:
/// headers and query parameters pass through an allow-list first.
struct Logger {
    /// Messages below this level are dropped (and never formatted). Default off.
    LogLevel level = LogLevel::off;
    /// Receives each message (one line, no trailing newline), its structured fields appended
    /// as ` [key=value ...]` when it has any. Empty = log nothing (unless record_sink is set).
    std::function<void(LogLevel, std::string_view)> sink;
    /// Receives each message and its fields apart, for a logger that routes by field (a JSON
    /// log, spans). When set it is called instead of `sink`. Default empty. Since 0.2.
    std::function<void(const LogRecord&)> record_sink{};

    /// Whether a message at `message_level` reaches a sink.
    bool enabled(LogLevel message_level) const noexcept {
        return (sink || record_sink) && message_level != LogLevel::off && level != LogLevel::off &&
               message_level >= level;
    }
};

/// A logger writing `[eci] <level>: <message>` lines to stderr, from `level` up.
/// Thread safety: each line is written with one fwrite call.
Logger make_stderr_logger(LogLevel level);

}  // namespace eci

template <>
struct fmt::formatter<eci::LogLevel> : fmt::formatter<std::string_view> {
    fmt::format_context::iterator format(eci::LogLevel level, fmt::format_context& ctx) const;
};
