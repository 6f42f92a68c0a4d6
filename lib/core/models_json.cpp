#include "core/models_json.hpp"

#include "core/flatten.hpp"
#include "core/service_error.hpp"

#include <fmt/format.h>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/parse_options.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>

namespace eci {

bool is_terminal_status(std::string_view status) noexcept {
    return status == status::succeeded || status == status::failed || status == status::expired ||
           status == status::schedule_failed;
}

}  // namespace eci

namespace eci::detail {

namespace json = boost::json;

// =======================================================================================
// JSON -> models
namespace {

std::string_view json_kind_name(const json::value& value) {
    switch (value.kind()) {
        case json::kind::null:
            return "null";
        case json::kind::bool_:
            return "a boolean";
        case json::kind::int64:
        case json::kind::uint64:
            return "an integer";
        case json::kind::double_:
            return "a float";
        case json::kind::string:
            return "a string";
        case json::kind::array:
            return "an array";
        case json::kind::object:
            return "an object";
    }
    return "unknown";
}

// The state of one parse: the path of the field being read and the first failure. Reading
// goes on after a failure (cheaply) so the readers stay free of early-return plumbing.
class JsonReader {
  public:
    bool failed() const { return error_.has_value(); }
    Error take_error() { return std::move(*error_); }

    void fail(const json::value& got, std::string_view expected) {
        if (error_)
            return;
        error_ = Error::make(
            ErrorKind::protocol,
            fmt::format("the reply field {} should be {} but is {}",
                        path_.empty() ? "(root)" : path_, expected, json_kind_name(got)));
    }

    // Runs `read` with `.key` (or `[index]`) appended to the path.
    template <class F>
    void with_key(std::string_view key, F&& read) {
        const std::size_t size = path_.size();
        if (!path_.empty())
            path_ += '.';
        path_ += key;
        read();
        path_.resize(size);
    }
    template <class F>
    void with_index(std::size_t index, F&& read) {
        const std::size_t size = path_.size();
        path_ += fmt::format("[{}]", index);
        read();
        path_.resize(size);
    }

