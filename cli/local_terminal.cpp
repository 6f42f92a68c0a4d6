// SPDX-License-Identifier: Apache-2.0
#include "cli/local_terminal.hpp"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <climits>

namespace eci::cli {

LocalTerminal::LocalTerminal()
    : is_terminal_(::isatty(STDIN_FILENO) == 1), stdin_flags_(::fcntl(STDIN_FILENO, F_GETFL)) {
    if (is_terminal_ && ::tcgetattr(STDIN_FILENO, &saved_) != 0)
        is_terminal_ = false;
}

LocalTerminal::~LocalTerminal() {
    restore();
}

bool LocalTerminal::enter_raw_mode() {
    if (!is_terminal_ || raw_)
        return true;
    termios raw = saved_;
    ::cfmakeraw(&raw);
    // cfmakeraw also clears OPOST: the remote terminal already writes "\r\n", so the local one
    // must not translate again. One byte at a time, no timeout: a relay, not a line reader.
    raw.c_cc[VMIN] = 1;
    raw.c_cc[VTIME] = 0;
    if (::tcsetattr(STDIN_FILENO, TCSANOW, &raw) != 0)
        return false;
    raw_ = true;
    return true;
}

void LocalTerminal::restore() noexcept {
    if (raw_) {
        // TCSADRAIN: the remote output already written reaches the screen first.
        while (::tcsetattr(STDIN_FILENO, TCSADRAIN, &saved_) != 0 && errno == EINTR) {
        }
        raw_ = false;
    }
    if (stdin_flags_ >= 0)
        ::fcntl(STDIN_FILENO, F_SETFL, stdin_flags_);
}

std::optional<TerminalSize> LocalTerminal::size() {
    for (int fd : {STDIN_FILENO, STDOUT_FILENO}) {
        winsize window{};
        if (::ioctl(fd, TIOCGWINSZ, &window) == 0 && window.ws_row > 0 && window.ws_col > 0)
            return TerminalSize{window.ws_row, window.ws_col};
    }
    return std::nullopt;
}

int LocalTerminal::take_input() {
    if (is_terminal_) {
        char name[PATH_MAX];
        if (::ttyname_r(STDIN_FILENO, name, sizeof name) == 0) {
            const int fd = ::open(name, O_RDONLY | O_NOCTTY | O_CLOEXEC);
            if (fd >= 0)
                return fd;
        }
    }
    return ::fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 0);
}

}  // namespace eci::cli
