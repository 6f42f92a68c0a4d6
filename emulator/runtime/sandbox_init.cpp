#include "emulator/runtime/sandbox_init.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

namespace eci::emulator::detail {

namespace {

constexpr int status_fd = 3;
constexpr int log_fd = 4;

void on_child_signal(int) {}  // only interrupts ppoll

}  // namespace

void run_sandbox_init(const InitPlan& plan) noexcept {
    const int sources[] = {plan.devnull_fd, plan.devnull_fd, plan.devnull_fd, plan.status_fd,
                           plan.log_fd};
    if (!child_install_fds(sources, 5))
        ::_exit(127);
    child_reset_signals();
    ::setsid();
    const ChildStage failed = child_enter_rootfs(*plan.rootfs);
    if (failed != ChildStage::none)
        child_fail(status_fd, failed, errno);

    pid_t main_pid = -1;
    if (plan.main != nullptr) {
        main_pid = child_fork();
        if (main_pid == 0) {
            const int main_sources[] = {0, log_fd, log_fd};
            if (!child_install_fds(main_sources, 3))
                ::_exit(127);
            child_exec(*plan.main, -1, false);
        }
        if (main_pid < 0)
            child_fail(status_fd, ChildStage::spawn, errno);
    }
    ::close(log_fd);  // the emulator sees EOF once the main process and its children are gone

    // SIGCHLD stays blocked except inside ppoll, so no exit is missed between the reaping
    // loop and the wait.
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

    child_write_report(status_fd, report_ready, ChildStage::none, 0);
    while (true) {
        int status = 0;
        pid_t pid = 0;
        while ((pid = ::waitpid(-1, &status, WNOHANG)) > 0) {
            if (pid == main_pid) {
                child_write_report(status_fd, report_main_exited, ChildStage::none, status);
                main_pid = -1;
            }
        }
        // POLLERR on the write end of a pipe means the reader (the emulator) is gone.
        pollfd entry{status_fd, 0, 0};
        const int ready = ::ppoll(&entry, 1, nullptr, &during_wait);
        if (ready > 0 && (entry.revents & (POLLERR | POLLHUP | POLLNVAL)) != 0)
            ::_exit(0);
    }
}

}  // namespace eci::emulator::detail
