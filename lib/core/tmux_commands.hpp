// SPDX-License-Identifier: Apache-2.0
// Sans-io tmux jobs: the shell scripts that start, poll, kill and list tmux sessions inside a
// sandbox, and the parsers for what those scripts print. Each script is one POSIX shell
// command, run by one exec (argv `sh -c <script>`, see `shell_argv`), so every tmux operation
// costs exactly one exec. No I/O happens here; every function is pure and thread-safe.
//
// Every script frames its reply with `__ECI_TMUX_...__` lines on stdout, so a parser can tell
// "no such session" from output, and "session exists" from a tmux failure, without relying on
// an exit code (the real service does not always report one).
#pragma once

#include <eci/result.hpp>
#include <eci/tmux.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace eci::detail {

// The Python package's constants, same values (the public ones live in eci::tmux_defaults).
inline constexpr std::string_view tmux_session_prefix = tmux_defaults::session_prefix;
inline constexpr int tmux_history_limit = tmux_defaults::history_limit;
inline constexpr int tmux_output_tail_lines = tmux_defaults::output_tail_lines;
inline constexpr std::string_view tmux_marker_exit_code = "__ECI_MARKER_EXIT_CODE__";
inline constexpr std::chrono::milliseconds tmux_poll_initial_delay =
    tmux_defaults::poll_initial_delay;
inline constexpr std::chrono::milliseconds tmux_poll_max_delay = tmux_defaults::poll_max_delay;
inline constexpr double tmux_poll_backoff_factor = tmux_defaults::poll_backoff_factor;
inline constexpr std::chrono::milliseconds tmux_default_timeout = tmux_defaults::timeout;
/// Commands whose base64 form is longer than this travel as a script file written first
/// (see `TmuxStartPlan::script_file`), because the exec API limits the command length.
inline constexpr std::size_t tmux_inline_base64_limit = 1200;
/// Longest accepted session id: tmux has no hard limit, but the id is part of file names and
/// of every command, which the exec API limits in length.
inline constexpr std::size_t tmux_max_session_id_length = 64;

// The public types, used here unqualified (and by code that says `using namespace
// eci::detail`).
using eci::TmuxPollResult;
using eci::TmuxSessionInfo;
using eci::TmuxStatus;

/// `{"sh", "-c", script}`: the argv that runs one of this file's scripts through one exec.
std::vector<std::string> shell_argv(std::string script);

/// A fresh session id: `eci_cmd_` followed by 12 random lower-case hex characters.
/// Errors: ErrorKind::tls when OpenSSL's random generator fails.
Result<std::string> generate_tmux_session_id();

/// Checks a caller's session id: 1 to 64 characters, each an ASCII letter, digit, `_` or `-`
/// (so it is a single shell word and cannot be read as a tmux target pattern).
/// Errors: ErrorKind::invalid_argument naming the offending character.
Result<void> validate_tmux_session_id(std::string_view session_id);

/// The backoff step of tmux_wait: `current * 1.5`, at most 5 s.
std::chrono::milliseconds next_tmux_poll_delay(std::chrono::milliseconds current);

/// `/tmp/tmux_cmd_<id>.sh`: where a long command's script is written before tmux_start.
std::string tmux_script_path(std::string_view session_id);

/// `/tmp/eci_tmux_<id>.rc`: where the job writes its exit code before printing the marker
/// line. A job that ends within milliseconds can die before tmux reads its last bytes (the
/// marker included) from the pty; the file still tells its exit code. Removed by the kill
/// script and by a new start with the same id.
std::string tmux_rc_path(std::string_view session_id);

/// The script the tmux pane runs: `cd` to `exec_dir` (when given), the user's command in a
/// subshell `( ... )` (so its `exit` ends only the subshell), then its exit code written to
/// tmux_rc_path, then an empty line and `__ECI_MARKER_EXIT_CODE__<id>__<exit code>`; then
/// (inside tmux) it waits, at most ~2 s, until the pane shows that marker, and exits with the
/// command's code. A failed `cd` skips the command and reports its status. Precondition:
/// `session_id` is valid.
std::string tmux_wrapped_command(std::string_view command, std::string_view session_id,
                                 std::optional<std::string_view> exec_dir);