  private:
    std::string path_;
    std::optional<Error> error_;
};

void read(JsonReader& reader, const json::value& value, std::string& out) {
    if (const json::string* text = value.if_string()) {
        out.assign(text->data(), text->size());
    } else {
        reader.fail(value, "a string");
    }
}

void read(JsonReader& reader, const json::value& value, double& out) {
    if (value.is_number()) {
        out = value.to_number<double>();
    } else {
        reader.fail(value, "a number");
    }
}

void read(JsonReader& reader, const json::value& value, int& out) {
    constexpr auto low = std::numeric_limits<int>::min();
    constexpr auto high = std::numeric_limits<int>::max();
    if (const std::int64_t* i = value.if_int64(); i && *i >= low && *i <= high) {
        out = static_cast<int>(*i);
    } else if (const std::uint64_t* u = value.if_uint64(); u && *u <= std::uint64_t{high}) {
        out = static_cast<int>(*u);
    } else if (const double* d = value.if_double();
               d && std::trunc(*d) == *d && *d >= low && *d <= high) {
        out = static_cast<int>(*d);
    } else {
        reader.fail(value, "an integer within the int range");
    }
}

void read(JsonReader& reader, const json::value& value, bool& out) {
    if (const bool* flag = value.if_bool()) {
        out = *flag;
    } else {
        reader.fail(value, "a boolean");
    }
}

void read(JsonReader& reader, const json::value& value, Tag& out);
void read(JsonReader& reader, const json::value& value, EnvironmentVar& out);
void read(JsonReader& reader, const json::value& value, ContainerPort& out);
void read(JsonReader& reader, const json::value& value, ContainerState& out);
void read(JsonReader& reader, const json::value& value, Container& out);
void read(JsonReader& reader, const json::value& value, Event& out);
void read(JsonReader& reader, const json::value& value, ContainerGroup& out);

template <class T>
void read(JsonReader& reader, const json::value& value, std::optional<T>& out) {
    T item{};
    read(reader, value, item);
    out = std::move(item);
}

template <class T>
void read(JsonReader& reader, const json::value& value, std::vector<T>& out) {
    const json::array* array = value.if_array();
    // XML-style wrappers ({"Tag":[...]}) appear in some Alibaba APIs; unwrap a single-member
    // object holding an array rather than fail on a shape that carries the same data.
    if (const json::object* object = value.if_object(); object && object->size() == 1)
        array = object->begin()->value().if_array();
    if (!array) {
        reader.fail(value, "an array");
        return;
    }
    out.clear();
    out.reserve(array->size());
    for (std::size_t i = 0; i < array->size(); ++i) {
        reader.with_index(i, [&] { read(reader, (*array)[i], out.emplace_back()); });
    }
}

// Reads member `key` of `object` into `out` when present and not null.
template <class T>
void field(JsonReader& reader, const json::object& object, std::string_view key, T& out) {
    const json::value* found = object.if_contains(key);
    if (!found || found->is_null())
        return;
    reader.with_key(key, [&] { read(reader, *found, out); });
}

// Runs `fields(object)` when `value` is an object, else fails.
template <class F>
void read_object(JsonReader& reader, const json::value& value, F&& fields) {
    if (const json::object* object = value.if_object()) {
        fields(*object);
    } else {
        reader.fail(value, "an object");
    }
}

void read(JsonReader& reader, const json::value& value, Tag& out) {
    read_object(reader, value, [&](const json::object& o) {
        field(reader, o, "Key", out.key);
        field(reader, o, "Value", out.value);
    });
}

void read(JsonReader& reader, const json::value& value, EnvironmentVar& out) {
    read_object(reader, value, [&](const json::object& o) {
        field(reader, o, "Key", out.key);
        field(reader, o, "Value", out.value);
    });
}

void read(JsonReader& reader, const json::value& value, ContainerPort& out) {
    read_object(reader, value, [&](const json::object& o) {
        field(reader, o, "Port", out.port);
        field(reader, o, "Protocol", out.protocol);
    });
}

void read(JsonReader& reader, const json::value& value, ContainerState& out) {
    read_object(reader, value, [&](const json::object& o) {
        field(reader, o, "State", out.state);
        field(reader, o, "DetailStatus", out.detail_status);
        field(reader, o, "Reason", out.reason);
        field(reader, o, "Message", out.message);
        field(reader, o, "ExitCode", out.exit_code);
        field(reader, o, "Signal", out.signal);
        field(reader, o, "StartTime", out.start_time);
        field(reader, o, "FinishTime", out.finish_time);
    });
}

void read(JsonReader& reader, const json::value& value, Container& out) {
    read_object(reader, value, [&](const json::object& o) {
        field(reader, o, "Name", out.name);
        field(reader, o, "Image", out.image);
        field(reader, o, "Cpu", out.cpu);
        field(reader, o, "Memory", out.memory);
        field(reader, o, "Gpu", out.gpu);
        field(reader, o, "Ready", out.ready);
        field(reader, o, "RestartCount", out.restart_count);
        field(reader, o, "CurrentState", out.current_state);
        field(reader, o, "PreviousState", out.previous_state);
        // InitContainers[] calls the list "Command" (singular) where Containers[] says
        // "Commands" (SDK models); accept either for both.
        if (o.contains("Commands")) {
            field(reader, o, "Commands", out.commands);
        } else {
            field(reader, o, "Command", out.commands);
        }
        field(reader, o, "Args", out.args);
        field(reader, o, "EnvironmentVars", out.environment_vars);
        field(reader, o, "Ports", out.ports);
        field(reader, o, "WorkingDir", out.working_dir);
        field(reader, o, "ImagePullPolicy", out.image_pull_policy);
        field(reader, o, "Stdin", out.stdin);
        field(reader, o, "StdinOnce", out.stdin_once);
        field(reader, o, "Tty", out.tty);
    });
}

void read(JsonReader& reader, const json::value& value, Event& out) {
    read_object(reader, value, [&](const json::object& o) {
        field(reader, o, "Count", out.count);
        field(reader, o, "Type", out.type);
        field(reader, o, "Name", out.name);
        field(reader, o, "Reason", out.reason);
        field(reader, o, "Message", out.message);
        field(reader, o, "FirstTimestamp", out.first_timestamp);
        field(reader, o, "LastTimestamp", out.last_timestamp);
    });
}

void read(JsonReader& reader, const json::value& value, ContainerGroup& out) {
    read_object(reader, value, [&](const json::object& o) {
        field(reader, o, "ContainerGroupId", out.container_group_id);
        field(reader, o, "ContainerGroupName", out.container_group_name);
        field(reader, o, "RegionId", out.region_id);
        field(reader, o, "ZoneId", out.zone_id);
        field(reader, o, "Status", out.status);
        field(reader, o, "Cpu", out.cpu);
        field(reader, o, "Memory", out.memory);
        field(reader, o, "InstanceType", out.instance_type);
        field(reader, o, "VSwitchId", out.v_switch_id);
        field(reader, o, "SecurityGroupId", out.security_group_id);
        field(reader, o, "VpcId", out.vpc_id);
        field(reader, o, "EniInstanceId", out.eni_instance_id);
        field(reader, o, "IntranetIp", out.intranet_ip);
        field(reader, o, "InternetIp", out.internet_ip);
        field(reader, o, "Ipv6Address", out.ipv6_address);
        field(reader, o, "RestartPolicy", out.restart_policy);
        field(reader, o, "CreationTime", out.creation_time);
        field(reader, o, "SucceededTime", out.succeeded_time);
        field(reader, o, "FailedTime", out.failed_time);
        field(reader, o, "ExpiredTime", out.expired_time);
        field(reader, o, "ResourceGroupId", out.resource_group_id);
        field(reader, o, "RamRoleName", out.ram_role_name);
        field(reader, o, "SpotStrategy", out.spot_strategy);
        field(reader, o, "EphemeralStorage", out.ephemeral_storage);
        field(reader, o, "Tags", out.tags);
        field(reader, o, "Events", out.events);
        field(reader, o, "Containers", out.containers);
        field(reader, o, "InitContainers", out.init_containers);
    });
}

void read(JsonReader& reader, const json::value& value, CreateContainerGroupResponse& out) {
    read_object(reader, value, [&](const json::object& o) {
        field(reader, o, "RequestId", out.request_id);
        field(reader, o, "ContainerGroupId", out.container_group_id);
    });
}

void read(JsonReader& reader, const json::value& value, DescribeContainerGroupsResponse& out) {
    read_object(reader, value, [&](const json::object& o) {
        field(reader, o, "RequestId", out.request_id);
        field(reader, o, "TotalCount", out.total_count);
        field(reader, o, "NextToken", out.next_token);
        field(reader, o, "ContainerGroups", out.container_groups);
    });
}

void read(JsonReader& reader, const json::value& value, DeleteContainerGroupResponse& out) {
    read_object(reader, value,
                [&](const json::object& o) { field(reader, o, "RequestId", out.request_id); });
}

void read(JsonReader& reader, const json::value& value, RestartContainerGroupResponse& out) {
    read_object(reader, value,
                [&](const json::object& o) { field(reader, o, "RequestId", out.request_id); });
}

void read(JsonReader& reader, const json::value& value, ExecContainerCommandResponse& out) {
    read_object(reader, value, [&](const json::object& o) {
        field(reader, o, "RequestId", out.request_id);
        field(reader, o, "WebSocketUri", out.web_socket_uri);
        field(reader, o, "HttpUrl", out.http_url);
        field(reader, o, "SyncResponse", out.sync_response);
    });
}

void read(JsonReader& reader, const json::value& value, DescribeContainerLogResponse& out) {
    read_object(reader, value, [&](const json::object& o) {
        field(reader, o, "RequestId", out.request_id);
        field(reader, o, "ContainerName", out.container_name);
        field(reader, o, "Content", out.content);
    });
}

}  // namespace

template <class T>
Result<T> from_json(const json::value& value) {
    JsonReader reader;
    T out{};
    read(reader, value, out);
    if (reader.failed())
        return reader.take_error();
    return out;
}

template Result<Tag> from_json<Tag>(const json::value&);
template Result<EnvironmentVar> from_json<EnvironmentVar>(const json::value&);
template Result<ContainerPort> from_json<ContainerPort>(const json::value&);
template Result<ContainerState> from_json<ContainerState>(const json::value&);
template Result<Container> from_json<Container>(const json::value&);
template Result<Event> from_json<Event>(const json::value&);
template Result<ContainerGroup> from_json<ContainerGroup>(const json::value&);
template Result<CreateContainerGroupResponse> from_json<CreateContainerGroupResponse>(
    const json::value&);
template Result<DescribeContainerGroupsResponse> from_json<DescribeContainerGroupsResponse>(
    const json::value&);
template Result<DeleteContainerGroupResponse> from_json<DeleteContainerGroupResponse>(
    const json::value&);
template Result<RestartContainerGroupResponse> from_json<RestartContainerGroupResponse>(
    const json::value&);
template Result<ExecContainerCommandResponse> from_json<ExecContainerCommandResponse>(
    const json::value&);
template Result<DescribeContainerLogResponse> from_json<DescribeContainerLogResponse>(
    const json::value&);

// =======================================================================================
// Models -> JSON
namespace {

json::value number_value(double number) {
    // Boost.JSON writes 2.0 as "2E0": valid JSON, but odd next to the service's output.
    constexpr double exact_int_limit = 9007199254740992.0;  // 2^53
    if (std::trunc(number) == number && std::fabs(number) < exact_int_limit)
        return static_cast<std::int64_t>(number);
    return number;
}

json::array string_array(const std::vector<std::string>& items) {
    json::array array;
    array.reserve(items.size());
    for (const std::string& item : items)
        array.emplace_back(item);
    return array;
}

template <class T>
json::array model_array(const std::vector<T>& items) {
    json::array array;
    array.reserve(items.size());
    for (const T& item : items)
        array.push_back(to_json(item));
    return array;
}

json::value container_to_json(const Container& c, bool init_container) {
    json::object o;
    o["Name"] = c.name;
    o["Image"] = c.image;
    o["Cpu"] = number_value(c.cpu);
    o["Memory"] = number_value(c.memory);
    o["Gpu"] = c.gpu;
    o["Ready"] = c.ready;
    o["RestartCount"] = c.restart_count;
    o["CurrentState"] = to_json(c.current_state);
    o["PreviousState"] = to_json(c.previous_state);
    o[init_container ? "Command" : "Commands"] = string_array(c.commands);
    o["Args"] = string_array(c.args);
    o["EnvironmentVars"] = model_array(c.environment_vars);
    o["Ports"] = model_array(c.ports);
    o["WorkingDir"] = c.working_dir;
    o["ImagePullPolicy"] = c.image_pull_policy;
    o["Stdin"] = c.stdin;
    o["StdinOnce"] = c.stdin_once;
    o["Tty"] = c.tty;
    return o;
}

}  // namespace

json::value to_json(const Tag& tag) {
    return json::object{{"Key", tag.key}, {"Value", tag.value}};
}

json::value to_json(const EnvironmentVar& variable) {
    return json::object{{"Key", variable.key}, {"Value", variable.value}};
}

json::value to_json(const ContainerPort& port) {
    return json::object{{"Port", port.port}, {"Protocol", port.protocol}};
}

json::value to_json(const ContainerState& state) {
    json::object o;
    o["State"] = state.state;
    o["DetailStatus"] = state.detail_status;
    o["Reason"] = state.reason;
    o["Message"] = state.message;
    o["ExitCode"] = state.exit_code;
    o["Signal"] = state.signal;
    o["StartTime"] = state.start_time;
    o["FinishTime"] = state.finish_time;
    return o;
}

json::value to_json(const Container& container) {
    return container_to_json(container, false);
}

json::value to_json(const Event& event) {
    json::object o;
    o["Count"] = event.count;
    o["Type"] = event.type;
    o["Name"] = event.name;
    o["Reason"] = event.reason;
    o["Message"] = event.message;
    o["FirstTimestamp"] = event.first_timestamp;
    o["LastTimestamp"] = event.last_timestamp;
    return o;
}

json::value to_json(const ContainerGroup& g) {
    json::object o;
    o["ContainerGroupId"] = g.container_group_id;
    o["ContainerGroupName"] = g.container_group_name;
    o["RegionId"] = g.region_id;
    o["ZoneId"] = g.zone_id;
    o["Status"] = g.status;
    o["Cpu"] = number_value(g.cpu);
    o["Memory"] = number_value(g.memory);
    o["InstanceType"] = g.instance_type;
    o["VSwitchId"] = g.v_switch_id;
    o["SecurityGroupId"] = g.security_group_id;
    o["VpcId"] = g.vpc_id;
    o["EniInstanceId"] = g.eni_instance_id;
    o["IntranetIp"] = g.intranet_ip;
    o["InternetIp"] = g.internet_ip;
    o["Ipv6Address"] = g.ipv6_address;
    o["RestartPolicy"] = g.restart_policy;
    o["CreationTime"] = g.creation_time;
    o["SucceededTime"] = g.succeeded_time;
    o["FailedTime"] = g.failed_time;
    o["ExpiredTime"] = g.expired_time;
    o["ResourceGroupId"] = g.resource_group_id;
    o["RamRoleName"] = g.ram_role_name;
    o["SpotStrategy"] = g.spot_strategy;
    o["EphemeralStorage"] = g.ephemeral_storage;
    o["Tags"] = model_array(g.tags);
    o["Events"] = model_array(g.events);
    o["Containers"] = model_array(g.containers);
    json::array init;
    init.reserve(g.init_containers.size());
    for (const Container& c : g.init_containers)
        init.push_back(container_to_json(c, true));
    o["InitContainers"] = std::move(init);
    return o;
}

json::value to_json(const CreateContainerGroupResponse& response) {
    return json::object{{"RequestId", response.request_id},
                        {"ContainerGroupId", response.container_group_id}};
}

json::value to_json(const DescribeContainerGroupsResponse& response) {
    json::object o;
    o["RequestId"] = response.request_id;
    o["TotalCount"] = response.total_count;
    o["NextToken"] = response.next_token;
    o["ContainerGroups"] = model_array(response.container_groups);
    return o;
}

json::value to_json(const DeleteContainerGroupResponse& response) {
    return json::object{{"RequestId", response.request_id}};
}

json::value to_json(const RestartContainerGroupResponse& response) {
    return json::object{{"RequestId", response.request_id}};
}

json::value to_json(const ExecContainerCommandResponse& response) {
    json::object o;
    o["RequestId"] = response.request_id;
    o["WebSocketUri"] = response.web_socket_uri;
    o["HttpUrl"] = response.http_url;
    if (response.sync_response)
        o["SyncResponse"] = *response.sync_response;
    return o;
}

json::value to_json(const DescribeContainerLogResponse& response) {
    return json::object{{"RequestId", response.request_id},
                        {"ContainerName", response.container_name},
                        {"Content", response.content}};
}

// =======================================================================================
// Requests -> params
std::string to_json_array_string(const std::vector<std::string>& items) {
    return json::serialize(string_array(items));
}

namespace {

class ParamWriter {
  public:
    explicit ParamWriter(std::string_view region_id) {
        if (!region_id.empty())
            add("RegionId", std::string(region_id));
    }
    Params take() { return std::move(params_); }

