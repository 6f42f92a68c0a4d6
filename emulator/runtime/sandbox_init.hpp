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
};

/// Child side (async-signal-safe), runs in the child of clone3(CLONE_NEWNS | CLONE_NEWPID):
/// - builds the sandbox root and pivots into it (failure: a `report_failed` record, exit);
/// - starts the main process, if any, with stdout/stderr on the log pipe;
/// - reports `report_ready`, then loops reaping every process reparented to it, reporting
///   `report_main_exited` with the wait status when the main process ends;
/// - exits when the emulator's end of the status pipe closes (the emulator died), which
///   makes the kernel kill every process of the namespace.
/// Signals: as a pid-namespace init it ignores every signal from inside the sandbox; the
/// emulator ends it with SIGKILL.
[[noreturn]] void run_sandbox_init(const InitPlan& plan) noexcept;

}  // namespace eci::emulator::detail
