// SPDX-License-Identifier: Apache-2.0
// Text from a server made safe to print on a terminal: control characters escaped, error
// lines bounded. A server (or anyone in the middle of a plain-http endpoint) controls sandbox
// names, statuses and error messages; printed raw, an escape sequence could rewrite the
// screen and a newline could forge a line of our output.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace eci::cli {

/// `text` with every byte a terminal would act on escaped: C0 controls (newline, carriage
/// return and tab included) and DEL as `\xNN`, C1 controls (U+0080-U+009F) and the bidi
/// overrides and isolates (U+202A-U+202E, U+2066-U+2069) as `\uNNNN`, and bytes that are
/// not valid UTF-8 as `\xNN`. Printable text, UTF-8 included, is kept.
std::string terminal_safe(std::string_view text);

/// The same for a JSON document (from boost::json::serialize, which already escapes C0):
/// DEL, C1 controls and the bidi controls become `\u00NN`/`\u20NN` escapes, which only occur
/// inside JSON strings, so the document stays valid and means the same.
std::string terminal_safe_json(std::string_view json);

/// The longest error line `eci-sandbox` prints (bytes, before the newline).
inline constexpr std::size_t max_error_line_bytes = 2000;

/// `line` cut to `max_bytes` at a UTF-8 character boundary, with
/// " ... (N more bytes)" appended when it was cut.
std::string bounded_line(std::string_view line, std::size_t max_bytes = max_error_line_bytes);

}  // namespace eci::cli