    void add(std::string name, std::string value) {
        params_.emplace_back(std::move(name), std::move(value));
    }
    void text(std::string name, const std::string& value) {
        if (!value.empty())
            add(std::move(name), value);
    }
    void flag(std::string name, const std::optional<bool>& value) {
        if (value)
            add(std::move(name), *value ? "true" : "false");
    }
    void number(std::string name, const std::optional<double>& value) {
        if (value)
            add(std::move(name), js_number_string(*value));
    }
    template <class Int>
    void integer(std::string name, const std::optional<Int>& value) {
        if (value)
            add(std::move(name), std::to_string(*value));
    }
    void strings(const std::string& prefix, const std::vector<std::string>& items) {
        for (std::size_t i = 0; i < items.size(); ++i)
            add(fmt::format("{}.{}", prefix, i + 1), items[i]);
    }
    void tags(const std::vector<Tag>& tags) {
        for (std::size_t i = 0; i < tags.size(); ++i) {
            add(fmt::format("Tag.{}.Key", i + 1), tags[i].key);
            text(fmt::format("Tag.{}.Value", i + 1), tags[i].value);
        }
    }

  private:
    Params params_;
};

}  // namespace

Params to_params(const CreateContainerGroupRequest& r, std::string_view region_id) {
    ParamWriter w(region_id);
    w.text("ContainerGroupName", r.container_group_name);
    for (std::size_t i = 0; i < r.containers.size(); ++i) {
        const ContainerSpec& c = r.containers[i];
        const std::string p = fmt::format("Container.{}.", i + 1);
        w.add(p + "Name", c.name);
        w.add(p + "Image", c.image);
        w.number(p + "Cpu", c.cpu);
        w.number(p + "Memory", c.memory);
        w.strings(p + "Command", c.commands);
        w.strings(p + "Arg", c.args);
        for (std::size_t j = 0; j < c.environment_vars.size(); ++j) {
            const std::string e = fmt::format("{}EnvironmentVar.{}.", p, j + 1);
            w.add(e + "Key", c.environment_vars[j].key);
            w.add(e + "Value", c.environment_vars[j].value);
        }
        for (std::size_t j = 0; j < c.ports.size(); ++j) {
            const std::string e = fmt::format("{}Port.{}.", p, j + 1);
            w.add(e + "Port", std::to_string(c.ports[j].port));
            w.text(e + "Protocol", c.ports[j].protocol);
        }
        w.text(p + "WorkingDir", c.working_dir);
        w.flag(p + "Stdin", c.stdin);
        w.flag(p + "Tty", c.tty);
        w.text(p + "ImagePullPolicy", c.image_pull_policy);
    }
    w.number("Cpu", r.cpu);
    w.number("Memory", r.memory);
    w.text("RestartPolicy", r.restart_policy);
    w.tags(r.tags);
    w.text("VSwitchId", r.v_switch_id);
    w.text("SecurityGroupId", r.security_group_id);
    w.text("ZoneId", r.zone_id);
    w.text("InstanceType", r.instance_type);
    w.text("ClientToken", r.client_token);
    w.integer("ActiveDeadlineSeconds", r.active_deadline_seconds);
    w.integer("TerminationGracePeriodSeconds", r.termination_grace_period_seconds);
    w.flag("AutoCreateEip", r.auto_create_eip);
    w.integer("EipBandwidth", r.eip_bandwidth);
    w.text("EipInstanceId", r.eip_instance_id);
    w.flag("DryRun", r.dry_run);
    return w.take();
}

Params to_params(const DescribeContainerGroupsRequest& r, std::string_view region_id) {
    ParamWriter w(region_id);
    if (!r.container_group_ids.empty())
        w.add("ContainerGroupIds", to_json_array_string(r.container_group_ids));
    w.text("ContainerGroupName", r.container_group_name);
    w.text("Status", r.status);
    w.tags(r.tags);
    w.text("VSwitchId", r.v_switch_id);
    w.text("SecurityGroupId", r.security_group_id);
    w.text("ZoneId", r.zone_id);
    w.integer("Limit", r.limit);
    w.text("NextToken", r.next_token);
    w.flag("WithEvent", r.with_event);
    return w.take();
}

Params to_params(const DeleteContainerGroupRequest& r, std::string_view region_id) {
    ParamWriter w(region_id);
    w.text("ContainerGroupId", r.container_group_id);
    w.flag("Force", r.force);
    w.text("ClientToken", r.client_token);
    return w.take();
}

Params to_params(const RestartContainerGroupRequest& r, std::string_view region_id) {
    ParamWriter w(region_id);
    w.text("ContainerGroupId", r.container_group_id);
    w.text("ClientToken", r.client_token);
    return w.take();
}

Params to_params(const ExecContainerCommandRequest& r, std::string_view region_id) {
    ParamWriter w(region_id);
    w.text("ContainerGroupId", r.container_group_id);
    w.text("ContainerName", r.container_name);
    w.add("Command", to_json_array_string(r.command));
    w.flag("TTY", r.tty);
    w.flag("Stdin", r.stdin);
    w.flag("Sync", r.sync);
    return w.take();
}

Params to_params(const DescribeContainerLogRequest& r, std::string_view region_id) {
    ParamWriter w(region_id);
    w.text("ContainerGroupId", r.container_group_id);
    w.text("ContainerName", r.container_name);
    w.integer("Tail", r.tail);
    w.integer("SinceSeconds", r.since_seconds);
    w.text("StartTime", r.start_time);
    w.integer("LimitBytes", r.limit_bytes);
    w.flag("LastTime", r.last_time);
    w.flag("Timestamps", r.timestamps);
    return w.take();
}

// =======================================================================================
// Params -> requests
Result<std::vector<std::string>> parse_json_array_string(std::string_view text,
                                                         std::string_view param_name) {
    json::parse_options options;
    options.max_depth = 4;  // an array of strings needs 1; anything deeper is malformed anyway
    boost::system::error_code ec;
    const json::value value = json::parse(text, ec, json::storage_ptr(), options);
    if (ec)
        return invalid_parameter_error(param_name, "expected a JSON array of strings");
    const json::array* array = value.if_array();
    if (!array)
        return invalid_parameter_error(param_name, "expected a JSON array of strings");
    std::vector<std::string> items;
    items.reserve(array->size());
    for (const json::value& item : *array) {
        const json::string* s = item.if_string();
        if (!s)
            return invalid_parameter_error(param_name, "expected a JSON array of strings");
        items.emplace_back(s->data(), s->size());
    }
    return items;
}

namespace {

// Reads typed values out of params, keeping the first failure (see JsonReader for why).
class ParamReader {
  public:
    explicit ParamReader(const Params& params) {
        for (const Param& param : params)
            values_.try_emplace(param.first, param.second);
    }

