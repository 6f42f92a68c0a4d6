// SPDX-License-Identifier: Apache-2.0
// .env files: a sans-io parser plus the small file helpers load_config() needs.
#pragma once

#include <eci/result.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace eci::detail {

/// One `KEY=VALUE` assignment of a .env file.
using DotenvEntry = std::pair<std::string, std::string>;

/// Parses the text of a .env file into its assignments, in file order (a key may repeat;
/// the last one wins when applied). Accepted:
/// - `KEY=VALUE` lines, optionally prefixed by `export `; spaces around `=` are ignored;
///   keys are `[A-Za-z_][A-Za-z0-9_.-]*`;
/// - blank lines, full-line `#` comments, and ` #` comments after an unquoted value
///   (a `#` with no whitespace before it is part of the value; `KEY= # note` is empty);
/// - unquoted values, trimmed of surrounding spaces;
/// - single-quoted values, taken literally (may span lines);
/// - double-quoted values with the escapes \n \r \t \" \' \\ (other backslashes stay as
///   they are), which may span lines;
/// - LF or CRLF line ends, a leading UTF-8 byte-order mark, any UTF-8 in values.
/// `${VAR}` is not expanded.
///
/// Errors: ErrorKind::invalid_argument with the 1-based line number of the first bad line
/// ("line 3: expected KEY=VALUE"): a line without `=`, a bad key, an unterminated quote,
/// or text after a closing quote. The message never contains a value.
/// Thread safety: a pure function.
Result<std::vector<DotenvEntry>> parse_dotenv(std::string_view text);

/// The first regular file named `.env` in `start` or one of its ancestors, walking up to
/// the file system root; nullopt when there is none. `start` is made absolute first.
/// File system errors (e.g. a directory that cannot be searched) end the search quietly.
std::optional<std::filesystem::path> find_dotenv(const std::filesystem::path& start);

/// Reads and parses a .env file.
///
/// Errors: ErrorKind::invalid_argument when the file does not exist, cannot be read, is
/// larger than 1 MiB, or has a syntax error (the message names the path and the line).
Result<std::vector<DotenvEntry>> read_dotenv_file(const std::filesystem::path& path);

}  // namespace eci::detail
