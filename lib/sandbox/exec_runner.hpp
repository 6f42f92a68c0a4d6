// SPDX-License-Identifier: Apache-2.0
// The exec primitive every command of the sandbox layer runs on: ExecContainerCommand, then
// the exec WebSocket, with a deadline, bounded output, streaming, the exit-code marker and
// dispatch evidence. bash, bash_ws, exec_command and the tmux operations are built on it.
// The start (slot, call, connect) is sandbox/exec_start.hpp's, shared with the other exec paths.
#pragma once

#include <eci/async_sandbox.hpp>
#include <eci/command.hpp>

#include "net/exec_websocket.hpp"

#include <boost/asio/awaitable.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace eci::detail {

/// One command to run.
struct ExecPlan {
    std::string sandbox_id;
    std::string container_name;     ///< required (see resolve_container_name)
    std::vector<std::string> argv;  ///< sent as the Command JSON array
    /// Sent on stdin after connecting (Stdin is turned on); nullopt = Stdin off.
    std::optional<std::string> stdin_data;
    /// More stdin, pulled piece by piece after `stdin_data` (Stdin is turned on): a stream of
    /// any size in bounded memory (upload). A rerun must restart it (see on_rerun). Optional.
    StdinSource stdin_source;
    bool tty = false;
    /// Non-empty: the command reports its exit code as `<exit_marker><code>\n` on stderr
    /// (core/shell_wrappers.hpp); that line is removed and its code wins over the exit frame.
    std::string exit_marker;
    /// The command itself travels only on stdin: a failure before the WebSocket connected
    /// proves it never ran (Dispatch::not_sent instead of unknown).
    bool command_on_stdin = false;
    /// Called before an idempotent command runs again after its stream broke (see run_exec):
    /// whatever was gathered from the broken run must be dropped. Optional.
    std::function<void()> on_rerun;
    /// The most output (stdout + stderr) the stream may deliver; beyond it the stream is
    /// closed and the run fails (protocol). 0 = no bound (the caller's collector bounds
    /// what is kept; the timeout bounds the rest).
    std::size_t max_stream_bytes = 0;
};

/// Runs `plan` under `options` (timeout, output bound, streaming callback, idempotent, sync).
///
/// Errors: those of ExecContainerCommand (with its dispatch); after the call succeeded:
/// timeout, cancelled, network or protocol with dispatch accepted (not_sent or unknown when
/// the WebSocket could not be connected) and the output so far in Error::partial. A run
/// whose command travels on stdin and whose WebSocket never connected (dispatch not_sent:
/// the command cannot have run) runs again, idempotent or not, as below. Never
/// retries the exec after an unknown outcome unless options.idempotent: then a run whose
/// stream broke (WebSocket dropped or unreachable, or its connect or upgrade timed out; not a
/// cancellation nor the command's own deadline) runs again from the start, within the same
/// deadline, up to RetryConfig::max_attempts runs; the
/// `on_output` callback then sees the new run's output from its beginning.
/// Cancellation: terminal, through the awaiting coroutine's slot.
boost::asio::awaitable<Result<CommandResult>> run_exec(
    std::shared_ptr<AsyncEciSandbox::State> state, ExecPlan plan, ExecOptions options);

/// The stderr a script run keeps (its error messages).
inline constexpr std::size_t script_stderr_limit = 64 * 1024;

/// The stdout bound of a script whose reply is a few framing lines (write, start, kill).
inline constexpr std::size_t small_script_reply_bytes = 1024 * 1024;

/// Runs one of core's framed scripts (core/tmux_commands, core/file_transfer) with one exec:
/// the script is sent on stdin (script_stdin_argv: each Command element is limited to 256
/// characters), followed by `stdin_data` when set; no TTY; under
/// `options` (timeout, idempotent; its output bound, callback and stdin are replaced). The
/// result's stdout_text is the whole stdout (never truncated: the caller parses it),
/// stderr_text the first script_stderr_limit bytes, `output` empty. The exit code is not
/// relied on. A server may stream without end: once stdout passes `max_stdout_bytes` (or
/// stderr script_stderr_limit) the stream is closed and the run fails (protocol), so what is
/// kept never exceeds the bound. Errors: those of run_exec (Error::partial's stdout likewise
/// whole).
boost::asio::awaitable<Result<CommandResult>> run_script(
    std::shared_ptr<AsyncEciSandbox::State> state, std::string sandbox_id,
    std::string container_name, std::string script, std::optional<std::string> stdin_data,
    ExecOptions options, std::size_t max_stdout_bytes);

/// Marks `error` (from parsing a script's reply) as coming from the exec `result`: its
/// RequestId and dispatch accepted (the script ran).
Error after_exec(Error error, const CommandResult& result);

/// `given` when non-empty; else the name remembered for `sandbox_id`; else the first
/// container of a DescribeContainerGroups reply (remembered from then on).
/// Errors: not_found for an unknown sandbox; invalid_argument for a group without
/// containers; the service's errors.
boost::asio::awaitable<Result<std::string>> resolve_container_name(
    std::shared_ptr<AsyncEciSandbox::State> state, std::string sandbox_id, std::string given);

/// The outcome of a command that failed with an error of `kind`: timed_out, cancelled, else
/// connection_lost.
CommandOutcome outcome_of_error(ErrorKind kind);

/// Sets `outcome` (and `signal`) from `exit_code`: 128 + N (N <= 64) is "signalled by N", by
/// the shell's convention; anything else "exited".
void classify_exit(CommandResult& result);

/// A fresh exit marker with a random 128-bit nonce ("__ECI_EXIT_<32 hex>__").
std::string new_exit_marker();

}  // namespace eci::detail
