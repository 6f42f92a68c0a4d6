// SPDX-License-Identifier: Apache-2.0
// Helpers shared by the fuzz targets: splitting one input into parts.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <utility>

namespace eci::fuzz {

/// The input as text (any bytes).
inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
    return {reinterpret_cast<const char*>(data), size};
}

/// Splits at the first NUL byte: (before, after). Without one: (text, "").
inline std::pair<std::string_view, std::string_view> split_at_nul(std::string_view text) {
    const auto nul = text.find('\0');
    if (nul == std::string_view::npos)
        return {text, {}};
    return {text.substr(0, nul), text.substr(nul + 1)};
}

/// Ends the run with a crash libFuzzer reports, when an invariant does not hold.
inline void require(bool condition) {
    if (!condition)
        __builtin_trap();
}

}  // namespace eci::fuzz
