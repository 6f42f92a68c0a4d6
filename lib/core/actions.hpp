// SPDX-License-Identifier: Apache-2.0
// The ECI actions, each described once (issue 15, item 3): its wire name, whether a call may
// be sent again (RetrySafety), and the service's documented per-account limit per minute.
// Who reads it: the client's typed calls (lib/api/openapi_client.cpp: name and retry safety
// by request type), the rate limiter's defaults (documented_rate_limits), and the emulator's
// router (emulator/actions.cpp: the name each handler is routed under).
#pragma once

#include <eci/models.hpp>

#include "core/retry.hpp"

#include <span>
#include <string_view>

namespace eci::detail {

struct ActionDescription {
    std::string_view name;
    /// Whether a failed call may be sent again (the client's retry loop).
    RetrySafety retry = RetrySafety::always;
    /// The documented limit per account and minute (eci-api.md section 5); 0 = none listed.
    int per_minute = 0;
};

// The actions the library calls: a request and a response type each (Action<Request>).
inline constexpr ActionDescription create_container_group{"CreateContainerGroup",
                                                          RetrySafety::always, 1000};
inline constexpr ActionDescription describe_container_groups{"DescribeContainerGroups",
                                                             RetrySafety::always, 2000};
inline constexpr ActionDescription delete_container_group{"DeleteContainerGroup",
                                                          RetrySafety::always, 1000};
inline constexpr ActionDescription restart_container_group{"RestartContainerGroup",
                                                           RetrySafety::always, 500};
/// Never run twice: retried only when the request provably did not run.
inline constexpr ActionDescription exec_container_command{"ExecContainerCommand",
                                                          RetrySafety::only_if_not_sent, 500};
inline constexpr ActionDescription describe_container_log{"DescribeContainerLog",
                                                          RetrySafety::always, 500};

/// Every action above, then the documented limits of actions the library does not call (so a
/// user's own calls through the limiter are paced too). Burst: see ActionRateLimit.
std::span<const ActionDescription> all_actions();

/// The description of an action by name; nullptr when it is not in all_actions().
const ActionDescription* find_action(std::string_view name);

/// The action a request type is sent as, and the response it reads back.
template <class Request>
struct Action;
template <>
struct Action<CreateContainerGroupRequest> {
    using Response = CreateContainerGroupResponse;
    static constexpr const ActionDescription& description = create_container_group;
};
template <>
struct Action<DescribeContainerGroupsRequest> {
    using Response = DescribeContainerGroupsResponse;
    static constexpr const ActionDescription& description = describe_container_groups;
};
template <>
struct Action<DeleteContainerGroupRequest> {
    using Response = DeleteContainerGroupResponse;
    static constexpr const ActionDescription& description = delete_container_group;
};
template <>
struct Action<RestartContainerGroupRequest> {
    using Response = RestartContainerGroupResponse;
    static constexpr const ActionDescription& description = restart_container_group;
};
template <>
struct Action<ExecContainerCommandRequest> {
    using Response = ExecContainerCommandResponse;
    static constexpr const ActionDescription& description = exec_container_command;
};
template <>
struct Action<DescribeContainerLogRequest> {
    using Response = DescribeContainerLogResponse;
    static constexpr const ActionDescription& description = describe_container_log;
};

}  // namespace eci::detail
