// SPDX-License-Identifier: Apache-2.0
// eci::Logger: a level plus a callback the program supplies. The library never writes to
// stdout or stderr on its own.
#pragma once

#include <fmt/core.h>

#include <functional>
#include <string_view>

namespace eci {

/// Severity of a log message, from most to least verbose; `off` disables logging.
enum class LogLevel { trace, debug, info, warn, error, off };

/// The stable lower-case name of a level, e.g. "warn".
std::string_view to_string(LogLevel level) noexcept;

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
    /// Receives each message (one line, no trailing newline). Empty = log nothing.
    std::function<void(LogLevel, std::string_view)> sink;

    /// Whether a message at `message_level` reaches the sink.
    bool enabled(LogLevel message_level) const noexcept {
        return sink && message_level != LogLevel::off && level != LogLevel::off &&
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
