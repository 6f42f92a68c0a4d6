// SPDX-License-Identifier: Apache-2.0
// The typed ECI 2018-08-08 models: container groups as the service describes them, and the
// requests and responses of the actions this library calls.
//
// Field names follow the official SDK models in snake_case (`ContainerGroupId` becomes
// `container_group_id`); docs/models.md lists the service name of every field. The same
// structs are used by the client (which parses them) and the bundled emulator (which
// serializes them), so there is one mapping.
//
// Requests: a `std::optional` field or an empty string/list is "not set" and is not sent, so
// the service applies its own default. Responses: a field the service left out keeps the
// default shown here.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace eci {

/// Container group (instance) statuses, as the service spells them (reference §4).
namespace status {
inline constexpr std::string_view scheduling = "Scheduling";    ///< being created, not billed
inline constexpr std::string_view pending = "Pending";          ///< containers starting
inline constexpr std::string_view running = "Running";          ///< at least one container runs
inline constexpr std::string_view restarting = "Restarting";    ///< after RestartContainerGroup
inline constexpr std::string_view updating = "Updating";        ///< after UpdateContainerGroup
inline constexpr std::string_view terminating = "Terminating";  ///< deleting (preStop hooks)
inline constexpr std::string_view succeeded = "Succeeded";      ///< terminal: all exited with 0
inline constexpr std::string_view failed = "Failed";            ///< terminal: some exit failed
inline constexpr std::string_view expired = "Expired";  ///< terminal: spot instance reclaimed
inline constexpr std::string_view schedule_failed = "ScheduleFailed";  ///< terminal: never ran
}  // namespace status

/// Container states (`ContainerState::state`).
namespace container_state {
inline constexpr std::string_view waiting = "Waiting";
inline constexpr std::string_view running = "Running";
inline constexpr std::string_view terminated = "Terminated";
}  // namespace container_state

/// Whether a container group in `status` will never run again: Succeeded, Failed, Expired or
/// ScheduleFailed. Unknown statuses are not terminal. Thread safety: pure function.
bool is_terminal_status(std::string_view status) noexcept;

/// A resource tag (`Tag.N.Key` / `Tags[].Key`).
struct Tag {
    std::string key;
    std::string value;
    friend bool operator==(const Tag&, const Tag&) = default;
};

/// An environment variable of a container. In a request the value is always sent, even when
/// empty (an empty variable is a legitimate setting).
struct EnvironmentVar {
    std::string key;
    std::string value;
    friend bool operator==(const EnvironmentVar&, const EnvironmentVar&) = default;
};

/// A port a container exposes.
struct ContainerPort {
    int port = 0;
    std::string protocol;  ///< "TCP" or "UDP"; empty = not sent (the service assumes TCP)
    friend bool operator==(const ContainerPort&, const ContainerPort&) = default;
};

/// The state of one run of a container (`CurrentState` / `PreviousState`).
struct ContainerState {
    std::string state;          ///< Waiting, Running or Terminated (see container_state)
    std::string detail_status;  ///< free text
    std::string reason;         ///< e.g. Completed, Error
    std::string message;
    int exit_code = 0;  ///< meaningful when state is Terminated
    int signal = 0;
    std::string start_time;   ///< RFC 3339 UTC, e.g. 2018-08-02T15:00:00Z; empty when unknown
    std::string finish_time;  ///< RFC 3339 UTC; empty while running
    friend bool operator==(const ContainerState&, const ContainerState&) = default;
};

/// A container of a container group, as DescribeContainerGroups reports it.
struct Container {
    std::string name;
    std::string image;
    double cpu = 0;     ///< vCPU
    double memory = 0;  ///< GiB
    int gpu = 0;
    bool ready = false;
    int restart_count = 0;
    ContainerState current_state;
    ContainerState previous_state;  ///< the prior run, after a restart
    std::vector<std::string> commands;
    std::vector<std::string> args;
    std::vector<EnvironmentVar> environment_vars;
    std::vector<ContainerPort> ports;
    std::string working_dir;
    std::string image_pull_policy;  ///< Always, IfNotPresent or Never
    bool stdin = false;
    bool stdin_once = false;
    bool tty = false;
    friend bool operator==(const Container&, const Container&) = default;
};

