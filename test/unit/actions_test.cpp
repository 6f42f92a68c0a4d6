// SPDX-License-Identifier: Apache-2.0
// The one action table (core/actions.hpp): what the client sends, the limiter paces and the
// emulator routes all come from it.
#include "core/actions.hpp"

#include <eci/config.hpp>

#include <catch2/catch.hpp>

#include <set>
#include <string>

using namespace eci;
using namespace eci::detail;

namespace {

template <class Request>
const ActionDescription* listed() {
    return find_action(Action<Request>::description.name);
}

}  // namespace

TEST_CASE("actions: one description per action, found by name", "[actions]") {
    std::set<std::string_view> names;
    for (const auto& action : all_actions()) {
        CHECK(names.insert(action.name).second);  // no action twice
        CHECK_FALSE(action.name.empty());
        CHECK(find_action(action.name) == &action);
    }
    CHECK(find_action("NoSuchAction") == nullptr);
    // Each request type maps to its row of the table, not to a copy with other values.
    CHECK(listed<CreateContainerGroupRequest>() != nullptr);
    CHECK(listed<DescribeContainerGroupsRequest>() != nullptr);
    CHECK(listed<DeleteContainerGroupRequest>() != nullptr);
    CHECK(listed<RestartContainerGroupRequest>() != nullptr);
    CHECK(listed<ExecContainerCommandRequest>() != nullptr);
    CHECK(listed<DescribeContainerLogRequest>() != nullptr);
    CHECK(listed<ExecContainerCommandRequest>()->per_minute ==
          Action<ExecContainerCommandRequest>::description.per_minute);
}

TEST_CASE("actions: only the exec is never sent twice after an unknown outcome", "[actions]") {
    CHECK(Action<ExecContainerCommandRequest>::description.retry == RetrySafety::only_if_not_sent);
    CHECK(Action<CreateContainerGroupRequest>::description.retry == RetrySafety::always);
    CHECK(Action<RestartContainerGroupRequest>::description.retry == RetrySafety::always);
    CHECK(Action<DescribeContainerGroupsRequest>::description.name == "DescribeContainerGroups");
}

TEST_CASE("actions: the limiter's defaults are the table's documented limits", "[actions]") {
    const auto& documented = documented_rate_limits();
    std::size_t limited = 0;
    for (const auto& action : all_actions()) {
        if (action.per_minute <= 0)
            continue;
        ++limited;
        REQUIRE(documented.count(std::string(action.name)) == 1);
        CHECK(documented.at(std::string(action.name)).per_minute == action.per_minute);
    }
    CHECK(documented.size() == limited);
    CHECK(limited >= 12);
}
