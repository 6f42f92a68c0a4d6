// SPDX-License-Identifier: Apache-2.0
// eci-sandbox-init: pid 1 of an isolated sandbox. The emulator's clone child builds the
// sandbox (mounts, network, capabilities, seccomp), forks the main process and then
// executes this program, so pid 1 is a fresh image: none of the emulator's memory (its
// AccessKey secret, its CA key), environment or command line is visible from inside at
// /proc/1/{mem,environ,cmdline}. See docs/emulator-runtime.md.
//
// Contract (emulator/runtime/init_protocol.hpp): fds 0-2 are /dev/null, fd 3 is the status
// pipe to the emulator; argv[1] is the main process's pid (our child) or -1. The
// environment is empty.
#include "emulator/runtime/init_protocol.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

namespace {

using eci::emulator::detail::ChildReport;

void on_child_signal(int) {}  // only interrupts ppoll

void report(std::int32_t type, std::int32_t value) {
    ChildReport record;
    record.type = type;
    record.value = value;
    while (::write(eci::emulator::detail::init_status_fd, &record, sizeof record) < 0 &&
           errno == EINTR) {
    }
}

}  // namespace

int main(int argc, char** argv) {
    using namespace eci::emulator::detail;
    pid_t main_pid = argc > 1 ? static_cast<pid_t>(std::atol(argv[1])) : -1;

    // SIGCHLD stays blocked except inside ppoll, so no exit is missed between the reaping
    // loop and the wait. The mask inherited across execve blocks everything: replace it.
    struct sigaction action {};
    action.sa_handler = on_child_signal;
    action.sa_flags = SA_NOCLDSTOP;
    ::sigaction(SIGCHLD, &action, nullptr);
    sigset_t blocked;
    ::sigemptyset(&blocked);
    ::sigaddset(&blocked, SIGCHLD);
    ::sigprocmask(SIG_SETMASK, &blocked, nullptr);
    sigset_t during_wait;
    ::sigemptyset(&during_wait);

    report(report_ready, 0);
    while (true) {
        int status = 0;
        pid_t pid = 0;
        while ((pid = ::waitpid(-1, &status, WNOHANG)) > 0) {
            if (pid == main_pid) {
                report(report_main_exited, status);
                main_pid = -1;
            }
        }
        // POLLERR on the write end of a pipe means the reader (the emulator) is gone; our
        // exit then makes the kernel kill every process of the namespace.
        pollfd entry{init_status_fd, 0, 0};
        const int ready = ::ppoll(&entry, 1, nullptr, &during_wait);
        if (ready > 0 && (entry.revents & (POLLERR | POLLHUP | POLLNVAL)) != 0)
            ::_exit(0);
    }
}
