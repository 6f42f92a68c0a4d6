// SPDX-License-Identifier: Apache-2.0
#include "emulator/runtime/sandbox_init.hpp"

#include "emulator/runtime/cgroup.hpp"
#include "emulator/runtime/confine.hpp"
#include "emulator/runtime/userns.hpp"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

namespace eci::emulator::detail {

namespace {

constexpr int status_fd = init_status_fd;
constexpr int log_fd = 4;
constexpr int program_fd = 5;
constexpr int userns_sync_fd = 6;

// Formats `value` (>= -1) into `out` (16 bytes).
void format_pid(pid_t value, char* out) noexcept {
    if (value < 0) {
        out[0] = '-';
        out[1] = '1';
        out[2] = '\0';
        return;
    }
    char digits[16];
    int n = 0;
    do {
        digits[n++] = static_cast<char>('0' + value % 10);
        value /= 10;
    } while (value != 0 && n < 15);
    for (int i = 0; i < n; ++i)
        out[i] = digits[n - 1 - i];
    out[n] = '\0';
}

}  // namespace

void run_sandbox_init(const InitPlan& plan) noexcept {
    const bool userns = plan.userns_sync_fd >= 0;
    const int sources[] = {plan.devnull_fd,    plan.devnull_fd, plan.devnull_fd,
                           plan.status_fd,     plan.log_fd,     plan.init_program_fd,
                           plan.userns_sync_fd};
    if (!child_install_fds(sources, userns ? 7 : 6))
        ::_exit(127);
    child_reset_signals();
    ::setsid();
    if (userns && !child_wait_for_id_maps(userns_sync_fd))
        child_fail(status_fd, ChildStage::user_namespace, errno);
    if (plan.cgroup_procs != nullptr && plan.cgroup_procs->size() > 0) {
        int fds[4];
        const int opened = child_open_cgroups(*plan.cgroup_procs, fds);
        if (opened < 0 || !child_join_cgroups(fds, opened))
            child_fail(status_fd, ChildStage::cgroup, errno);
        for (int i = 0; i < opened; ++i)
            ::close(fds[i]);
    }
    const ChildStage failed = child_enter_rootfs(*plan.rootfs, *plan.tmpfs, userns);
    if (failed != ChildStage::none)
        child_fail(status_fd, failed, errno);
    if (plan.private_network && !child_loopback_up())
        child_fail(status_fd, ChildStage::network, errno);
    if (!child_confine())
        child_fail(status_fd, ChildStage::confine, errno);

    // The main process starts once we have executed the init program (the close-on-exec
    // write end of `go` closes then): until that moment this process is a copy of the
    // emulator, secrets included, and nothing of the sandbox may run beside it.
    int go[2];
    if (::pipe2(go, O_CLOEXEC) != 0)
        child_fail(status_fd, ChildStage::spawn, errno);
    pid_t main_pid = -1;
    if (plan.main != nullptr) {
        main_pid = child_fork();
        if (main_pid == 0) {
            ::close(go[1]);
            char byte = 0;
            while (::read(go[0], &byte, 1) < 0 && errno == EINTR) {
            }
            const int main_sources[] = {0, log_fd, log_fd};
            if (!child_install_fds(main_sources, 3))
                ::_exit(127);
            child_exec(*plan.main, -1, false);
        }
        if (main_pid < 0)
            child_fail(status_fd, ChildStage::spawn, errno);
    }
    ::close(go[0]);
    ::close(log_fd);  // the emulator sees EOF once the main process and its children are gone

    char pid_text[16];
    format_pid(main_pid, pid_text);
    char name[] = "eci-sandbox-init";
    char* const argv[] = {name, pid_text, nullptr};
    char* const envp[] = {nullptr};
    ::fcntl(program_fd, F_SETFD, FD_CLOEXEC);
    ::syscall(SYS_execveat, program_fd, "", argv, envp, AT_EMPTY_PATH);
    child_fail(status_fd, ChildStage::init_program, errno);
}

}  // namespace eci::emulator::detail