    bool failed() const { return error_.has_value(); }
    Error take_error() { return std::move(*error_); }
    void fail(Error error) {
        if (!error_)
            error_ = std::move(error);
    }

    const std::string* find(std::string_view name) const {
        const auto it = values_.find(name);
        return it == values_.end() ? nullptr : &it->second;
    }

    void required_text(const std::string& name, std::string& out) {
        const std::string* value = find(name);
        if (!value || value->empty()) {
            fail(missing_parameter_error(name));
        } else {
            out = *value;
        }
    }
    void text(const std::string& name, std::string& out) {
        if (const std::string* value = find(name))
            out = *value;
    }
    void flag(const std::string& name, std::optional<bool>& out) {
        const std::string* value = find(name);
        if (!value)
            return;
        if (equals_ignoring_case(*value, "true")) {
            out = true;
        } else if (equals_ignoring_case(*value, "false")) {
            out = false;
        } else {
            fail(invalid_parameter_error(name, "expected true or false"));
        }
    }
    void number(const std::string& name, std::optional<double>& out) {
        const std::string* value = find(name);
        if (!value)
            return;
        double parsed = 0;
        const char* end = value->data() + value->size();
        const auto [ptr, ec] = std::from_chars(value->data(), end, parsed);
        if (ec != std::errc() || ptr != end || !std::isfinite(parsed)) {
            fail(invalid_parameter_error(name, "expected a number"));
        } else {
            out = parsed;
        }
    }
    template <class Int>
    void integer(const std::string& name, std::optional<Int>& out) {
        const std::string* value = find(name);
        if (!value)
            return;
        Int parsed = 0;
        if (!parse_integer(*value, parsed)) {
            fail(invalid_parameter_error(name, "expected an integer"));
        } else {
            out = parsed;
        }
    }
    template <class Int>
    void required_integer(const std::string& name, Int& out) {
        std::optional<Int> value;
        if (!find(name)) {
            fail(missing_parameter_error(name));
            return;
        }
        integer(name, value);
        if (value)
            out = *value;
    }
    void string_array(const std::string& name, std::vector<std::string>& out) {
        const std::string* value = find(name);
        if (!value)
            return;
        Result<std::vector<std::string>> parsed = parse_json_array_string(*value, name);
        if (parsed.ok()) {
            out = std::move(*parsed);
        } else {
            fail(std::move(parsed).error());
        }
    }

