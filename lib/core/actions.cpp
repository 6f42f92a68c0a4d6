// SPDX-License-Identifier: Apache-2.0
#include "core/actions.hpp"

#include <algorithm>
#include <array>

namespace eci::detail {

std::span<const ActionDescription> all_actions() {
    // Per account and minute, from the service's "Limits" page (eci-api.md section 5, source
    // S9); docs/configuration.md repeats them.
#define ECI_ACTION_DESCRIPTION(Request) Action<Request>::description,
    static constexpr std::array table = {
        ECI_FOR_EACH_ACTION(ECI_ACTION_DESCRIPTION)
            ActionDescription{"DescribeContainerGroupMetric", RetrySafety::always, 2000, false},
        ActionDescription{"DescribeContainerGroupPrice", RetrySafety::always, 1000, false},
        ActionDescription{"ExportContainerGroupTemplate", RetrySafety::always, 1000, false},
        ActionDescription{"UpdateContainerGroup", RetrySafety::always, 500, false},
        ActionDescription{"DescribeMultiContainerGroupMetric", RetrySafety::always, 500, false},
        ActionDescription{"CreateImageCache", RetrySafety::always, 200, false},
    };
#undef ECI_ACTION_DESCRIPTION
    return table;
}

const ActionDescription* find_action(std::string_view name) {
    const auto actions = all_actions();
    const auto found = std::find_if(actions.begin(), actions.end(),
                                    [&](const ActionDescription& a) { return a.name == name; });
    return found == actions.end() ? nullptr : &*found;
}

}  // namespace eci::detail
