// SPDX-License-Identifier: Apache-2.0
// eci::emulator::ExecProcess: a command running inside a sandbox.
#pragma once

#include "emulator/runtime/exec_spec.hpp"
#include "emulator/runtime/exit_status.hpp"

#include <eci/result.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include <sys/types.h>

#include <optional>

namespace eci::emulator {

namespace asio = boost::asio;

/// A process started by SandboxProcesses::exec, with its standard streams as Asio
/// descriptors and its exit status as an awaitable.
///
/// Streams. Pipes mode: stdout_pipe() and stderr_pipe() are read ends (EOF once the process
/// and everything that inherited them closed them); stdin_pipe() is a write end when
/// ExecSpec::open_stdin was set (close_stdin() gives the process EOF). TTY mode: terminal()
/// is the pseudo-terminal's master, read and written; a read fails with EIO (not EOF) once
/// every process holding the terminal has exited. Nothing is read ahead: a slow reader
/// leaves the data in the pipe and the writer blocks (natural backpressure).
///
/// Writes to a pipe whose reader is gone fail with EPIPE (Runtime::create ignores SIGPIPE).
///
/// Lifetime: move-only; the descriptors belong to the executor given to Runtime::create.
/// Destroying an ExecProcess whose exit was not awaited kills it (and its process group)
/// and reaps it in the background. Processes it started in other sessions (a tmux server)
/// live on until the sandbox is stopped.
///
/// Thread safety: none; use it on the runtime's executor.
class ExecProcess {
  public:
    /// Internal: built by SandboxProcesses::exec.
    ExecProcess(asio::any_io_executor executor, pid_t pid, int pidfd, bool relayed);
    ExecProcess(ExecProcess&&) noexcept;
    ExecProcess& operator=(ExecProcess&&) noexcept;
    ExecProcess(const ExecProcess&) = delete;
    ExecProcess& operator=(const ExecProcess&) = delete;
    ~ExecProcess();

    bool tty() const noexcept { return terminal_.has_value(); }
    bool has_stdin() const noexcept { return stdin_.has_value(); }

    /// Pipes mode only (precondition: !tty(), and has_stdin() for stdin_pipe()).
    asio::posix::stream_descriptor& stdin_pipe() { return *stdin_; }
    asio::posix::stream_descriptor& stdout_pipe() { return *stdout_; }
    asio::posix::stream_descriptor& stderr_pipe() { return *stderr_; }
    /// TTY mode only (precondition: tty()).
    asio::posix::stream_descriptor& terminal() { return *terminal_; }

    /// Closes the stdin pipe: the process reads EOF. No effect in tty mode or without stdin.
    void close_stdin() noexcept;

    /// Sets the pseudo-terminal's size (the kernel sends SIGWINCH to its foreground group).
    /// Errors: invalid_argument when not in tty mode; service when the ioctl fails.
    Result<void> resize(TerminalSize size);

    /// Waits for the process to exit and returns how. Completes at once when it already
    /// has. Errors: cancelled when the wait is cancelled (the process keeps running; waiting
    /// again is allowed); service on an unexpected system error.
    /// Cancellation: terminal, partial and total (the wait on the pidfd is cancelled).
    /// Lifetime: the ExecProcess must outlive the returned awaitable.
    asio::awaitable<Result<ExitStatus>> wait();

    /// The exit status, once wait() has observed it.
    std::optional<ExitStatus> exit_status() const noexcept { return status_; }

    /// Kills the process and every process of its process group (session) with SIGKILL.
    /// Daemons it started in their own sessions survive until the sandbox is stopped.
    /// No effect once the exit was observed.
    void kill() noexcept;

    /// SIGKILL to the process itself, relay or not: for a child that never reported, which may
    /// be stuck with SIGTERM blocked. A relayed command dies with its relay (PDEATHSIG).
    void kill_now() noexcept;

    /// The pid in the emulator's pid namespace (in isolated mode: of the relay process that
    /// forwards the command's exit status).
    pid_t pid() const noexcept { return pid_; }

    // Internal: set by SandboxProcesses::exec.
    void set_streams(std::optional<asio::posix::stream_descriptor> in,
                     std::optional<asio::posix::stream_descriptor> out,
                     std::optional<asio::posix::stream_descriptor> err,
                     std::optional<asio::posix::stream_descriptor> terminal);

  private:
    void abandon() noexcept;

    pid_t pid_ = -1;
    bool relayed_ = false;  // a relay process stands between us and the command
    std::optional<ExitStatus> status_;
    std::optional<asio::posix::stream_descriptor> pidfd_;
    std::optional<asio::posix::stream_descriptor> stdin_;
    std::optional<asio::posix::stream_descriptor> stdout_;
    std::optional<asio::posix::stream_descriptor> stderr_;
    std::optional<asio::posix::stream_descriptor> terminal_;
};

}  // namespace eci::emulator
