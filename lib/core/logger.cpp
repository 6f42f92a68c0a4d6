// SPDX-License-Identifier: Apache-2.0
#include <eci/logger.hpp>

#include "core/log.hpp"

#include <fmt/format.h>

#include <cstdio>
#include <iterator>

namespace eci {

std::string_view to_string(LogLevel level) noexcept {
    switch (level) {
        case LogLevel::trace:
            return "trace";
        case LogLevel::debug:
            return "debug";
        case LogLevel::info:
            return "info";
        case LogLevel::warn:
            return "warn";
        case LogLevel::error:
            return "error";
        case LogLevel::off:
            return "off";
    }
    return "unknown";
}

std::string format_fields(const LogFields& fields) {
    std::string text;
    auto append = [&text](std::string_view key, const auto& value) {
        if (!text.empty())
            text += ' ';
        fmt::format_to(std::back_inserter(text), "{}={}", key, value);
    };
    if (!fields.action.empty())
        append("action", fields.action);
    if (!fields.sandbox_id.empty())
        append("sandbox_id", fields.sandbox_id);
    if (!fields.request_id.empty())
        append("request_id", fields.request_id);
    if (fields.attempt > 0)
        append("attempt", fields.attempt);
    if (fields.latency)
        append("latency_us", fields.latency->count());
    if (fields.dispatch)
        append("dispatch", to_string(*fields.dispatch));
    if (fields.exit_code)
        append("exit_code", *fields.exit_code);
    if (fields.error_kind)
        append("error_kind", to_string(*fields.error_kind));
    if (!fields.error_code.empty())
        append("error_code", fields.error_code);
    if (!fields.endpoint.empty())
        append("endpoint", fields.endpoint);
    return text;
}

namespace detail {

void deliver(const Logger& logger, LogLevel level, std::string_view message,
             const LogFields* fields) noexcept {
    try {
        if (logger.record_sink) {
            logger.record_sink(LogRecord{level, message, fields ? *fields : LogFields{}});
            return;
        }
        const std::string rendered = fields ? format_fields(*fields) : std::string();
        if (rendered.empty()) {
            logger.sink(level, message);
            return;
        }
        logger.sink(level, fmt::format("{} [{}]", message, rendered));
    } catch (...) {  // NOLINT(bugprone-empty-catch): a log line never changes a call's outcome
    }
}

}  // namespace detail

Logger make_stderr_logger(LogLevel level) {
    Logger logger;
    logger.level = level;
    logger.sink = [](LogLevel message_level, std::string_view message) {
        // One fwrite per line so lines from different threads do not interleave mid-line.
        const std::string line = fmt::format("[eci] {}: {}\n", to_string(message_level), message);
        std::fwrite(line.data(), 1, line.size(), stderr);
    };
    return logger;
}

}  // namespace eci

fmt::format_context::iterator fmt::formatter<eci::LogLevel>::format(
    eci::LogLevel level, fmt::format_context& ctx) const {
    return fmt::formatter<std::string_view>::format(eci::to_string(level), ctx);
}
