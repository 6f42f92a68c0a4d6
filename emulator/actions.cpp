// SPDX-License-Identifier: Apache-2.0
#include "emulator/actions.hpp"

#include "core/actions.hpp"
#include "core/encoding.hpp"
#include "core/models_json.hpp"
#include "core/time_format.hpp"

#include <boost/json/object.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <set>

namespace eci::emulator {

namespace asio = boost::asio;

namespace {

ApiError to_api_error(const Error& error) {
    return ApiError{error.http_status == 0 ? 400 : error.http_status,
                    error.code.empty() ? std::string("InvalidParameter") : error.code,
                    error.message};
}

// ExecContainerCommand.Command's per-element rules in the API reference (enforced only with
// --strict-command-limits).
constexpr std::size_t max_command_elements = 20;
constexpr std::size_t max_command_element_chars = 256;

// Characters, as the reference counts them: UTF-8 lead bytes (the request was checked to be
// valid UTF-8 when it was decoded).
std::size_t utf8_length(std::string_view text) {
    return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char c) {
        return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
    }));
}

bool is_lower_alnum(char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/// `^[a-z0-9]([a-z0-9-]*[a-z0-9])$` with a length range.
bool is_dns_label(std::string_view name, std::size_t min, std::size_t max) {
    if (name.size() < min || name.size() > max)
        return false;
    if (!is_lower_alnum(name.front()) || !is_lower_alnum(name.back()))
        return false;
    return std::all_of(name.begin(), name.end(),
                       [](char c) { return is_lower_alnum(c) || c == '-'; });
}

/// Parameters that say how a request was sent or signed rather than what it asks for: they
/// differ between two sends of the same create and are left out of the ClientToken check.
bool is_transport_param(std::string_view name) {
    static const std::set<std::string_view> names{
        "Signature", "SignatureNonce", "SignatureMethod", "SignatureVersion",
        "Timestamp", "AccessKeyId",    "SecurityToken",   "Format",
        "Action",    "Version",        "ClientToken"};
    return names.contains(name);
}

std::string fingerprint(const eci::detail::Params& params) {
    eci::detail::Params business;
    for (const auto& param : params) {
        if (!is_transport_param(param.first))
            business.push_back(param);
    }
    return eci::detail::canonical_query(business);
}

bool tags_match(const std::vector<Tag>& have, const std::vector<Tag>& want) {
    return std::all_of(want.begin(), want.end(), [&](const Tag& w) {
        return std::any_of(have.begin(), have.end(), [&](const Tag& h) {
            return h.key == w.key && (w.value.empty() || h.value == w.value);
        });
    });
}

std::string zone_for(std::string_view region) {
    // A zone that exists in the region, so clients that show it look plausible.
    if (region == "cn-hangzhou")
        return "cn-hangzhou-h";
    if (region == "cn-shanghai")
        return "cn-shanghai-l";
    if (region == "cn-beijing")
        return "cn-beijing-k";
    return fmt::format("{}-a", region);
}

/// The last `n` lines of `text` (a trailing newline does not start another line).
std::string_view last_lines(std::string_view text, std::size_t n) {
    std::size_t pos = text.size();
    if (pos > 0 && text[pos - 1] == '\n')
        --pos;
    std::size_t count = 0;
    while (pos > 0) {
        std::size_t newline = text.rfind('\n', pos - 1);
        if (newline == std::string_view::npos)
            return text;
        if (++count == n)
            return text.substr(newline + 1);
        pos = newline;
    }
    return text;
}

}  // namespace

ActionHandlers::ActionHandlers(const EmulatorOptions& options, const ReadyInfo& ready,
                               SandboxStore& store, IdSource& ids, Lifecycle& lifecycle,
                               ExecGateway& exec)
    : options_(options),
      ready_(ready),
      store_(store),
      ids_(ids),
      lifecycle_(lifecycle),
      exec_(exec) {}

void ActionHandlers::choose_network_defaults() {
    default_v_switch_id_ = "vsw-" + ids_.alnum(24);
    default_security_group_id_ = "sg-" + ids_.alnum(20);
    default_vpc_id_ = "vpc-" + ids_.alnum(24);
}

