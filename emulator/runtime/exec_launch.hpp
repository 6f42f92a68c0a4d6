// SPDX-License-Identifier: Apache-2.0
// What the child of SandboxProcesses::exec needs, prepared before forking.
#pragma once

#include "emulator/runtime/spawn.hpp"

namespace eci::emulator::detail {

struct ExecLaunch {
    const ProgramImage* image = nullptr;
    int stdin_fd = -1;
    int stdout_fd = -1;
    int stderr_fd = -1;
    int report_fd = -1;   ///< write end of the report pipe (CLOEXEC: EOF = executing)
    int init_pidfd = -1;  ///< isolated mode: pidfd of the sandbox init (namespaces to join)
    int join_flags = 0;   ///< isolated mode: CLONE_NEW* flags of the namespaces to join
    /// isolated mode: the sandbox's cgroup.procs files; the command joins them (the relay
    /// opens them before entering the sandbox, where /sys is read-only). Null: none.
    const CStringArray* cgroup_procs = nullptr;
    bool tty = false;
    /// isolated mode: join_flags has CLONE_NEWUSER; the command becomes the namespace's root
    /// (the relay keeps the host's ids, which have no meaning inside).
    bool userns = false;
};

/// Child side, degraded mode: the command itself.
[[noreturn]] void run_exec_direct(const ExecLaunch& launch) noexcept;

/// Child side, isolated mode: the relay. It joins the init's namespaces (setns only moves
/// *children* into a pid namespace, hence the second fork), forks the command (which drops
/// capabilities and installs the seccomp filter like the init, see confine.hpp), forwards SIGTERM
/// as SIGKILL to the command's process group, and finally exits the way the command did, so the
/// emulator can wait for the relay as for the command.
[[noreturn]] void run_exec_relay(const ExecLaunch& launch) noexcept;

}  // namespace eci::emulator::detail