/// An event of a container group (k8s style; at most 50 are reported).
struct Event {
    int count = 0;
    std::string type;  ///< Normal or Warning
    std::string name;
    std::string reason;  ///< e.g. Created, Started, NoStock, FailedScheduling
    std::string message;
    std::string first_timestamp;  ///< RFC 3339 UTC
    std::string last_timestamp;   ///< RFC 3339 UTC
    friend bool operator==(const Event&, const Event&) = default;
};

/// A container group (an ECI instance), as DescribeContainerGroups reports it.
struct ContainerGroup {
    std::string container_group_id;
    std::string container_group_name;
    std::string region_id;
    std::string zone_id;
    std::string status;  ///< one of eci::status
    double cpu = 0;      ///< vCPU
    double memory = 0;   ///< GiB
    std::string instance_type;
    std::string v_switch_id;
    std::string security_group_id;
    std::string vpc_id;
    std::string eni_instance_id;
    std::string intranet_ip;
    std::string internet_ip;
    std::string ipv6_address;
    std::string restart_policy;  ///< Always, Never or OnFailure
    std::string creation_time;   ///< RFC 3339 UTC
    std::string succeeded_time;  ///< RFC 3339 UTC; empty unless Succeeded
    std::string failed_time;     ///< RFC 3339 UTC; empty unless Failed
    std::string expired_time;    ///< RFC 3339 UTC; empty unless Expired
    std::string resource_group_id;
    std::string ram_role_name;
    std::string spot_strategy;
    int ephemeral_storage = 0;  ///< GiB
    std::vector<Tag> tags;
    std::vector<Event> events;  ///< only filled when the request set with_event
    std::vector<Container> containers;
    std::vector<Container> init_containers;
    friend bool operator==(const ContainerGroup&, const ContainerGroup&) = default;
};

/// `group` as compact JSON with the service's field names (as DescribeContainerGroups
/// returns one group), e.g. for a tool's `--json` output. Fields left at their defaults are
/// written too.
std::string to_json_text(const ContainerGroup& group);

// ---------------------------------------------------------------------------------------
// Requests. region_id is not part of them: the client adds its configured region.

/// One container of a CreateContainerGroup request (`Container.N.*`).
struct ContainerSpec {
    std::string name;   ///< required
    std::string image;  ///< required
    std::optional<double> cpu;
    std::optional<double> memory;       ///< GiB
    std::vector<std::string> commands;  ///< `Container.N.Command.M`; empty = image entrypoint
    std::vector<std::string> args;      ///< `Container.N.Arg.M`
    std::vector<EnvironmentVar> environment_vars;
    std::vector<ContainerPort> ports;
    std::string working_dir;
    std::optional<bool> stdin;
    std::optional<bool> tty;
    std::string image_pull_policy;
    friend bool operator==(const ContainerSpec&, const ContainerSpec&) = default;
};

struct CreateContainerGroupRequest {
    std::string container_group_name;       ///< required; 2-128 chars of [a-z0-9-]
    std::vector<ContainerSpec> containers;  ///< required; at most 20
    std::optional<double> cpu;
    std::optional<double> memory;  ///< GiB
    std::string restart_policy;    ///< Always (service default), Never or OnFailure
    std::vector<Tag> tags;         ///< at most 20
    std::string v_switch_id;
    std::string security_group_id;
    std::string zone_id;
    std::string instance_type;
    std::string client_token;  ///< idempotency token, <= 64 ASCII chars
    std::optional<std::int64_t> active_deadline_seconds;
    std::optional<std::int64_t> termination_grace_period_seconds;
    std::optional<bool> auto_create_eip;
    std::optional<int> eip_bandwidth;  ///< Mbit/s
    std::string eip_instance_id;
    std::optional<bool> dry_run;
    friend bool operator==(const CreateContainerGroupRequest&,
                           const CreateContainerGroupRequest&) = default;
};