void ActionHandlers::add_routes(Router& router) {
    auto route = [&](std::string action, AsyncHandler handler) {
        router.add(std::move(action),
                   [this, handler](IncomingRequest request, std::string request_id) {
                       return (this->*handler)(std::move(request), std::move(request_id));
                   });
    };
    auto route_sync = [&](std::string action, SyncHandler handler) {
        router.add(std::move(action),
                   [this, handler](IncomingRequest request, std::string request_id) {
                       return run_sync(this, handler, std::move(request), std::move(request_id));
                   });
    };
    // The names come from the one action table the client sends them by (core/actions.hpp).
    route_sync(std::string(eci::detail::create_container_group.name),
               &ActionHandlers::create_container_group);
    route_sync(std::string(eci::detail::describe_container_groups.name),
               &ActionHandlers::describe_container_groups);
    route(std::string(eci::detail::delete_container_group.name),
          &ActionHandlers::delete_container_group);
    route_sync(std::string(eci::detail::restart_container_group.name),
               &ActionHandlers::restart_container_group);
    route(std::string(eci::detail::exec_container_command.name),
          &ActionHandlers::exec_container_command);
    route_sync(std::string(eci::detail::describe_container_log.name),
               &ActionHandlers::describe_container_log);
}

ActionHandlers::Awaitable ActionHandlers::run_sync(ActionHandlers* self, SyncHandler handler,
                                                   IncomingRequest request,
                                                   std::string request_id) {
    co_return (self->*handler)(request, request_id);
}

std::string ActionHandlers::new_container_group_id() {
    for (;;) {
        std::string id = "eci-" + ids_.alnum(20);
        if (!store_.find(id))
            return id;
    }
}

std::optional<ApiError> ActionHandlers::check_region(const eci::detail::Params& params,
                                                     bool required) const {
    auto region = eci::detail::find_param(params, "RegionId");
    if (!region || region->empty()) {
        if (required)
            return errors::missing_parameter("RegionId");
        return std::nullopt;
    }
    if (*region != options_.region_id)
        return errors::invalid_region(*region);
    return std::nullopt;
}

// ------------------------------------------------------------------------------------------

