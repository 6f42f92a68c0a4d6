// SPDX-License-Identifier: Apache-2.0
#include <eci/logger.hpp>

#include <fmt/format.h>

#include <cstdio>

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
