// SPDX-License-Identifier: Apache-2.0
#include <eci/command.hpp>
#include <eci/sandbox_types.hpp>

namespace eci {

std::string_view to_string(CommandOutcome outcome) noexcept {
    switch (outcome) {
        case CommandOutcome::exited:
            return "exited";
        case CommandOutcome::signalled:
            return "signalled";
        case CommandOutcome::timed_out:
            return "timed_out";
        case CommandOutcome::cancelled:
            return "cancelled";
        case CommandOutcome::connection_lost:
            return "connection_lost";
        case CommandOutcome::refused:
            return "refused";
    }
    return "unknown";
}

std::string_view to_string(OutputStream stream) noexcept {
    return stream == OutputStream::standard_error ? "stderr" : "stdout";
}

SandboxInfo SandboxInfo::from_group(ContainerGroup group) {
    SandboxInfo info;
    info.sandbox_id = group.container_group_id;
    info.name = group.container_group_name;
    info.status = group.status;
    info.cpu = group.cpu;
    info.memory = group.memory;
    info.region_id = group.region_id;
    info.zone_id = group.zone_id;
    info.intranet_ip = group.intranet_ip;
    info.internet_ip = group.internet_ip;
    info.creation_time = group.creation_time;
    info.containers = group.containers;
    info.group = std::move(group);
    return info;
}

}  // namespace eci