    // The item numbers N of `<prefix>.N` (when `leaf`) or `<prefix>.N.<field>` params, in
    // increasing order, without repeats. A malformed N fails with InvalidParameter.
    std::vector<unsigned> indices(std::string_view prefix, bool leaf) {
        std::vector<unsigned> found;
        const std::string start = std::string(prefix) + '.';
        for (auto it = values_.lower_bound(start);
             it != values_.end() && std::string_view(it->first).starts_with(start); ++it) {
            std::string_view rest = std::string_view(it->first).substr(start.size());
            const std::size_t dot = rest.find('.');
            if (leaf && dot != std::string_view::npos)
                continue;  // not ours: e.g. X.1.Y
            if (!leaf && dot == std::string_view::npos)
                continue;
            const std::string_view digits = rest.substr(0, dot);
            unsigned index = 0;
            if (digits.starts_with('0') || !parse_integer(digits, index) || index == 0) {
                fail(invalid_parameter_error(it->first, "expected a list index from 1"));
                continue;
            }
            found.push_back(index);
        }
        std::sort(found.begin(), found.end());
        found.erase(std::unique(found.begin(), found.end()), found.end());
        return found;
    }

    // The `<prefix>.N` values in index order.
    void string_list(const std::string& prefix, std::vector<std::string>& out) {
        for (unsigned index : indices(prefix, true))
            out.push_back(*find(fmt::format("{}.{}", prefix, index)));
    }