struct DescribeContainerGroupsRequest {
    std::vector<std::string> container_group_ids;  ///< sent as one JSON-array string; <= 20
    std::string container_group_name;
    std::string status;  ///< one of eci::status
    std::vector<Tag> tags;
    std::string v_switch_id;
    std::string security_group_id;
    std::string zone_id;
    std::optional<int> limit;  ///< page size, service default 20, max 20
    std::string next_token;    ///< from the previous page; empty on the first call
    std::optional<bool> with_event;
    friend bool operator==(const DescribeContainerGroupsRequest&,
                           const DescribeContainerGroupsRequest&) = default;
};

struct DeleteContainerGroupRequest {
    std::string container_group_id;  ///< required
    std::optional<bool> force;       ///< skip the grace period
    std::string client_token;
    friend bool operator==(const DeleteContainerGroupRequest&,
                           const DeleteContainerGroupRequest&) = default;
};

struct RestartContainerGroupRequest {
    std::string container_group_id;  ///< required; the group must be Pending or Running
    std::string client_token;
    friend bool operator==(const RestartContainerGroupRequest&,
                           const RestartContainerGroupRequest&) = default;
};

struct ExecContainerCommandRequest {
    std::string container_group_id;    ///< required
    std::string container_name;        ///< required
    std::vector<std::string> command;  ///< required; sent as one JSON-array string, <= 20 items
    std::optional<bool> tty;           ///< `TTY`; service default false
    std::optional<bool> stdin;         ///< service default true
    std::optional<bool> sync;          ///< service default false; output in sync_response
    friend bool operator==(const ExecContainerCommandRequest&,
                           const ExecContainerCommandRequest&) = default;
};

struct DescribeContainerLogRequest {
    std::string container_group_id;  ///< required
    std::string container_name;      ///< required
    std::optional<int> tail;         ///< lines; service default 500, max 2000
    std::optional<int> since_seconds;
    std::string start_time;          ///< RFC 3339 UTC
    std::optional<int> limit_bytes;  ///< 1..1048576
    std::optional<bool> last_time;   ///< logs of the previous run after a restart
    std::optional<bool> timestamps;
    friend bool operator==(const DescribeContainerLogRequest&,
                           const DescribeContainerLogRequest&) = default;
};

// ---------------------------------------------------------------------------------------
// Responses.

struct CreateContainerGroupResponse {
    std::string request_id;
    std::string container_group_id;
    friend bool operator==(const CreateContainerGroupResponse&,
                           const CreateContainerGroupResponse&) = default;
};

struct DescribeContainerGroupsResponse {
    std::string request_id;
    int total_count = 0;
    std::string next_token;  ///< empty on the last page
    std::vector<ContainerGroup> container_groups;
    friend bool operator==(const DescribeContainerGroupsResponse&,
                           const DescribeContainerGroupsResponse&) = default;
};

struct DeleteContainerGroupResponse {
    std::string request_id;
    friend bool operator==(const DeleteContainerGroupResponse&,
                           const DeleteContainerGroupResponse&) = default;
};

struct RestartContainerGroupResponse {
    std::string request_id;
    friend bool operator==(const RestartContainerGroupResponse&,
                           const RestartContainerGroupResponse&) = default;
};

struct ExecContainerCommandResponse {
    std::string request_id;
    std::string web_socket_uri;                ///< wss://...; holds an opaque token: do not log it
    std::string http_url;                      ///< browser terminal, valid ~30 s; holds a token too
    std::optional<std::string> sync_response;  ///< only present when the request set sync
    friend bool operator==(const ExecContainerCommandResponse&,
                           const ExecContainerCommandResponse&) = default;
};

struct DescribeContainerLogResponse {
    std::string request_id;
    std::string container_name;
    std::string content;  ///< at most 1 MB
    friend bool operator==(const DescribeContainerLogResponse&,
                           const DescribeContainerLogResponse&) = default;
};

}  // namespace eci
