// SPDX-License-Identifier: Apache-2.0
// The init process of an isolated sandbox: pid 1 of its pid namespace.
#pragma once

#include "emulator/runtime/rootfs.hpp"
#include "emulator/runtime/spawn.hpp"

namespace eci::emulator::detail {

/// What the init needs, prepared by the parent before forking.
struct InitPlan {
    const RootfsPlan* rootfs = nullptr;
    const ProgramImage* main = nullptr;  ///< the container's main process; null = idle
    int status_fd = -1;                  ///< write end of the status pipe to the emulator
    int log_fd = -1;                     ///< write end of the log pipe (main's stdout+stderr)
    int devnull_fd = -1;
    int init_program_fd = -1;     ///< eci-sandbox-init, opened by the runtime
    bool private_network = true;  ///< in a fresh network namespace: bring lo up
    const TmpfsOptions* tmpfs = nullptr;
    /// cgroup.procs files of the sandbox's cgroups (null or empty: no limits). The init
    /// joins them first, so everything it starts is counted.
    const CStringArray* cgroup_procs = nullptr;
    /// In a fresh user namespace: the read end of a pipe the emulator writes one byte to
    /// once it has written the uid and gid maps (-1: no user namespace).
    int userns_sync_fd = -1;
};

/// Child side (async-signal-safe), runs in the child of clone3([CLONE_NEWUSER |] CLONE_NEWNS
/// | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC [| CLONE_NEWNET]), a copy of the emulator's
/// memory:
/// - with a user namespace, waits for its id maps (the host's root has no id in it yet);
/// - joins the cgroups (still with the host's credentials, which opened nothing yet);
/// - builds the sandbox root and pivots into it (failure: a `report_failed` record, exit);
/// - brings up loopback (private network), drops capabilities, installs the seccomp filter;
/// - forks the main process, if any, with stdout/stderr on the log pipe; it waits until
///   this process has executed the init program, so it never sees the emulator's memory;
/// - executes eci-sandbox-init (emulator/init/main.cpp) with an empty environment: from
///   then on pid 1 is a fresh program that reports `report_ready`, reaps, reports
///   `report_main_exited`, and exits when the emulator's end of the status pipe closes.
[[noreturn]] void run_sandbox_init(const InitPlan& plan) noexcept;

}  // namespace eci::emulator::detail