    void tags(std::vector<Tag>& out) {
        for (unsigned index : indices("Tag", false)) {
            Tag& tag = out.emplace_back();
            required_text(fmt::format("Tag.{}.Key", index), tag.key);
            text(fmt::format("Tag.{}.Value", index), tag.value);
        }
    }

  private:
    static bool equals_ignoring_case(std::string_view a, std::string_view b) {
        return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
            auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; };
            return lower(x) == lower(y);
        });
    }
    template <class Int>
    static bool parse_integer(std::string_view text, Int& out) {
        const char* end = text.data() + text.size();
        const auto [ptr, ec] = std::from_chars(text.data(), end, out);
        return !text.empty() && ec == std::errc() && ptr == end;
    }

    std::map<std::string, std::string, std::less<>> values_;
    std::optional<Error> error_;
};

ContainerSpec read_container(ParamReader& reader, unsigned index) {
    ContainerSpec c;
    const std::string p = fmt::format("Container.{}.", index);
    reader.required_text(p + "Name", c.name);
    reader.required_text(p + "Image", c.image);
    reader.number(p + "Cpu", c.cpu);
    reader.number(p + "Memory", c.memory);
    reader.string_list(p + "Command", c.commands);
    reader.string_list(p + "Arg", c.args);
    for (unsigned j : reader.indices(p + "EnvironmentVar", false)) {
        const std::string e = fmt::format("{}EnvironmentVar.{}.", p, j);
        EnvironmentVar& variable = c.environment_vars.emplace_back();
        reader.required_text(e + "Key", variable.key);
        reader.text(e + "Value", variable.value);
    }
    for (unsigned j : reader.indices(p + "Port", false)) {
        const std::string e = fmt::format("{}Port.{}.", p, j);
        ContainerPort& port = c.ports.emplace_back();
        reader.required_integer(e + "Port", port.port);
        reader.text(e + "Protocol", port.protocol);
    }
    reader.text(p + "WorkingDir", c.working_dir);
    reader.flag(p + "Stdin", c.stdin);
    reader.flag(p + "Tty", c.tty);
    reader.text(p + "ImagePullPolicy", c.image_pull_policy);
    return c;
}

