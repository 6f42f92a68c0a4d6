// SPDX-License-Identifier: Apache-2.0
// eci::emulator::SandboxSpec: what Runtime::start needs to create a sandbox's processes.
#pragma once

#include "emulator/runtime/exit_status.hpp"

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace eci::emulator {

/// The end of a sandbox's main process (or of the whole sandbox), as reported to
/// SandboxSpec::on_main_exit.
struct MainExit {
    ExitStatus status;
    /// Which run of the sandbox ended: 1 for the first start, +1 per restart().
    std::uint64_t generation = 0;
    /// True when the whole sandbox died without being asked to (its init was killed from
    /// outside); every process is gone and the sandbox is stopped. False when only the main
    /// process ended: the sandbox keeps running (idle) until the caller decides, e.g. per
    /// RestartPolicy: restart() for Always, stop() for Never.
    bool sandbox_lost = false;
};

/// One sandbox (an ECI container group with one container) to start.
struct SandboxSpec {
    /// Unique among the runtime's live sandboxes: 1-64 of [A-Za-z0-9._-], not "." or "..".
    /// Used in directory names and as the ECI_EMULATOR_SANDBOX marker.
    std::string id;
    /// The main process: Command followed by Arg. Empty: the sandbox idles (no main process).
    /// argv[0] without '/' is looked up along the container's PATH.
    std::vector<std::string> command;
    /// The container's environment variables, set in the main process and every exec.
    std::vector<std::pair<std::string, std::string>> env;
    /// The container's working directory. Empty: /workspace (isolated mode) or the sandbox's
    /// workspace directory (degraded mode). A directory that cannot be entered falls back to
    /// that default.
    std::string working_dir;
    /// The container's Cpu (vCPU) and Memory (GiB), enforced in isolated mode when the
    /// runtime has cgroups (Runtime::limits()); Memory also sizes the private tmpfs mounts.
    /// 0 = unlimited.
    double cpu = 0;
    double memory_gib = 0;
    /// Called on the runtime's executor when the main process ends, or when the sandbox dies
    /// unexpectedly. Never called for stop()/restart()/destroy() the caller asked for. May
    /// call restart(), stop() or destroy() on the sandbox.
    std::function<void(const MainExit&)> on_main_exit;
};

}  // namespace eci::emulator
