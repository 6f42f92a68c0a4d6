// SPDX-License-Identifier: Apache-2.0
// Removes the exit-code line `<marker><digits>\n` (core/shell_wrappers.hpp) from a stderr
// stream fed chunk by chunk, and remembers the code.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace eci::detail {

/// The length of the longest end of `text` that is a proper prefix of `token`: the bytes a
/// streaming scanner must hold back because the next chunk may complete the token.
std::size_t partial_token_suffix(std::string_view text, std::string_view token) noexcept;

/// A streaming filter for stderr. Bytes that might be the start of the marker are held back
/// until the next chunk shows whether they are; everything else passes at once, so a
/// streaming caller sees the output without the report, in order, with little delay.
///
/// The first complete, well-formed report (marker, an exit code 0-255 in 1-3 digits, '\n',
/// or "\r\n" as a TTY's line discipline writes it) is
/// removed and its code kept; anything else that looks like the marker but is not well formed
/// passes through unchanged. Thread safety: none.
class ExitMarkerFilter {
  public:
    explicit ExitMarkerFilter(std::string marker);

    /// Feeds one chunk; returns the bytes to pass on (possibly empty).
    std::string feed(std::string_view chunk);

    /// The end of the stream: returns every byte still held back.
    std::string finish();

    /// The reported code, once a complete report was seen.
    std::optional<int> exit_code() const noexcept { return exit_code_; }

  private:
    std::string take_passable();

    std::string marker_;
    std::string pending_;
    bool in_report_ = false;  // pending_ starts right after a complete marker
    std::optional<int> exit_code_;
};

}  // namespace eci::detail