ActionOutcome ActionHandlers::create_container_group(const IncomingRequest& request,
                                                     const std::string& request_id) {
    if (auto e = check_region(request.params, true))
        return *e;
    auto parsed = eci::detail::from_params<CreateContainerGroupRequest>(request.params);
    if (!parsed)
        return to_api_error(parsed.error());
    CreateContainerGroupRequest& req = *parsed;

    if (!is_dns_label(req.container_group_name, 2, 128)) {
        return errors::invalid_parameter("ContainerGroupName");
    }
    if (req.containers.size() > 20)
        return errors::value_exceeded("Container", 20);
    std::set<std::string> container_names;
    for (std::size_t i = 0; i < req.containers.size(); ++i) {
        const ContainerSpec& spec = req.containers[i];
        std::string prefix = fmt::format("Container.{}.", i + 1);
        if (!is_dns_label(spec.name, 1, 63) &&
            !(spec.name.size() == 1 && is_lower_alnum(spec.name[0]))) {
            return errors::invalid_parameter(prefix + "Name");
        }
        if (!container_names.insert(spec.name).second) {
            return errors::invalid_parameter_message(
                fmt::format("The specified parameter \"{}Name\" is not valid (duplicate name "
                            "\"{}\").",
                            prefix, spec.name));
        }
        if (spec.cpu && *spec.cpu < 0)
            return errors::invalid_parameter(prefix + "Cpu");
        if (spec.memory && *spec.memory < 0)
            return errors::invalid_parameter(prefix + "Memory");
    }
    if (req.cpu && *req.cpu < 0)
        return errors::invalid_parameter("Cpu");
    if (req.memory && *req.memory < 0)
        return errors::invalid_parameter("Memory");
    if (req.tags.size() > 20)
        return errors::value_exceeded("Tag", 20);
    if (!req.restart_policy.empty() && req.restart_policy != "Always" &&
        req.restart_policy != "Never" && req.restart_policy != "OnFailure") {
        return errors::invalid_parameter("RestartPolicy");
    }
    if (req.client_token.size() > 64 ||
        !std::all_of(req.client_token.begin(), req.client_token.end(),
                     [](char c) { return c > 0x20 && c < 0x7f; })) {
        return errors::invalid_parameter("ClientToken");
    }
    if (req.active_deadline_seconds && *req.active_deadline_seconds <= 0) {
        return errors::invalid_parameter("ActiveDeadlineSeconds");
    }
    if (req.dry_run.value_or(false)) {
        return ApiError{400, "DryRunOperation",
                        "Request validation has been passed with DryRun flag set."};
    }

    std::string request_fingerprint;
    if (!req.client_token.empty()) {
        request_fingerprint = fingerprint(request.params);
        if (const auto* seen = store_.find_token(req.client_token)) {
            if (seen->fingerprint != request_fingerprint)
                return errors::idempotent_mismatch();
            return eci::detail::to_json(
                CreateContainerGroupResponse{request_id, seen->container_group_id});
        }
    }

    ContainerGroup group;
    group.container_group_id = new_container_group_id();
    group.container_group_name = req.container_group_name;
    group.region_id = options_.region_id;
    group.zone_id = req.zone_id.empty() ? zone_for(options_.region_id) : req.zone_id;
    group.status = std::string(status::pending);
    double container_cpu = 0;
    double container_memory = 0;
    for (const auto& spec : req.containers) {
        container_cpu += spec.cpu.value_or(0);
        container_memory += spec.memory.value_or(0);
    }
    group.cpu = req.cpu.value_or(container_cpu > 0 ? container_cpu : 2.0);
    group.memory = req.memory.value_or(container_memory > 0 ? container_memory : 4.0);
    group.instance_type = req.instance_type;
    group.v_switch_id = req.v_switch_id.empty() ? default_v_switch_id_ : req.v_switch_id;
    group.security_group_id =
        req.security_group_id.empty() ? default_security_group_id_ : req.security_group_id;
    group.vpc_id = default_vpc_id_;
    group.eni_instance_id = "eni-" + group.container_group_id.substr(4);
    std::uint32_t ip_index = next_ip_index_++;
    group.intranet_ip = fmt::format("172.16.{}.{}", (ip_index / 250) % 256, ip_index % 250 + 2);
    group.restart_policy = req.restart_policy.empty() ? "Always" : req.restart_policy;
    group.creation_time = eci::detail::format_utc_timestamp(std::chrono::system_clock::now());
    group.tags = req.tags;
    if (!lifecycle_.over_cpu_stock(group.cpu)) {
        group.events.push_back(Event{1, "Normal", group.container_group_name, "Scheduled",
                                     fmt::format("Successfully assigned {} to {}",
                                                 group.container_group_name, group.zone_id),
                                     group.creation_time, group.creation_time});
    }
    for (const auto& spec : req.containers) {
        Container c;
        c.name = spec.name;
        c.image = spec.image;
        c.cpu = spec.cpu.value_or(0);
        c.memory = spec.memory.value_or(0);
        c.commands = spec.commands;
        c.args = spec.args;
        c.environment_vars = spec.environment_vars;
        c.ports = spec.ports;
        c.working_dir = spec.working_dir;
        c.image_pull_policy =
            spec.image_pull_policy.empty() ? "IfNotPresent" : spec.image_pull_policy;
        c.stdin = spec.stdin.value_or(false);
        c.tty = spec.tty.value_or(false);
        c.current_state.state = std::string(container_state::waiting);
        c.current_state.reason = "ContainerCreating";
        group.containers.push_back(std::move(c));
    }
    auto entry = store_.add(std::move(group));
    entry->active_deadline_seconds = req.active_deadline_seconds.value_or(0);
    if (!req.client_token.empty()) {
        store_.remember_token(req.client_token,
                              {std::move(request_fingerprint), entry->group.container_group_id});
    }
    lifecycle_.launch(entry);
    return eci::detail::to_json(
        CreateContainerGroupResponse{request_id, entry->group.container_group_id});
}

// ------------------------------------------------------------------------------------------

