// State shared by a Runtime and its sandboxes.
#pragma once

#include "emulator/runtime/rootfs.hpp"
#include "emulator/runtime/runtime_options.hpp"
#include "emulator/runtime/unique_fd.hpp"

#include <boost/asio/any_io_executor.hpp>

#include <sys/resource.h>

#include <map>
#include <memory>
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
    RootfsPlan rootfs;
    /// Every sandbox not destroyed, by id.
    std::map<std::string, std::weak_ptr<SandboxProcesses>> sandboxes;
    bool shut_down = false;

    void warn(std::string_view message) const;
};

}  // namespace eci::emulator::detail