template <class T>
Result<T> finish(ParamReader& reader, T&& request) {
    if (reader.failed())
        return reader.take_error();
    return std::forward<T>(request);
}

}  // namespace

template <>
Result<CreateContainerGroupRequest> from_params<CreateContainerGroupRequest>(const Params& params) {
    ParamReader reader(params);
    CreateContainerGroupRequest r;
    reader.required_text("ContainerGroupName", r.container_group_name);
    const std::vector<unsigned> containers = reader.indices("Container", false);
    if (containers.empty())
        reader.fail(missing_parameter_error("Container.1.Name"));
    for (unsigned index : containers)
        r.containers.push_back(read_container(reader, index));
    reader.number("Cpu", r.cpu);
    reader.number("Memory", r.memory);
    reader.text("RestartPolicy", r.restart_policy);
    reader.tags(r.tags);
    reader.text("VSwitchId", r.v_switch_id);
    reader.text("SecurityGroupId", r.security_group_id);
    reader.text("ZoneId", r.zone_id);
    reader.text("InstanceType", r.instance_type);
    reader.text("ClientToken", r.client_token);
    reader.integer("ActiveDeadlineSeconds", r.active_deadline_seconds);
    reader.integer("TerminationGracePeriodSeconds", r.termination_grace_period_seconds);
    reader.flag("AutoCreateEip", r.auto_create_eip);
    reader.integer("EipBandwidth", r.eip_bandwidth);
    reader.text("EipInstanceId", r.eip_instance_id);
    reader.flag("DryRun", r.dry_run);
    return finish(reader, std::move(r));
}

