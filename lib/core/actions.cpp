// SPDX-License-Identifier: Apache-2.0
#include "core/actions.hpp"

#include <algorithm>
#include <array>

namespace eci::detail {

std::span<const ActionDescription> all_actions() {
    // Per account and minute, from the service's "Limits" page (eci-api.md section 5, source
    // S9); docs/configuration.md repeats them.
    static constexpr std::array<ActionDescription, 12> table = {
        create_container_group,
        describe_container_groups,
        delete_container_group,
        restart_container_group,
        exec_container_command,
        describe_container_log,
        ActionDescription{"DescribeContainerGroupMetric", RetrySafety::always, 2000},
        ActionDescription{"DescribeContainerGroupPrice", RetrySafety::always, 1000},
        ActionDescription{"ExportContainerGroupTemplate", RetrySafety::always, 1000},
        ActionDescription{"UpdateContainerGroup", RetrySafety::always, 500},
        ActionDescription{"DescribeMultiContainerGroupMetric", RetrySafety::always, 500},
        ActionDescription{"CreateImageCache", RetrySafety::always, 200},
    };
    return table;
}

const ActionDescription* find_action(std::string_view name) {
    const auto actions = all_actions();
    const auto found = std::find_if(actions.begin(), actions.end(),
                                    [&](const ActionDescription& a) { return a.name == name; });
    return found == actions.end() ? nullptr : &*found;
}

}  // namespace eci::detail