ActionOutcome ActionHandlers::describe_container_groups(const IncomingRequest& request,
                                                        const std::string& request_id) {
    if (auto e = check_region(request.params, true))
        return *e;
    auto parsed = eci::detail::from_params<DescribeContainerGroupsRequest>(request.params);
    if (!parsed)
        return to_api_error(parsed.error());
    const DescribeContainerGroupsRequest& req = *parsed;
    if (req.container_group_ids.size() > 20)
        return errors::value_exceeded("ContainerGroupIds", 20);
    int limit = req.limit.value_or(20);
    if (limit < 1 || limit > 20)
        return errors::invalid_parameter("Limit");
    std::uint64_t start_sequence = 0;
    if (!req.next_token.empty()) {
        // NextToken is opaque to clients; here it is "<sequence>" of the first entry to show.
        const std::string& t = req.next_token;
        auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), start_sequence);
        if (ec != std::errc{} || end != t.data() + t.size()) {
            return errors::invalid_parameter("NextToken");
        }
    }
    bool with_event = req.with_event.value_or(true);

    // By id (the common poll), look the ids up instead of scanning and sorting every sandbox:
    // with 1000 sandboxes the scan more than doubled the cost of a one-id describe.
    std::vector<std::shared_ptr<SandboxEntry>> candidates;
    if (req.container_group_ids.empty()) {
        candidates = store_.all();
    } else {
        for (const auto& id : req.container_group_ids) {
            auto entry = store_.find(id);
            if (entry && std::find(candidates.begin(), candidates.end(), entry) == candidates.end())
                candidates.push_back(std::move(entry));
        }
        std::sort(candidates.begin(), candidates.end(),
                  [](const auto& a, const auto& b) { return a->sequence < b->sequence; });
    }
    std::vector<std::shared_ptr<SandboxEntry>> matches;
    for (const auto& entry : candidates) {
        const ContainerGroup& g = entry->group;
        if (!req.container_group_name.empty() &&
            g.container_group_name != req.container_group_name) {
            continue;
        }
        if (!req.status.empty() && g.status != req.status)
            continue;
        if (!req.v_switch_id.empty() && g.v_switch_id != req.v_switch_id)
            continue;
        if (!req.security_group_id.empty() && g.security_group_id != req.security_group_id)
            continue;
        if (!req.zone_id.empty() && g.zone_id != req.zone_id)
            continue;
        if (!tags_match(g.tags, req.tags))
            continue;
        matches.push_back(entry);
    }
    DescribeContainerGroupsResponse response;
    response.request_id = request_id;
    response.total_count = static_cast<int>(matches.size());
    for (const auto& entry : matches) {
        if (entry->sequence < start_sequence)
            continue;
        if (response.container_groups.size() == static_cast<std::size_t>(limit)) {
            response.next_token = std::to_string(entry->sequence);
            break;
        }
        ContainerGroup shown = entry->group;
        if (!with_event)
            shown.events.clear();
        response.container_groups.push_back(std::move(shown));
    }
    return eci::detail::to_json(response);
}

// ------------------------------------------------------------------------------------------

asio::awaitable<ActionOutcome> ActionHandlers::delete_container_group(IncomingRequest request,
                                                                      std::string request_id) {
    if (auto e = check_region(request.params, true))
        co_return *e;
    auto parsed = eci::detail::from_params<DeleteContainerGroupRequest>(request.params);
    if (!parsed)
        co_return to_api_error(parsed.error());
    auto entry = store_.find(parsed->container_group_id);
    if (!entry)
        co_return errors::container_group_not_found();
    // The reply comes once no process of the sandbox is left.
    co_await lifecycle_.remove(entry);
    co_return eci::detail::to_json(DeleteContainerGroupResponse{request_id});
}

ActionOutcome ActionHandlers::restart_container_group(const IncomingRequest& request,
                                                      const std::string& request_id) {
    if (auto e = check_region(request.params, true))
        return *e;
    auto parsed = eci::detail::from_params<RestartContainerGroupRequest>(request.params);
    if (!parsed)
        return to_api_error(parsed.error());
    auto entry = store_.find(parsed->container_group_id);
    if (!entry)
        return errors::container_group_not_found();
    const std::string& s = entry->group.status;
    if (s != status::pending && s != status::running)
        return errors::incorrect_status(s);
    lifecycle_.restart(entry);
    return eci::detail::to_json(RestartContainerGroupResponse{request_id});
}

// ------------------------------------------------------------------------------------------

