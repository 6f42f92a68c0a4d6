// SPDX-License-Identifier: Apache-2.0
// The data of tmux jobs and file transfers: how to start a long-running job in a tmux session
// inside a sandbox (TmuxStartOptions), what a poll or a wait reports (TmuxPollResult), the
// sessions a sandbox has (TmuxSessionInfo), and the receipts of file writes and reads.
#pragma once

#include <eci/error.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace eci {

class ShellSession;  // <eci/shell_session.hpp>

namespace detail {
/// The 0.1 way to run a tmux job through a shell session: a `ShellSession*` in its options.
/// Setting it still works in 0.2 and warns (deprecated); it goes in 0.3. The warning is on
/// the converting constructor, not on the options' member, so copying options never warns.
class DeprecatedSessionPointer {
  public:
    constexpr DeprecatedSessionPointer() noexcept = default;
    [[deprecated(
        "call ShellSession::tmux_start, tmux_poll or tmux_wait "
        "instead")]] constexpr DeprecatedSessionPointer(ShellSession*
                                                            session) noexcept  // NOLINT: implicit
        : session_(session) {}
    constexpr ShellSession* get() const noexcept { return session_; }

  private:
    ShellSession* session_ = nullptr;
};
}  // namespace detail

/// The Python package's tmux constants, same values.
namespace tmux_defaults {
inline constexpr std::string_view session_prefix = "eci_cmd_";
inline constexpr int history_limit = 50000;
inline constexpr int output_tail_lines = 10000;
inline constexpr std::chrono::milliseconds poll_initial_delay{100};
inline constexpr std::chrono::milliseconds poll_max_delay{5000};
inline constexpr double poll_backoff_factor = 1.5;
inline constexpr std::chrono::milliseconds timeout{600000};
}  // namespace tmux_defaults

/// How to start a tmux job (Python `tmux_start`).
struct TmuxStartOptions {
    /// The session id: letters, digits, `_`, `-` (1 to 64). Empty: `eci_cmd_` + 12 random
    /// hex characters. An existing session with this id is refused (the command never runs).
    std::string session_id;
    /// Run the command in this directory (quoted: any value is safe). Empty: the default.
    std::string exec_dir;
    /// tmux `history-limit` of the session (lines kept for polls). Must be positive.
    int history_limit = tmux_defaults::history_limit;
    /// Deadline of the start (each exec it needs). Default 60 s.
    std::chrono::milliseconds timeout{60000};
    /// The container; empty = the handle's container (or the group's first on the client).
    std::string container_name;
    /// Deprecated (0.2; removed in 0.3): call ShellSession::tmux_start, which runs the job
    /// through that session and needs no pointer that must outlive the call.
    detail::DeprecatedSessionPointer session;
};

/// The state of a tmux job.
enum class TmuxStatus {
    running,    ///< the command is still running
    completed,  ///< it ended; `exit_code` is set when known
    not_found,  ///< no session with that id (never started, killed or cleaned up)
};

/// The stable lower-case name: "running", "completed" or "not_found".
std::string_view to_string(TmuxStatus status) noexcept;

/// What one poll (or the end of a wait) saw (Python `TmuxPollResult`).
struct TmuxPollResult {
    std::string session_id;
    TmuxStatus status = TmuxStatus::not_found;
    /// The command's exit code when completed (from the job's exit marker; else from tmux's
    /// record of the dead pane, 128 + N for a signal).
    std::optional<int> exit_code;
    /// The last `tail_lines` lines of the pane, without the marker line and tmux's
    /// "Pane is dead" lines, trailing blank lines trimmed.
    std::string output;
    bool output_truncated = false;  ///< the capture reached `tail_lines` lines
    std::string request_id;         ///< RequestId of the exec that polled
};

/// How to poll a tmux job.
struct TmuxPollOptions {
    int tail_lines = tmux_defaults::output_tail_lines;
    /// Deadline of the poll's exec. Default 60 s.
    std::chrono::milliseconds timeout{60000};
    /// The container; empty = the handle's container (or the group's first on the client).
    std::string container_name;
    /// Deprecated (0.2; removed in 0.3): call ShellSession::tmux_poll.
    detail::DeprecatedSessionPointer session;
};

/// How to wait for a tmux job (Python `tmux_wait`).
struct TmuxWaitOptions {
    /// Overall deadline. Default 600 s. On expiry: an ErrorKind::timeout error whose
    /// `partial` holds the last output seen (never a success).
    std::chrono::milliseconds timeout = tmux_defaults::timeout;
    std::chrono::milliseconds poll_interval = tmux_defaults::poll_initial_delay;
    std::chrono::milliseconds max_poll_interval = tmux_defaults::poll_max_delay;
    double backoff_factor = tmux_defaults::poll_backoff_factor;
    int tail_lines = tmux_defaults::output_tail_lines;
    /// Kill the session once it completed (or the wait timed out). Default true.
    bool cleanup = true;
    /// The container; empty = the handle's container (or the group's first on the client).
    std::string container_name;
    /// Deprecated (0.2; removed in 0.3): call ShellSession::tmux_wait.
    detail::DeprecatedSessionPointer session;
};

/// A tmux session in a sandbox (Python `tmux_list` entries).
struct TmuxSessionInfo {
    std::string session_id;
    std::int64_t created = 0;  ///< Unix time, seconds
    int attached = 0;          ///< number of attached clients
};

/// How to write or read a file.
struct FileTransferOptions {
    /// The default of max_bytes: 64 MiB.
    static constexpr std::size_t default_max_bytes = 64u * 1024u * 1024u;

    /// Deadline of the whole transfer. Default 60 s (the Python default).
    std::chrono::milliseconds timeout{60000};
    /// read_file only: the largest file accepted, in bytes. The transfer (the file as base64
    /// and its framing) is bounded accordingly: a larger file, or a server that streams
    /// without end, fails the read (protocol) once the bound is passed, so memory stays near
    /// twice this bound. Default 64 MiB; 0 means the default.
    std::size_t max_bytes = default_max_bytes;
    /// The container; empty = the handle's container (or the group's first on the client).
    std::string container_name;
};

/// The receipt of a write_file_ws.
struct FileWriteResult {
    std::string path;
    std::size_t size = 0;    ///< bytes written, checked in the sandbox
    std::string sha256;      ///< lower-case hex, equal on both ends
    std::string request_id;  ///< of the ExecContainerCommand call
};

/// A file read back from a sandbox.
struct FileReadResult {
    std::string path;
    std::string content;  ///< the exact bytes
    std::string sha256;   ///< lower-case hex, checked against the sandbox's own hash
    std::string request_id;
};

}  // namespace eci
