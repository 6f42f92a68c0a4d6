// SPDX-License-Identifier: Apache-2.0
// Per-sandbox resource limits with cgroups: one cgroup per sandbox (v2 where the unified
// hierarchy has the controllers, else the v1 pids, memory and cpu hierarchies) under
// "eci-emulator-<instance>", holding the sandbox init, its main process and every exec.
#pragma once

#include "emulator/runtime/spawn.hpp"

#include <eci/result.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace eci::emulator::detail {

/// What one sandbox may use. 0 = no limit for that resource.
struct SandboxLimits {
    double cpu = 0;                  ///< vCPU (cpu.max / cfs quota)
    std::uint64_t memory_bytes = 0;  ///< memory.max (v2), memory.limit_in_bytes (v1); no swap
    std::uint64_t pids = 0;          ///< pids.max
};

/// The cgroup(s) of one sandbox: the directories, and the cgroup.procs files a child writes
/// "0" to (child_join_cgroups) to move itself in.
struct SandboxCgroup {
    std::vector<std::string> dirs;
    CStringArray procs;

    /// Removes the directories (they must be empty: the sandbox is stopped). Retries briefly
    /// while the kernel still counts exited tasks. False when one stayed.
    bool remove() const noexcept;

    enum class Removal { removed, busy, failed };
    /// One attempt of remove() without waiting: `busy` when the kernel still counts exited
    /// tasks (try again in a few milliseconds), `failed` on any other error.
    Removal remove_once() const noexcept;
};

class CgroupTree {
  public:
    /// Finds writable cgroup controllers and creates "eci-emulator-<instance>" in them.
    /// Errors (service): no writable pids/memory/cpu controller (not root, a read-only
    /// /sys/fs/cgroup in a container, ...); the message says what was looked at.
    static Result<CgroupTree> create(const std::string& instance);

    /// Creates the cgroup of sandbox `id` and writes its limits.
    Result<SandboxCgroup> make(const std::string& id, const SandboxLimits& limits) const;

    /// Removes "eci-emulator-<instance>" (after every sandbox cgroup).
    void remove() const noexcept;

    /// e.g. "cgroup v1 (pids, memory, cpu)".
    const std::string& description() const noexcept { return description_; }

  private:
    bool v2_ = false;
    /// v2: one directory; v1: one per controller, in the order pids, memory, cpu.
    std::vector<std::string> bases_;
    std::vector<std::string> controllers_;
    std::string description_;
};

/// Child side (async-signal-safe): moves the calling process into each cgroup whose
/// cgroup.procs is open as a descriptor in `fds` (count entries). False with errno.
bool child_join_cgroups(const int* fds, int count) noexcept;

/// Child side: opens each path of `procs` for writing (O_CLOEXEC) into `fds` (at most 4).
/// Returns how many were opened, -1 with errno on failure.
int child_open_cgroups(const CStringArray& procs, int* fds) noexcept;

}  // namespace eci::emulator::detail
