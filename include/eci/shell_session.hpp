// SPDX-License-Identifier: Apache-2.0
// eci::ShellSession: many commands, one after another, in one shell over one exec WebSocket.
#pragma once

#include <eci/async_sandbox.hpp>
#include <eci/command.hpp>
#include <eci/result.hpp>
#include <eci/tmux.hpp>

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace eci {

/// How a ShellSession starts its shell.
struct ShellSessionOptions {
    /// The container to run in. Empty (default): the handle's container.
    std::string container_name;
    /// The shell, started with ExecContainerCommand (Stdin on, TTY off). Default
    /// `bash --noprofile --norc`: bash (as `bash` and `bash_ws` use) without login or rc files,
    /// so no profile output or prompt mixes into the commands' output. Any POSIX sh works
    /// (`{"sh"}`); commands are evaluated by it.
    std::vector<std::string> shell = {"bash", "--noprofile", "--norc"};
    /// Deadline of opening: the ExecContainerCommand call, the WebSocket and the shell's first
    /// answer. Also used for each transparent reconnect (bounded by the command's timeout).
    /// Default 60 s.
    std::chrono::milliseconds open_timeout{60000};
    /// Reconnect (one new ExecContainerCommand) when the connection dropped between commands.
    /// Default true; false: run() fails with ErrorKind::network once the shell is gone.
    bool reconnect = true;
    /// How long close() waits for the shell to exit before dropping the connection. Default 5 s.
    std::chrono::milliseconds close_timeout{5000};
};

/// What a session has done so far.
struct ShellSessionStats {
    std::uint64_t commands = 0;       ///< run() calls that sent their command
    std::uint64_t connections = 0;    ///< shells started (ExecContainerCommand + WebSocket)
    std::uint64_t reconnects = 0;     ///< connections after the first
    std::uint64_t dropped_bytes = 0;  ///< stray output between commands (background jobs)
    /// Shell starts tried again after a transient failure (open and reconnects): a throttled
    /// ExecContainerCommand, a WebSocket that dropped before the shell answered.
    std::uint64_t start_retries = 0;
};

/// One interactive shell in a sandbox, reached over ONE exec WebSocket, running many commands
/// one after another: each gets its own exit code, with stdout and stderr kept apart. 100
/// commands on one session cost one ExecContainerCommand call and one WebSocket in total,
/// against one of each per command for AsyncSandbox::bash.
///
/// Framing: each command is sent base64-encoded on the shell's stdin, framed by a begin line
/// and an exit-code report carrying a fresh 128-bit random nonce, printed on both stdout and
/// stderr; no output of the command can end it early or forge its code (docs/shell-session.md).
/// Each command runs in a subshell with stdin from /dev/null: `exit`, `cd`, `export` and
/// variables do NOT persist from one command to the next (every command starts in the shell's
/// initial directory and environment), and a command reading stdin sees end-of-file.
///
/// Reconnection: a connection that dropped between commands is replaced transparently by the
/// next run() (one more ExecContainerCommand). A drop during a command is an error
/// (ErrorKind::network, outcome connection_lost, the output so far in Error::partial);
/// the command is not run again unless ShellRunOptions::idempotent. After a timeout or a
/// cancellation mid-command the connection is dropped (the service ends the shell with it),
/// so the next run() starts a fresh shell.
///
/// Cancellation: run() and close() honour terminal cancellation of the awaiting coroutine.
/// Lifetimes: a cheap handle; copies share the session. The session (and its shell) ends when
/// the last handle is gone and no run() is pending, or at close().
/// Thread safety: use from the sandbox client's executor; concurrent run() calls are queued
/// and run one at a time, in order.
class ShellSession {
  public:
    /// Starts the shell in `sandbox` (one ExecContainerCommand, one WebSocket) and checks
    /// that it answers. A start that failed for a transient cause (throttled, 503, a
    /// WebSocket that failed or dropped before the shell answered) is tried again within
    /// `open_timeout`; so is every reconnect (docs/shell-session.md).
    /// Errors, once retrying is pointless or the deadline passed: those of ExecContainerCommand;
    /// network / tls / timeout connecting; protocol when the shell does not answer as expected
    /// (e.g. no such shell); cancelled.
    static boost::asio::awaitable<Result<ShellSession>> open(AsyncSandbox sandbox,
                                                             ShellSessionOptions options);
    static boost::asio::awaitable<Result<ShellSession>> open(AsyncSandbox sandbox) {
        return open(std::move(sandbox), ShellSessionOptions{});
    }

    /// Runs `command` (shell text) and returns its output and exit code, as `options` say
    /// (ShellRunOptions: the session's container is fixed and a command's stdin is /dev/null).
    /// Errors: invalid_argument (empty command, closed session); timeout / cancelled (while
    /// queued: dispatch not_sent; mid-command: the output so far in Error::partial, the
    /// connection is dropped); network when the connection dropped during the command
    /// (dispatch accepted once it started, unknown when it may have); the errors of reconnecting
    /// (dispatch not_sent).
    boost::asio::awaitable<Result<CommandResult>> run(std::string command, ShellRunOptions options);
    boost::asio::awaitable<Result<CommandResult>> run(std::string command) {
        return run(std::move(command), ShellRunOptions{});
    }
    /// The 0.1 form: ExecOptions, whose container_name, stdin_data and sync a session ignores.
    [[deprecated(
        "pass ShellRunOptions: a session ignores container_name, stdin_data and sync")]] boost::
        asio::awaitable<Result<CommandResult>>
        run(std::string command, ExecOptions options);

    /// The tmux jobs (see AsyncEciSandbox::tmux_start, tmux_poll, tmux_wait) run through this
    /// session: each script is a command of this shell, so a start costs no API call (a long
    /// command's script file is still written with one exec of its own) and a wait of K polls
    /// none at all. The job runs in the session's sandbox and container: an
    /// `options.container_name` naming another container is refused (invalid_argument).
    /// The session is kept alive for the call by the call itself.
    boost::asio::awaitable<Result<std::string>> tmux_start(std::string command,
                                                           TmuxStartOptions options);
    boost::asio::awaitable<Result<std::string>> tmux_start(std::string command) {
        return tmux_start(std::move(command), TmuxStartOptions{});
    }
    boost::asio::awaitable<Result<TmuxPollResult>> tmux_poll(std::string session_id,
                                                             TmuxPollOptions options);
    boost::asio::awaitable<Result<TmuxPollResult>> tmux_poll(std::string session_id) {
        return tmux_poll(std::move(session_id), TmuxPollOptions{});
    }
    boost::asio::awaitable<Result<TmuxPollResult>> tmux_wait(std::string session_id,
                                                             TmuxWaitOptions options);
    boost::asio::awaitable<Result<TmuxPollResult>> tmux_wait(std::string session_id) {
        return tmux_wait(std::move(session_id), TmuxWaitOptions{});
    }

    /// Ends the shell (`exit` on its stdin, then the connection closes) after queued commands.
    /// Later run() calls fail with invalid_argument. Errors: cancelled. Idempotent.
    boost::asio::awaitable<Result<void>> close();

    /// Whether the shell's connection is up now (it may still drop at any time).
    bool connected() const noexcept;
    ShellSessionStats stats() const noexcept;
    const std::string& sandbox_id() const noexcept;

    struct State;  ///< defined in lib/sandbox

  private:
    explicit ShellSession(std::shared_ptr<State> state);
    std::shared_ptr<State> state_;
};

}  // namespace eci
