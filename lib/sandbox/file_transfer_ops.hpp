// SPDX-License-Identifier: Apache-2.0
// The file transfers of the sandbox layer: core/file_transfer's scripts run with one exec
// each. Shared by write_file_ws / read_file and by tmux_start (its long-command script file).
#pragma once

#include <eci/async_sandbox.hpp>
#include <eci/tmux.hpp>

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <memory>
#include <string>

namespace eci::detail {

/// Writes `content` to `path` in `container_name` of `sandbox_id`: one exec of the write
/// script with the bytes on stdin after it (sent in frames of at most file_stdin_chunk_size bytes
/// by the exec WebSocket), checked by size and SHA-256 in the sandbox before the rename. Errors:
/// invalid_argument (empty path, NUL byte); not_found (no such directory); protocol (hash mismatch:
/// nothing written); service; those of run_exec. Never retried after an unknown outcome.
/// Cancellation: terminal, through the awaiting coroutine.
boost::asio::awaitable<Result<FileWriteResult>> write_file(
    std::shared_ptr<AsyncEciSandbox::State> state, std::string sandbox_id,
    std::string container_name, std::string path, std::string content,
    std::chrono::milliseconds timeout);

/// Reads `path` back, byte-exact: one exec of the read script; stdout is collected whole up
/// to the base64 size of `max_bytes` plus framing (file_read_reply_bound), so the content is
/// never truncated: a larger transfer fails. The bytes are checked against the sandbox's
/// SHA-256. Errors: not_found (no such file); invalid_argument (empty path, not a regular
/// file); protocol (corrupt or cut transfer, or larger than the bound); service; those of
/// run_exec. Retried like any read-only exec (idempotent).
boost::asio::awaitable<Result<FileReadResult>> read_file(
    std::shared_ptr<AsyncEciSandbox::State> state, std::string sandbox_id,
    std::string container_name, std::string path, std::chrono::milliseconds timeout,
    std::size_t max_bytes);

/// The stdout bound of reading a file of at most `max_bytes`: its base64 (4 bytes per 3,
/// plus a newline every 76), the hash and end lines, and slack for a shell's noise.
std::size_t file_read_reply_bound(std::size_t max_bytes) noexcept;

}  // namespace eci::detail
