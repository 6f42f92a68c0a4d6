// SPDX-License-Identifier: Apache-2.0
// The UTC timestamps of the signing protocols: `x-acs-date` (ACS3) and `Timestamp` (RPC).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace eci::detail {

/// Formats `time` as ISO 8601 UTC with whole seconds, `yyyy-MM-ddTHH:mm:ssZ`
/// (e.g. `2026-03-26T17:19:23Z`). Sub-second precision is truncated toward the past: the
/// service rejects fractional seconds. Years outside 0000-9999 are clamped to that range's
/// format (four digits); no real clock gets there. Thread-safe.
std::string format_utc_timestamp(std::chrono::system_clock::time_point time);

/// Parses exactly `yyyy-MM-ddTHH:mm:ssZ` (upper-case `T` and `Z`, two-digit fields, a real
/// calendar date, hour 00-23, minute and second 00-59). Anything else, including fractional
/// seconds, a numeric offset, lower-case letters or surrounding spaces, gives nullopt, which
/// the emulator reports as InvalidTimeStamp.Format. Thread-safe.
std::optional<std::chrono::sys_seconds> parse_utc_timestamp(std::string_view text);

}  // namespace eci::detail
