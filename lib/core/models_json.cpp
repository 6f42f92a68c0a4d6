// SPDX-License-Identifier: Apache-2.0
#include "core/models_json.hpp"

#include "core/js_number.hpp"
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

namespace eci {

std::string to_json_text(const ContainerGroup& group) {
    return boost::json::serialize(detail::to_json(group));
}

}  // namespace eci
