// SPDX-License-Identifier: Apache-2.0
// Internal logging helper: formats a message only when the logger would take it.
#pragma once

#include <eci/logger.hpp>

#include <fmt/format.h>

#include <utility>

namespace eci::detail {

/// Hands one formatted message (and its fields, when not null) to the logger's record_sink,
/// or else its sink. Never throws.
void deliver(const Logger& logger, LogLevel level, std::string_view message,
             const LogFields* fields) noexcept;

/// Formats `format` with `args` and hands it to `logger.sink`, if `logger.enabled(level)`.
/// Nothing is formatted otherwise, so callers may pass values that are costly to render.
/// Never throws: a failure to format or an exception from the sink is dropped, because a
/// log line must never change the outcome of a call. Pass only values that are safe to log
/// (see core/redact.hpp for headers and query strings).
template <class... Args>
void log(const Logger& logger, LogLevel level, fmt::format_string<Args...> format,
         Args&&... args) noexcept {
    if (!logger.enabled(level))
        return;
    try {
        const std::string message = fmt::format(format, std::forward<Args>(args)...);
        deliver(logger, level, message, nullptr);
    } catch (...) {  // NOLINT(bugprone-empty-catch): see above
    }
}

/// As above, with structured fields: a record_sink gets them apart, a plain sink appended to
/// the message (format_fields). Build `fields` only when `logger.enabled(level)` if any of
/// it costs more than a few copies of views.
template <class... Args>
void log(const Logger& logger, LogLevel level, const LogFields& fields,
         fmt::format_string<Args...> format, Args&&... args) noexcept {
    if (!logger.enabled(level))
        return;
    try {
        const std::string message = fmt::format(format, std::forward<Args>(args)...);
        deliver(logger, level, message, &fields);
    } catch (...) {  // NOLINT(bugprone-empty-catch): see above
    }
}

}  // namespace eci::detail
