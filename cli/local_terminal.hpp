// SPDX-License-Identifier: Apache-2.0
// The local side of `eci-sandbox shell`: the terminal put into raw mode and restored on every
// way out, its size, and a descriptor of stdin to read with Asio.
#pragma once

#include <eci/interactive_exec.hpp>

#include <termios.h>

#include <optional>

namespace eci::cli {

/// Standard input for the time of a shell session.
///
/// When stdin is a terminal: raw mode (no echo, no line editing, no local signals: Ctrl-C,
/// Ctrl-D, Ctrl-Z and Ctrl-\ reach the remote terminal as bytes) until restore() or
/// destruction, which put back the settings found at the start. The descriptor returned by
/// take_input() is the terminal opened anew, so making it non-blocking (as Asio does) does not
/// touch the open file shared with stdout and the parent shell.
/// When stdin is not a terminal: nothing is changed except that the returned descriptor is a
/// duplicate of stdin whose file status flags are restored at the end.
///
/// Every exit path must run the destructor (or restore()): the shell command handles SIGINT,
/// SIGTERM and SIGHUP with an asio::signal_set, so none of them kills the process with the
/// terminal raw. Thread safety: none.
class LocalTerminal {
  public:
    LocalTerminal();
    ~LocalTerminal();
    LocalTerminal(const LocalTerminal&) = delete;
    LocalTerminal& operator=(const LocalTerminal&) = delete;

    /// Whether stdin is a terminal.
    bool is_terminal() const noexcept { return is_terminal_; }

    /// Enters raw mode (a terminal only). Returns false (errno set) when tcsetattr failed.
    bool enter_raw_mode();

    /// Restores the terminal settings and stdin's file status flags. Idempotent.
    void restore() noexcept;

    /// The size of the terminal on stdin (or stdout), when there is one.
    static std::optional<TerminalSize> size();

    /// A descriptor to read stdin from (owned by the caller), or -1 (errno set).
    int take_input();

  private:
    bool is_terminal_ = false;
    bool raw_ = false;
    termios saved_{};
    int stdin_flags_ = -1;
};

}  // namespace eci::cli
