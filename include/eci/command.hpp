// SPDX-License-Identifier: Apache-2.0
// eci::CommandResult and eci::ExecOptions: what a command run in a sandbox produced, and how
// to run it.
#pragma once

#include <eci/error.hpp>

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace eci {

/// How a command ended.
enum class CommandOutcome {
    exited,           ///< it ended on its own; `exit_code` holds the code when it was reported
    signalled,        ///< killed by a signal (`signal`; exit code 128+N by the shell convention)
    timed_out,        ///< the caller's timeout passed first; it may still be running
    cancelled,        ///< the caller cancelled; it may still be running
    connection_lost,  ///< the stream broke before the end: the outcome is unknown
    refused,          ///< the service refused it before anything ran
};

/// The stable lower-case name of an outcome, e.g. "timed_out".
std::string_view to_string(CommandOutcome outcome) noexcept;

/// Which stream a chunk of output came from.
enum class OutputStream { standard_output, standard_error };

/// The stable name of a stream: "stdout" or "stderr".
std::string_view to_string(OutputStream stream) noexcept;

/// Everything a command produced. Also carried (as `Error::partial`) by the error of a
/// command that timed out, was cancelled or lost its connection.
struct CommandResult {
    std::string stdout_text;  ///< standard output (the last `max_output_bytes` of it)
    std::string stderr_text;  ///< standard error, without the library's exit-code report
    std::string output;       ///< both interleaved in arrival order (bounded the same way)
    /// The exit code, when it is known: from the wrapper of bash/bash_ws (works on the real
    /// service) or from the server's exit frame (emulator `channel4`/`k8s` modes).
    std::optional<int> exit_code;
    std::optional<int> signal;              ///< the signal number when outcome is signalled
    std::chrono::milliseconds duration{0};  ///< from the ExecContainerCommand call to the end
    CommandOutcome outcome = CommandOutcome::exited;
    /// Whether the command reached the sandbox: accepted once ExecContainerCommand succeeded.
    Dispatch dispatch = Dispatch::accepted;
    std::string request_id;    ///< RequestId of the ExecContainerCommand call
    std::string service_code;  ///< the service's error Code, when it sent one
    bool truncated = false;    ///< some output was dropped to respect `max_output_bytes`
    /// With `ExecOptions::sync == false` only: where to attach. Both hold a short-lived token:
    /// never log them.
    std::string websocket_url;
    std::string http_url;

    /// Whether the command exited with code 0.
    bool success() const noexcept {
        return outcome == CommandOutcome::exited && exit_code.has_value() && *exit_code == 0;
    }
};

/// How to run one command of its own exec (bash, bash_ws; exec_command's options add
/// ExecCommandOptions's). Every field has a usable default. (ShellSession::run takes
/// ShellRunOptions: a command of a shell that already runs has no container, stdin or sync.)
struct ExecOptions {
    /// The longest accepted timeout, as in the Python package: 600 s.
    static constexpr std::chrono::milliseconds max_timeout{600000};

    /// The container to run in. Empty (default): the handle's container, or, on the client,
    /// the first container of the group (learned once per sandbox id and remembered).
    std::string container_name;
    /// Deadline of the whole command: the API call, the connection and the output. Default
    /// and maximum 600 s; values <= 0 or above 600 s mean 600 s (the Python package's rule).
    std::chrono::milliseconds timeout = max_timeout;
    /// Bound of each kept buffer (stdout, stderr, combined); the LAST bytes are kept and
    /// `CommandResult::truncated` is set. Default 16 MiB; 0 keeps nothing (stream only).
    std::size_t max_output_bytes = 16u * 1024u * 1024u;
    /// Receives every chunk as it arrives (before any truncation), on the thread running the
    /// io_context. Must not block. Default none.
    std::function<void(OutputStream, std::string_view)> on_output;
    /// The command may safely run twice: the ExecContainerCommand call may then be retried
    /// even after an unknown outcome, and a run whose exec WebSocket dropped (or could not be
    /// connected) runs again from the start within the same timeout (`on_output` then sees
    /// the new run's output from its beginning). Default false (retried only after a refusal).
    bool idempotent = false;
    /// exec_command and bash (bash_ws refuses it: its stdin carries the command): bytes sent to
    /// the command's stdin (Stdin is turned on). The
    /// protocol has no end-of-input of its own, so the wrappers hand the command exactly these
    /// bytes and then end-of-input (`head -c N |`): `cat` ends. With `raw_argv`, `tty` or
    /// `sync == false` the bytes are sent bare and the command must know when to stop
    /// reading. bash then runs the command from a temporary file (see bash_stdin_argv).
    std::optional<std::string> stdin_data;
    /// Run the command in this directory (any value is safe). exec_command needs its
    /// exit-status wrapper for it (invalid_argument with `raw_argv`, `tty` or `sync == false`).
    std::string exec_dir;
    /// exec_command, bash (bash_ws refuses false): false returns the WebSocket and HTTP URLs
    /// without attaching (the Python `sync=False`); nothing is read and no exit code is
    /// known. Default true.
    bool sync = true;

    /// `timeout` clamped to (0, 600 s].
    std::chrono::milliseconds effective_timeout() const noexcept {
        return (timeout <= std::chrono::milliseconds::zero() || timeout > max_timeout) ? max_timeout
                                                                                       : timeout;
    }
};

/// exec_command's options: ExecOptions plus the two fields only exec_command reads (in 0.1
/// they were ExecOptions fields that bash and bash_ws ignored).
struct ExecCommandOptions : ExecOptions {
    ExecCommandOptions() = default;
    /// The common options, with `tty` and `raw_argv` off: `exec_command(argv, exec_options)`.
    ExecCommandOptions(ExecOptions common)  // NOLINT(google-explicit-constructor): by design
        : ExecOptions(std::move(common)) {}

    /// Allocate a TTY (stdout and stderr then arrive merged). Default false.
    bool tty = false;
    /// Send `argv` exactly as given. By default (false) a synchronous, non-TTY exec_command
    /// runs argv under `/bin/sh -c '"$@"; <report the status>' sh ARGV...` so the exit code is
    /// known on every exec-stream convention (the real service's stream carries no exit
    /// status); the arguments still reach the program untouched, with no shell parsing. Set
    /// this for an image without /bin/sh: the exit code is then known only when the service's
    /// stream reports one. The wrapper is never used with `tty` or `sync=false`.
    bool raw_argv = false;
};

/// What ShellSession::run reads: a command of a shell that already runs has no container to
/// choose (the session's), no stdin (it reads /dev/null), no TTY and no `sync == false`.
struct ShellRunOptions {
    /// Deadline of the command, waiting in the session's queue included. Default and maximum
    /// 600 s; values <= 0 or above 600 s mean 600 s.
    std::chrono::milliseconds timeout = ExecOptions::max_timeout;
    /// Bound of each kept buffer, as ExecOptions::max_output_bytes. Default 16 MiB.
    std::size_t max_output_bytes = 16u * 1024u * 1024u;
    /// Receives every chunk as it arrives, as ExecOptions::on_output.
    std::function<void(OutputStream, std::string_view)> on_output;
    /// The command may run again after the connection dropped during it (a new shell). Default
    /// false: such a drop is an error.
    bool idempotent = false;
    /// Run the command in this directory (any value is safe).
    std::string exec_dir;
};

}  // namespace eci
