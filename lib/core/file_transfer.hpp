// SPDX-License-Identifier: Apache-2.0
// Sans-io file transfer: the shell scripts that write a file from stdin and read one back over
// stdout, byte-exact and binary-safe, each checked end to end with SHA-256, and the parsers for
// their replies. One exec per transfer (argv from `shell_argv`). A hash or size mismatch is an
// error; a write never leaves a partial or corrupt file at the destination (it goes to a
// temporary file next to it and is renamed only after the check). Pure and thread-safe.
#pragma once

#include <eci/result.hpp>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace eci::detail {

/// The stdin chunk size for writes: small enough for one WebSocket stdin frame each.
inline constexpr std::size_t file_stdin_chunk_size = 32 * 1024;

/// A planned write: send `content` as stdin (see `split_stdin_chunks`) to `script`.
struct FileWritePlan {
    std::string script;
    std::string expected_sha256;  ///< lower-case hex of the content, computed here
    std::size_t size = 0;
};

/// Plans writing `content` (any bytes) to `path` in the sandbox. The script reads exactly
/// `content.size()` bytes from stdin (it does not need stdin to be closed), writes them to
/// `<path>.eci-tmp-<nonce>`, compares their SHA-256 with the expected one, and renames the
/// temporary file over `path` only when they match; on a mismatch it removes it.
/// Errors: ErrorKind::invalid_argument for an empty path or one holding a NUL byte;
/// ErrorKind::tls when the random nonce cannot be generated.
Result<FileWritePlan> plan_file_write(std::string_view path, std::string_view content);

/// `data` cut into views of at most `chunk_size` bytes, in order (none for empty data).
/// The views point into `data`.
std::vector<std::string_view> split_stdin_chunks(std::string_view data,
                                                 std::size_t chunk_size = file_stdin_chunk_size);

/// Checks a write script's stdout. Errors: ErrorKind::protocol for a hash mismatch (the file
/// was not written) or a reply without a framing line; ErrorKind::not_found when the
/// directory does not exist; ErrorKind::service for another failure (message from the shell).
Result<void> parse_file_write_reply(std::string_view stdout_text, const FileWritePlan& plan);

/// The read script for `path`: prints the file's SHA-256, then its bytes as base64, then an end
/// line. Errors: ErrorKind::invalid_argument for an empty path or one holding a NUL byte.
Result<std::string> file_read_script(std::string_view path);

/// Decodes a read script's stdout into the file's bytes and checks them against the hash the
/// sandbox computed. Errors: ErrorKind::not_found (no such file), ErrorKind::invalid_argument
/// (not a regular file), ErrorKind::protocol (missing framing, truncated output, bad base64,
/// hash mismatch: never a silently corrupt result), ErrorKind::service (another failure).
Result<std::string> parse_file_read_reply(std::string_view stdout_text);

}  // namespace eci::detail
