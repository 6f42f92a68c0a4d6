// SPDX-License-Identifier: Apache-2.0
#include "emulator/runtime/exec_process.hpp"

#include "emulator/runtime/spawn.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <signal.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <termios.h>

#include <chrono>
#include <memory>

namespace eci::emulator {

namespace {

int send_signal(int pidfd, int sig) noexcept {
    return static_cast<int>(::syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0U));
}

}  // namespace

ExecProcess::ExecProcess(asio::any_io_executor executor, pid_t pid, int pidfd, bool relayed)
    : pid_(pid), relayed_(relayed) {
    pidfd_.emplace(std::move(executor), pidfd);
}

ExecProcess::ExecProcess(ExecProcess&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)),
      relayed_(other.relayed_),
      status_(other.status_),
      pidfd_(std::exchange(other.pidfd_, std::nullopt)),
      stdin_(std::exchange(other.stdin_, std::nullopt)),
      stdout_(std::exchange(other.stdout_, std::nullopt)),
      stderr_(std::exchange(other.stderr_, std::nullopt)),
      terminal_(std::exchange(other.terminal_, std::nullopt)) {}

ExecProcess& ExecProcess::operator=(ExecProcess&& other) noexcept {
    if (this != &other) {
        abandon();
        pid_ = std::exchange(other.pid_, -1);
        relayed_ = other.relayed_;
        status_ = other.status_;
        pidfd_ = std::exchange(other.pidfd_, std::nullopt);
        stdin_ = std::exchange(other.stdin_, std::nullopt);
        stdout_ = std::exchange(other.stdout_, std::nullopt);
        stderr_ = std::exchange(other.stderr_, std::nullopt);
        terminal_ = std::exchange(other.terminal_, std::nullopt);
    }
    return *this;
}

void ExecProcess::kill_now() noexcept {
    if (!pidfd_ || status_)
        return;
    if (!relayed_)
        ::kill(-pid_, SIGKILL);
    send_signal(pidfd_->native_handle(), SIGKILL);
}

ExecProcess::~ExecProcess() {
    abandon();
}

void ExecProcess::abandon() noexcept {
    if (!pidfd_ || status_)
        return;
    kill();
    // Reap in the background so no zombie is left behind; the lambda owns the pidfd.
    auto pidfd = std::make_shared<asio::posix::stream_descriptor>(std::move(*pidfd_));
    pidfd_.reset();
    pidfd->async_wait(asio::posix::stream_descriptor::wait_read,
                      [pidfd](boost::system::error_code) {
                          detail::reap_pidfd(pidfd->native_handle(), std::chrono::milliseconds(0));
                      });
}

void ExecProcess::set_streams(std::optional<asio::posix::stream_descriptor> in,
                              std::optional<asio::posix::stream_descriptor> out,
                              std::optional<asio::posix::stream_descriptor> err,
                              std::optional<asio::posix::stream_descriptor> terminal) {
    stdin_ = std::move(in);
    stdout_ = std::move(out);
    stderr_ = std::move(err);
    terminal_ = std::move(terminal);
}

void ExecProcess::close_stdin() noexcept {
    if (!stdin_)
        return;
    boost::system::error_code ignored;
    stdin_->close(ignored);
}

Result<void> ExecProcess::resize(TerminalSize size) {
    if (!terminal_) {
        return Error::make(ErrorKind::invalid_argument, "resize needs an exec with a tty");
    }
    winsize window{};
    window.ws_row = size.rows;
    window.ws_col = size.columns;
    if (::ioctl(terminal_->native_handle(), TIOCSWINSZ, &window) != 0) {
        return Error::make(ErrorKind::service, detail::errno_message("TIOCSWINSZ", errno));
    }
    return {};
}

asio::awaitable<Result<ExitStatus>> ExecProcess::wait() {
    while (!status_) {
        if (!pidfd_)
            co_return Error::make(ErrorKind::invalid_argument, "no process to wait for");
        if (auto status =
                detail::reap_pidfd(pidfd_->native_handle(), std::chrono::milliseconds(0))) {
            status_ = status;
            break;
        }
        auto [ec] = co_await pidfd_->async_wait(asio::posix::stream_descriptor::wait_read,
                                                asio::as_tuple(asio::use_awaitable));
        if (ec == asio::error::operation_aborted) {
            co_return Error::make(ErrorKind::cancelled, "waiting for the exec was cancelled");
        }
        if (ec)
            co_return Error::make(ErrorKind::service, "waiting for the exec: " + ec.message());
    }
    co_return *status_;
}

void ExecProcess::kill() noexcept {
    if (!pidfd_ || status_)
        return;
    if (relayed_) {
        // The relay turns SIGTERM into SIGKILL for the command's process group.
        send_signal(pidfd_->native_handle(), SIGTERM);
    } else {
        // Our unreaped child: its pid (= its process group, it called setsid) cannot be
        // reused yet.
        ::kill(-pid_, SIGKILL);
        send_signal(pidfd_->native_handle(), SIGKILL);
    }
}

}  // namespace eci::emulator
