// SPDX-License-Identifier: Apache-2.0
#include "emulator/runtime/exec_launch.hpp"

#include "emulator/runtime/cgroup.hpp"
#include "emulator/runtime/confine.hpp"
#include "emulator/runtime/userns.hpp"

#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

namespace eci::emulator::detail {

namespace {

constexpr int report_fd = 3;
constexpr int init_pidfd = 4;

volatile sig_atomic_t relayed_child = 0;

void kill_relayed_group(int) {
    const pid_t child = relayed_child;
    if (child > 0)
        ::kill(-child, SIGKILL);
}

bool install(const ExecLaunch& launch, bool with_pidfd) noexcept {
    const int sources[] = {launch.stdin_fd, launch.stdout_fd, launch.stderr_fd, launch.report_fd,
                           launch.init_pidfd};
    return child_install_fds(sources, with_pidfd ? 5 : 4);
}

}  // namespace

void run_exec_direct(const ExecLaunch& launch) noexcept {
    if (!install(launch, false))
        ::_exit(127);
    child_reset_signals();
    child_exec(*launch.image, report_fd, launch.tty);
}

void run_exec_relay(const ExecLaunch& launch) noexcept {
    if (!install(launch, true))
        ::_exit(127);
    child_reset_signals();
    int cgroup_fds[4];
    int cgroup_count = 0;
    if (launch.cgroup_procs != nullptr) {
        cgroup_count = child_open_cgroups(*launch.cgroup_procs, cgroup_fds);
        if (cgroup_count < 0)
            child_fail(report_fd, ChildStage::cgroup, errno);
    }
    // One call joins every namespace of the init (setns with a pidfd, Linux 5.8); the kernel
    // enters the user namespace first, so the others are joined with its capabilities.
    if (::setns(init_pidfd, launch.join_flags) != 0) {
        child_fail(report_fd, ChildStage::join_namespaces, errno);
    }
    ::close(init_pidfd);
    const pid_t child = child_fork();
    if (child == 0) {
        // If the relay dies, so does the command (its own children are not affected).
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        // The relay lives outside our pid namespace, so getppid() is 0 while it is alive;
        // anything else means we were already reparented to the sandbox init.
        if (::getppid() != 0)
            ::_exit(127);
        if (!child_join_cgroups(cgroup_fds, cgroup_count))
            child_fail(report_fd, ChildStage::cgroup, errno);
        if (launch.userns && !child_become_namespace_root())
            child_fail(report_fd, ChildStage::user_namespace, errno);
        if (!child_confine())
            child_fail(report_fd, ChildStage::confine, errno);
        child_exec(*launch.image, report_fd, launch.tty);
    }
    if (child < 0)
        child_fail(report_fd, ChildStage::spawn, errno);
    relayed_child = child;
    // Keep nothing open: the streams' EOF and the report pipe's EOF must depend on the
    // command alone.
    ::syscall(SYS_close_range, 0U, ~0U, 0U);
    struct sigaction action {};
    action.sa_handler = kill_relayed_group;
    ::sigaction(SIGTERM, &action, nullptr);
    child_unblock_signals();
    int status = 0;
    while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
    relayed_child = 0;
    if (WIFEXITED(status))
        ::_exit(WEXITSTATUS(status));
    // Die of the same signal, without a core dump.
    const int sig = WTERMSIG(status);
    const rlimit no_core{0, 0};
    ::setrlimit(RLIMIT_CORE, &no_core);
    struct sigaction default_action {};
    default_action.sa_handler = SIG_DFL;
    ::sigaction(sig, &default_action, nullptr);
    ::kill(::getpid(), sig);
    ::_exit(128 + sig);
}

}  // namespace eci::emulator::detail