asio::awaitable<ActionOutcome> ActionHandlers::exec_container_command(IncomingRequest request,
                                                                      std::string request_id) {
    if (auto e = check_region(request.params, true))
        co_return *e;
    if (auto raw = eci::detail::find_param(request.params, "Command");
        raw && raw->size() > options_.exec_command_limit) {
        co_return errors::value_exceeded("Command", options_.exec_command_limit);
    }
    auto parsed = eci::detail::from_params<ExecContainerCommandRequest>(request.params);
    if (!parsed)
        co_return to_api_error(parsed.error());
    ExecContainerCommandRequest req = std::move(*parsed);
    // The API reference's per-element rules, which the service does not apply to the official
    // Python package's long elements: opt-in (docs/emulator.md, "Fidelity").
    if (options_.strict_command_limits) {
        if (req.command.size() > max_command_elements)
            co_return errors::value_exceeded("Command", max_command_elements);
        for (const auto& arg : req.command) {
            if (utf8_length(arg) > max_command_element_chars)
                co_return errors::value_exceeded("Command", max_command_element_chars);
        }
    }
    auto entry = store_.find(req.container_group_id);
    if (!entry)
        co_return errors::container_group_not_found();
    auto container = std::find_if(entry->group.containers.begin(), entry->group.containers.end(),
                                  [&](const Container& c) { return c.name == req.container_name; });
    if (container == entry->group.containers.end()) {
        co_return errors::container_not_found(req.container_name);
    }
    if (entry->group.status != status::running) {
        co_return errors::incorrect_status(entry->group.status);
    }

    ExecContainerCommandResponse response;
    response.request_id = request_id;
    if (req.sync.value_or(false)) {
        if (req.tty.value_or(false))
            co_return errors::invalid_parameter("TTY");
        auto output = co_await lifecycle_.run_sync_exec(entry, req.container_name, req.command);
        if (auto* error = std::get_if<ApiError>(&output))
            co_return *error;
        response.sync_response = std::get<std::string>(std::move(output));
        co_return eci::detail::to_json(response);
    }

    // The lazy runtime starts the sandbox now, so it is usually up when the WebSocket comes.
    lifecycle_.prestart(entry);
    auto token = exec_.grant(ExecTicket{req.container_group_id,
                                        req.container_name,
                                        std::move(req.command),
                                        req.stdin.value_or(true),
                                        req.tty.value_or(false),
                                        {}});
    if (!token)
        co_return errors::internal_error();
    bool tls = options_.tls != TlsMode::off;
    response.web_socket_uri =
        fmt::format("{}://{}/exec/?s={}", tls ? "wss" : "ws", ready_.endpoint, *token);
    response.http_url =
        fmt::format("{}://{}/terminal?param={}", tls ? "https" : "http", ready_.endpoint, *token);
    co_return eci::detail::to_json(response);
}

// ------------------------------------------------------------------------------------------

ActionOutcome ActionHandlers::describe_container_log(const IncomingRequest& request,
                                                     const std::string& request_id) {
    if (auto e = check_region(request.params, false))
        return *e;
    auto parsed = eci::detail::from_params<DescribeContainerLogRequest>(request.params);
    if (!parsed)
        return to_api_error(parsed.error());
    const DescribeContainerLogRequest& req = *parsed;
    int tail = req.tail.value_or(500);
    if (tail < 1 || tail > 2000)
        return errors::invalid_parameter("Tail");
    int limit_bytes = req.limit_bytes.value_or(1024 * 1024);
    if (limit_bytes < 1 || limit_bytes > 1024 * 1024)
        return errors::invalid_parameter("LimitBytes");
    auto entry = store_.find(req.container_group_id);
    if (!entry)
        return errors::container_group_not_found();
    auto container = std::find_if(entry->group.containers.begin(), entry->group.containers.end(),
                                  [&](const Container& c) { return c.name == req.container_name; });
    if (container == entry->group.containers.end()) {
        return errors::container_not_found(req.container_name);
    }
    std::string log = lifecycle_.container_log(*entry, req.container_name);
    // Keep the last `tail` lines, then the last `limit_bytes` bytes.
    std::string content(last_lines(log, static_cast<std::size_t>(tail)));
    if (content.size() > static_cast<std::size_t>(limit_bytes)) {
        content = content.substr(content.size() - static_cast<std::size_t>(limit_bytes));
    }
    return eci::detail::to_json(
        DescribeContainerLogResponse{request_id, req.container_name, content});
}

}  // namespace eci::emulator
