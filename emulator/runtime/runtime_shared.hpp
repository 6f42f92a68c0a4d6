// SPDX-License-Identifier: Apache-2.0
// State shared by a Runtime and its sandboxes.
#pragma once

#include "emulator/runtime/cgroup.hpp"
#include "emulator/runtime/rootfs.hpp"
#include "emulator/runtime/runtime_options.hpp"
#include "emulator/runtime/unique_fd.hpp"
#include "emulator/runtime/userns.hpp"

#include "async/async_semaphore.hpp"

#include <boost/asio/any_io_executor.hpp>

#include <sys/resource.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

namespace eci::emulator {
class SandboxProcesses;
}

namespace eci::emulator::detail {

struct RuntimeShared {
    boost::asio::any_io_executor executor;
    RuntimeOptions options;
    bool isolated = false;
    std::string degraded_reason;
    std::string instance;
    bool remove_state_dir = false;  // we created it (options.state_dir was empty)
    UniqueFd devnull;
    UniqueFd init_program;  ///< eci-sandbox-init (isolated mode), executed by each init
    RootfsPlan rootfs;
    /// Isolated mode with writable cgroup controllers: per-sandbox limits are enforced.
    std::optional<CgroupTree> cgroups;
    std::string limits_description;  ///< e.g. "cgroup v1 (pids, memory, cpu)" or why not
    /// RuntimeOptions::parallel_exec_starts (SandboxProcesses::exec).
    std::unique_ptr<eci::detail::AsyncSemaphore> exec_starts;
    /// RuntimeOptions::parallel_sandbox_starts (SandboxProcesses::launch_async).
    std::unique_ptr<eci::detail::AsyncSemaphore> sandbox_starts;
    /// Isolated mode: each sandbox has its own user namespace (an id range from userns_slots).
    bool userns = false;
    std::string userns_reason;  ///< why not, when isolated without user namespaces
    UsernsSlots userns_slots;
    /// Every sandbox not destroyed, by id.
    std::map<std::string, std::weak_ptr<SandboxProcesses>> sandboxes;
    bool shut_down = false;

    void warn(std::string_view message) const;

    /// The namespaces each isolated sandbox gets (and each exec joins).
    std::uint64_t namespace_flags() const noexcept;
};

}  // namespace eci::emulator::detail
