// SPDX-License-Identifier: Apache-2.0
// Text helpers for programs around sandboxes: the library's own quoting and Base64, so a
// program building a `bash` command or a file's content does not bring its own.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace eci {

/// `text` as one POSIX shell word: in single quotes, each `'` written as `'\''`. Safe for
/// any bytes; e.g. `"cat " + shell_quote(path)` for a `bash` command.
std::string shell_quote(std::string_view text);

/// Standard Base64 (RFC 4648 §4, `+/`, `=` padding) of the bytes of `data`.
std::string base64_encode(std::string_view data);

/// Decodes standard padded Base64. nullopt on a character outside the alphabet, a length that
/// is not a multiple of 4, misplaced padding, or non-zero bits in the padding.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace eci