template <>
Result<DescribeContainerGroupsRequest> from_params<DescribeContainerGroupsRequest>(
    const Params& params) {
    ParamReader reader(params);
    DescribeContainerGroupsRequest r;
    reader.string_array("ContainerGroupIds", r.container_group_ids);
    reader.text("ContainerGroupName", r.container_group_name);
    reader.text("Status", r.status);
    reader.tags(r.tags);
    reader.text("VSwitchId", r.v_switch_id);
    reader.text("SecurityGroupId", r.security_group_id);
    reader.text("ZoneId", r.zone_id);
    reader.integer("Limit", r.limit);
    reader.text("NextToken", r.next_token);
    reader.flag("WithEvent", r.with_event);
    return finish(reader, std::move(r));
}

template <>
Result<DeleteContainerGroupRequest> from_params<DeleteContainerGroupRequest>(const Params& params) {
    ParamReader reader(params);
    DeleteContainerGroupRequest r;
    reader.required_text("ContainerGroupId", r.container_group_id);
    reader.flag("Force", r.force);
    reader.text("ClientToken", r.client_token);
    return finish(reader, std::move(r));
}

template <>
Result<RestartContainerGroupRequest> from_params<RestartContainerGroupRequest>(
    const Params& params) {
    ParamReader reader(params);
    RestartContainerGroupRequest r;
    reader.required_text("ContainerGroupId", r.container_group_id);
    reader.text("ClientToken", r.client_token);
    return finish(reader, std::move(r));
}

template <>
Result<ExecContainerCommandRequest> from_params<ExecContainerCommandRequest>(const Params& params) {
    ParamReader reader(params);
    ExecContainerCommandRequest r;
    reader.required_text("ContainerGroupId", r.container_group_id);
    reader.required_text("ContainerName", r.container_name);
    if (!reader.find("Command")) {
        reader.fail(missing_parameter_error("Command"));
    } else {
        reader.string_array("Command", r.command);
        if (r.command.empty() && !reader.failed())
            reader.fail(invalid_parameter_error("Command", "the command is empty"));
    }
    reader.flag("TTY", r.tty);
    reader.flag("Stdin", r.stdin);
    reader.flag("Sync", r.sync);
    return finish(reader, std::move(r));
}

template <>
Result<DescribeContainerLogRequest> from_params<DescribeContainerLogRequest>(const Params& params) {
    ParamReader reader(params);
    DescribeContainerLogRequest r;
    reader.required_text("ContainerGroupId", r.container_group_id);
    reader.required_text("ContainerName", r.container_name);
    reader.integer("Tail", r.tail);
    reader.integer("SinceSeconds", r.since_seconds);
    reader.text("StartTime", r.start_time);
    reader.integer("LimitBytes", r.limit_bytes);
    reader.flag("LastTime", r.last_time);
    reader.flag("Timestamps", r.timestamps);
    return finish(reader, std::move(r));
}

Result<std::string> region_id_from_params(const Params& params) {
    ParamReader reader(params);
    std::string region_id;
    reader.required_text("RegionId", region_id);
    return finish(reader, std::move(region_id));
}

}  // namespace eci::detail