/// What tmux_start sends: optionally a script file to write first, then one start script.
struct TmuxStartPlan {
    /// Set for long commands: write `script_file_content` to this path (with the file
    /// transfer's write script) before running `start_script`. After an uncertain start reply
    /// the file must be kept: the session may be running it.
    std::optional<std::string> script_file;
    std::string script_file_content;
    /// One shell command: refuses an existing session, creates it with `history-limit` and
    /// `remain-on-exit on` in the same tmux invocation, and reports with a framing line.
    std::string start_script;
};

/// Plans tmux_start. `history_limit` must be positive.
/// Errors: ErrorKind::invalid_argument for an invalid session id or history limit, or an
/// exec_dir holding a NUL byte.
Result<TmuxStartPlan> plan_tmux_start(std::string_view command, std::string_view session_id,
                                      std::optional<std::string_view> exec_dir,
                                      int history_limit = tmux_history_limit);

/// How a start script ended.
enum class TmuxStartOutcome {
    started,         ///< the session runs the command
    session_exists,  ///< refused: a session with that id exists (the command did not run)
    tmux_missing,    ///< refused: no `tmux` in the sandbox's PATH
    script_missing,  ///< refused: the long command's script file is not there
    failed,          ///< tmux failed; `detail` holds its message
};

struct TmuxStartReply {
    TmuxStartOutcome outcome = TmuxStartOutcome::failed;
    std::string detail;  ///< tmux's message for `failed`, else empty
};

/// Reads a start script's stdout. Anything without a framing line is `failed` with the
/// (trimmed) text as detail.
TmuxStartReply parse_tmux_start_reply(std::string_view stdout_text);

/// The poll script: one exec that prints
/// `__ECI_TMUX_FOUND__:<pane_dead>:<status>:<signal>:<rc file>` (the exit code the job wrote
/// to tmux_rc_path, empty while it runs) followed by the last `tail_lines` lines of the pane
/// (history included, wrapped lines joined), or `__ECI_TMUX_NOT_FOUND__`. Precondition:
/// `session_id` is valid.
std::string tmux_poll_script(std::string_view session_id, int tail_lines = tmux_output_tail_lines);

/// The most stdout a poll of `tail_lines` lines may return: 2 KiB a line (lines are joined
/// across the pane's width) plus 64 KiB for the framing. A larger reply fails the poll
/// instead of filling memory (for the default 10000 lines, about 20 MiB).
std::size_t tmux_poll_reply_bound(int tail_lines) noexcept;

/// Parses a poll script's stdout into a TmuxPollResult (session_id set, request_id left
/// empty). Errors: ErrorKind::protocol when the framing line is missing (the script did not
/// run as written).
Result<TmuxPollResult> parse_tmux_poll_reply(std::string_view stdout_text,
                                             std::string_view session_id,
                                             int tail_lines = tmux_output_tail_lines);

/// Kills the session (its processes get SIGHUP) and removes its script and rc files, if any. Prints
/// `__ECI_TMUX_KILLED__` or `__ECI_TMUX_NOT_FOUND__`. Precondition: `session_id` is valid.
std::string tmux_kill_script(std::string_view session_id);

/// Whether the kill script found and killed the session. Errors: ErrorKind::protocol when
/// neither framing line is present.
Result<bool> parse_tmux_kill_reply(std::string_view stdout_text);

/// Lists every session as `name:created:attached` after a `__ECI_TMUX_LIST__` line; no tmux
/// server (or no tmux) gives an empty list, not an error.
std::string tmux_list_script();

/// Parses the list script's stdout. Errors: ErrorKind::protocol when the framing line is
/// missing or a line is malformed; ErrorKind::service when tmux itself failed.
Result<std::vector<TmuxSessionInfo>> parse_tmux_list_reply(std::string_view stdout_text);

}  // namespace eci::detail
