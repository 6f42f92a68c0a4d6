// SPDX-License-Identifier: Apache-2.0
// The ECI actions, each described once (issue 15, item 3): its wire name, whether a call may
// be sent again (RetrySafety), and the service's documented per-account limit per minute.
// Who reads it: the client's generic call (lib/api/typed_call.hpp: name, retry safety and
// ClientToken by request type), the rate limiter's defaults (documented_rate_limits), the
// emulator's router (emulator/actions.cpp: the name each handler is routed under), and the
// wire forms (core/models_json.*: each action's request and response table, below).
//
// A new action goes here whole: its request's and response's wire tables, its description,
// its Action<Request> and its line in ECI_FOR_EACH_ACTION (docs/architecture.md).
#pragma once

#include <eci/models.hpp>

#include "core/retry.hpp"
#include "core/wire_model.hpp"

#include <span>
#include <string_view>

namespace eci::detail {

struct ActionDescription {
    std::string_view name;
    /// Whether a failed call may be sent again (the client's retry loop).
    RetrySafety retry = RetrySafety::always;
    /// The documented limit per account and minute (eci-api.md section 5); 0 = none listed.
    int per_minute = 0;
    /// Whether the client fills an empty `client_token` of the request with a random one, so
    /// every retry of one call carries the same token (creates and restarts).
    bool generates_client_token = false;
};

// The actions the library calls: a request and a response type each (Action<Request>).
inline constexpr ActionDescription create_container_group{"CreateContainerGroup",
                                                          RetrySafety::always, 1000, true};
inline constexpr ActionDescription describe_container_groups{"DescribeContainerGroups",
                                                             RetrySafety::always, 2000, false};
inline constexpr ActionDescription delete_container_group{"DeleteContainerGroup",
                                                          RetrySafety::always, 1000, false};
inline constexpr ActionDescription restart_container_group{"RestartContainerGroup",
                                                           RetrySafety::always, 500, true};
/// Never run twice: retried only when the request provably did not run.
inline constexpr ActionDescription exec_container_command{
    "ExecContainerCommand", RetrySafety::only_if_not_sent, 500, false};
inline constexpr ActionDescription describe_container_log{"DescribeContainerLog",
                                                          RetrySafety::always, 500, false};

/// Every action above, then the documented limits of actions the library does not call (so a
/// user's own calls through the limiter are paced too). Burst: see ActionRateLimit.
std::span<const ActionDescription> all_actions();

/// The description of an action by name; nullptr when it is not in all_actions().
const ActionDescription* find_action(std::string_view name);

/// The action a request type is sent as, and the response it reads back.
template <class Request>
struct Action;

// ---------------------------------------------------------------------------------------
// Each action: its request's params and its response's JSON (core/wire_model.hpp says how a
// table reads), then the request -> response and description mapping. Params go in the
// official SDK's order (RegionId first, added by to_params).

// CreateContainerGroup
template <>
inline constexpr auto wire::fields<CreateContainerGroupRequest> = std::array{
    wire::field<&CreateContainerGroupRequest::container_group_name>("ContainerGroupName",
                                                                    wire::required),
    wire::field<&CreateContainerGroupRequest::containers>("Container", wire::required),
    wire::field<&CreateContainerGroupRequest::cpu>("Cpu"),
    wire::field<&CreateContainerGroupRequest::memory>("Memory"),
    wire::field<&CreateContainerGroupRequest::restart_policy>("RestartPolicy"),
    wire::field<&CreateContainerGroupRequest::tags>("Tag"),
    wire::field<&CreateContainerGroupRequest::v_switch_id>("VSwitchId"),
    wire::field<&CreateContainerGroupRequest::security_group_id>("SecurityGroupId"),
    wire::field<&CreateContainerGroupRequest::zone_id>("ZoneId"),
    wire::field<&CreateContainerGroupRequest::instance_type>("InstanceType"),
    wire::field<&CreateContainerGroupRequest::client_token>("ClientToken"),
    wire::field<&CreateContainerGroupRequest::active_deadline_seconds>("ActiveDeadlineSeconds"),
    wire::field<&CreateContainerGroupRequest::termination_grace_period_seconds>(
        "TerminationGracePeriodSeconds"),
    wire::field<&CreateContainerGroupRequest::auto_create_eip>("AutoCreateEip"),
    wire::field<&CreateContainerGroupRequest::eip_bandwidth>("EipBandwidth"),
    wire::field<&CreateContainerGroupRequest::eip_instance_id>("EipInstanceId"),
    wire::field<&CreateContainerGroupRequest::dry_run>("DryRun"),
};
template <>
inline constexpr auto wire::fields<CreateContainerGroupResponse> = std::array{
    wire::field<&CreateContainerGroupResponse::request_id>("RequestId"),
    wire::field<&CreateContainerGroupResponse::container_group_id>("ContainerGroupId"),
};
template <>
struct Action<CreateContainerGroupRequest> {
    using Response = CreateContainerGroupResponse;
    static constexpr const ActionDescription& description = create_container_group;
};

// DescribeContainerGroups
template <>
inline constexpr auto wire::fields<DescribeContainerGroupsRequest> = std::array{
    wire::field<&DescribeContainerGroupsRequest::container_group_ids>("ContainerGroupIds",
                                                                      wire::json_array),
    wire::field<&DescribeContainerGroupsRequest::container_group_name>("ContainerGroupName"),
    wire::field<&DescribeContainerGroupsRequest::status>("Status"),
    wire::field<&DescribeContainerGroupsRequest::tags>("Tag"),
    wire::field<&DescribeContainerGroupsRequest::v_switch_id>("VSwitchId"),
    wire::field<&DescribeContainerGroupsRequest::security_group_id>("SecurityGroupId"),
    wire::field<&DescribeContainerGroupsRequest::zone_id>("ZoneId"),
    wire::field<&DescribeContainerGroupsRequest::limit>("Limit"),
    wire::field<&DescribeContainerGroupsRequest::next_token>("NextToken"),
    wire::field<&DescribeContainerGroupsRequest::with_event>("WithEvent"),
};
template <>
inline constexpr auto wire::fields<DescribeContainerGroupsResponse> = std::array{
    wire::field<&DescribeContainerGroupsResponse::request_id>("RequestId"),
    wire::field<&DescribeContainerGroupsResponse::total_count>("TotalCount"),
    wire::field<&DescribeContainerGroupsResponse::next_token>("NextToken"),
    wire::field<&DescribeContainerGroupsResponse::container_groups>("ContainerGroups"),
};
template <>
struct Action<DescribeContainerGroupsRequest> {
    using Response = DescribeContainerGroupsResponse;
    static constexpr const ActionDescription& description = describe_container_groups;
};

// DeleteContainerGroup
template <>
inline constexpr auto wire::fields<DeleteContainerGroupRequest> = std::array{
    wire::field<&DeleteContainerGroupRequest::container_group_id>("ContainerGroupId",
                                                                  wire::required),
    wire::field<&DeleteContainerGroupRequest::force>("Force"),
    wire::field<&DeleteContainerGroupRequest::client_token>("ClientToken"),
};
template <>
inline constexpr auto wire::fields<DeleteContainerGroupResponse> = std::array{
    wire::field<&DeleteContainerGroupResponse::request_id>("RequestId"),
};
template <>
struct Action<DeleteContainerGroupRequest> {
    using Response = DeleteContainerGroupResponse;
    static constexpr const ActionDescription& description = delete_container_group;
};

// RestartContainerGroup
template <>
inline constexpr auto wire::fields<RestartContainerGroupRequest> = std::array{
    wire::field<&RestartContainerGroupRequest::container_group_id>("ContainerGroupId",
                                                                   wire::required),
    wire::field<&RestartContainerGroupRequest::client_token>("ClientToken"),
};
template <>
inline constexpr auto wire::fields<RestartContainerGroupResponse> = std::array{
    wire::field<&RestartContainerGroupResponse::request_id>("RequestId"),
};
template <>
struct Action<RestartContainerGroupRequest> {
    using Response = RestartContainerGroupResponse;
    static constexpr const ActionDescription& description = restart_container_group;
};

// ExecContainerCommand
template <>
inline constexpr auto wire::fields<ExecContainerCommandRequest> = std::array{
    wire::field<&ExecContainerCommandRequest::container_group_id>("ContainerGroupId",
                                                                  wire::required),
    wire::field<&ExecContainerCommandRequest::container_name>("ContainerName", wire::required),
    wire::field<&ExecContainerCommandRequest::command>(
        "Command", wire::required | wire::always_sent | wire::json_array),
    wire::field<&ExecContainerCommandRequest::tty>("TTY"),
    wire::field<&ExecContainerCommandRequest::stdin>("Stdin"),
    wire::field<&ExecContainerCommandRequest::sync>("Sync"),
};
template <>
inline constexpr auto wire::fields<ExecContainerCommandResponse> = std::array{
    wire::field<&ExecContainerCommandResponse::request_id>("RequestId"),
    wire::field<&ExecContainerCommandResponse::web_socket_uri>("WebSocketUri"),
    wire::field<&ExecContainerCommandResponse::http_url>("HttpUrl"),
    wire::field<&ExecContainerCommandResponse::sync_response>("SyncResponse"),
};
template <>
struct Action<ExecContainerCommandRequest> {
    using Response = ExecContainerCommandResponse;
    static constexpr const ActionDescription& description = exec_container_command;
};

// DescribeContainerLog
template <>
inline constexpr auto wire::fields<DescribeContainerLogRequest> = std::array{
    wire::field<&DescribeContainerLogRequest::container_group_id>("ContainerGroupId",
                                                                  wire::required),
    wire::field<&DescribeContainerLogRequest::container_name>("ContainerName", wire::required),
    wire::field<&DescribeContainerLogRequest::tail>("Tail"),
    wire::field<&DescribeContainerLogRequest::since_seconds>("SinceSeconds"),
    wire::field<&DescribeContainerLogRequest::start_time>("StartTime"),
    wire::field<&DescribeContainerLogRequest::limit_bytes>("LimitBytes"),
    wire::field<&DescribeContainerLogRequest::last_time>("LastTime"),
    wire::field<&DescribeContainerLogRequest::timestamps>("Timestamps"),
};
template <>
inline constexpr auto wire::fields<DescribeContainerLogResponse> = std::array{
    wire::field<&DescribeContainerLogResponse::request_id>("RequestId"),
    wire::field<&DescribeContainerLogResponse::container_name>("ContainerName"),
    wire::field<&DescribeContainerLogResponse::content>("Content"),
};
template <>
struct Action<DescribeContainerLogRequest> {
    using Response = DescribeContainerLogResponse;
    static constexpr const ActionDescription& description = describe_container_log;
};

/// Every request type above, for what is made once per action: the explicit instantiations of
/// the wire directions (core/models_json*.cpp), all_actions() and the client's typed calls.
#define ECI_FOR_EACH_ACTION(X)        \
    X(CreateContainerGroupRequest)    \
    X(DescribeContainerGroupsRequest) \
    X(DeleteContainerGroupRequest)    \
    X(RestartContainerGroupRequest)   \
    X(ExecContainerCommandRequest)    \
    X(DescribeContainerLogRequest)

}  // namespace eci::detail
