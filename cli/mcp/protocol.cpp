// SPDX-License-Identifier: Apache-2.0
#include "cli/mcp/protocol.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace eci::cli::mcp {

namespace json = boost::json;

std::string_view negotiate_version(std::string_view requested) noexcept {
    for (auto version : supported_versions) {
        if (version == requested)
            return version;
    }
    return supported_versions.front();
}

namespace {

std::optional<double> number_of(const json::value& value) {
    if (value.is_int64())
        return static_cast<double>(value.as_int64());
    if (value.is_uint64())
        return static_cast<double>(value.as_uint64());
    if (value.is_double())
        return value.as_double();
    return std::nullopt;
}

bool has_type(const json::value& value, std::string_view type) {
    if (type == "object")
        return value.is_object();
    if (type == "string")
        return value.is_string();
    if (type == "boolean")
        return value.is_bool();
    if (type == "number")
        return number_of(value).has_value();
    if (type == "integer") {
        if (value.is_int64() || value.is_uint64())
            return true;
        // 5.0 is an integer to JSON Schema (and JavaScript sends no other kind of number).
        // (No cast to an integer type: 1e300 would overflow it.)
        return value.is_double() && std::isfinite(value.as_double()) &&
               std::trunc(value.as_double()) == value.as_double();
    }
    if (type == "array")
        return value.is_array();
    if (type == "null")
        return value.is_null();
    return false;
}

std::string article(std::string_view type) {
    return fmt::format(
        "{} {}", (type == "object" || type == "integer" || type == "array") ? "an" : "a", type);
}

}  // namespace

std::optional<std::string> check_schema(const json::object& schema, const json::value& value,
                                        const std::string& path) {
    if (const auto* type = schema.if_contains("type"); type != nullptr && type->is_string()) {
        if (!has_type(value, type->as_string()))
            return fmt::format("{}: expected {}", path, article(type->as_string()));
    }
    if (const auto* choices = schema.if_contains("enum");
        choices != nullptr && choices->is_array()) {
        const auto& list = choices->as_array();
        if (std::find(list.begin(), list.end(), value) == list.end())
            return fmt::format("{}: expected one of {}", path, json::serialize(list));
    }
    if (value.is_string()) {
        if (const auto* min = schema.if_contains("minLength"); min != nullptr && min->is_int64()) {
            if (static_cast<std::int64_t>(value.as_string().size()) < min->as_int64())
                return fmt::format("{}: must not be empty", path);
        }
    }
    if (auto number = number_of(value)) {
        if (const auto* min = schema.if_contains("minimum")) {
            if (auto bound = number_of(*min); bound && *number < *bound)
                return fmt::format("{}: must be at least {}", path, *bound);
        }
        if (const auto* min = schema.if_contains("exclusiveMinimum")) {
            if (auto bound = number_of(*min); bound && *number <= *bound)
                return fmt::format("{}: must be greater than {}", path, *bound);
        }
        if (const auto* max = schema.if_contains("maximum")) {
            if (auto bound = number_of(*max); bound && *number > *bound)
                return fmt::format("{}: must be at most {}", path, *bound);
        }
    }
    if (!value.is_object())
        return std::nullopt;
    const auto& object = value.as_object();
    if (const auto* required = schema.if_contains("required"); required && required->is_array()) {
        for (const auto& name : required->as_array()) {
            if (name.is_string() && !object.contains(name.as_string()))
                return fmt::format("{}: missing required property '{}'", path,
                                   std::string_view(name.as_string()));
        }
    }
    const json::object* properties = nullptr;
    if (const auto* given = schema.if_contains("properties"); given && given->is_object())
        properties = &given->as_object();
    const json::value* additional = schema.if_contains("additionalProperties");
    for (const auto& [key, member] : object) {
        const std::string member_path = fmt::format("{}.{}", path, valid_utf8(key));
        const json::value* member_schema =
            properties != nullptr ? properties->if_contains(key) : nullptr;
        if (member_schema == nullptr) {
            if (additional != nullptr && additional->is_bool() && !additional->as_bool())
                return fmt::format("{}: unknown property", member_path);
            member_schema = additional;
        }
        if (member_schema != nullptr && member_schema->is_object()) {
            if (auto problem = check_schema(member_schema->as_object(), member, member_path))
                return problem;
        }
    }
    return std::nullopt;
}

Protocol::Protocol(std::span<const ToolInfo> tools, std::string server_version)
    : tools_(tools),
      server_version_(std::move(server_version)),
      version_(supported_versions.front()) {
    for (const auto& tool : tools_) {
        // The schemas are the program's own text: a typo is a bug, found by every test run.
        auto input = json::parse(tool.input_schema);
        auto output = json::parse(tool.output_schema);
        if (!input.is_object() || !output.is_object())
            throw std::logic_error(fmt::format("tool {}: a schema is not an object", tool.name));
        parsed_.push_back(ParsedTool{std::move(input.as_object()), std::move(output.as_object())});
    }
}

Action Protocol::handle_line(std::string_view line) {
    Message message = parse_message(line);
    if (auto* malformed = std::get_if<Malformed>(&message))
        return Reply{error_line(malformed->id, malformed->code, malformed->message)};
    if (auto* request = std::get_if<Request>(&message))
        return handle_request(std::move(*request));
    if (auto* notification = std::get_if<Notification>(&message)) {
        if (notification->method == "notifications/initialized") {
            initialized_ = true;
        } else if (notification->method == "notifications/cancelled") {
            const json::value* id = notification->params.if_contains("requestId");
            if (id != nullptr && (id->is_string() || id->is_int64() || id->is_uint64()))
                return CancelCall{*id};
        }
        return NoAction{};  // other notifications (progress, roots changed, ...) need nothing
    }
    return NoAction{};
}

Reply Protocol::handle_overlong() const {
    return Reply{error_line(nullptr, rpc_error::invalid_request,
                            fmt::format("invalid request: the line is longer than {} bytes "
                                        "and was discarded",
                                        max_line_bytes))};
}

Action Protocol::handle_request(Request request) {
    const auto& method = request.method;
    auto invalid_params = [&](std::string message) {
        return Reply{error_line(request.id, rpc_error::invalid_params,
                                fmt::format("invalid params: {}", message))};
    };
    if (method == "initialize") {
        const json::value* requested = request.params.if_contains("protocolVersion");
        if (requested == nullptr || !requested->is_string())
            return invalid_params("params.protocolVersion: expected a string");
        version_ = negotiate_version(requested->as_string());
        json::object result{
            {"protocolVersion", version_},
            {"capabilities", json::object{{"tools", json::object{{"listChanged", false}}}}},
            {"serverInfo", json::object{{"name", "eci-sandbox"}, {"version", server_version_}}},
            {"instructions",
             "Sandboxes are isolated Linux containers (Alibaba Cloud ECI). create_sandbox, then "
             "run_command / start_job / read_file / write_file with its sandbox_id. Sandboxes "
             "this server creates carry a lease and are deleted when it exits."},
        };
        return Reply{result_line(request.id, std::move(result))};
    }
    if (method == "ping")
        return Reply{result_line(request.id, json::object{})};
    if (method == "tools/list")
        return Reply{result_line(request.id, tools_list())};
    if (method == "tools/call") {
        const json::value* name = request.params.if_contains("name");
        if (name == nullptr || !name->is_string())
            return invalid_params("params.name: expected a string");
        auto found = std::find_if(tools_.begin(), tools_.end(), [&](const ToolInfo& tool) {
            return tool.name == std::string_view(name->as_string());
        });
        if (found == tools_.end())
            return invalid_params(
                fmt::format("unknown tool '{}'", valid_utf8(std::string_view(name->as_string()))));
        const auto index = static_cast<std::size_t>(found - tools_.begin());
        json::value arguments = json::object{};
        if (const json::value* given = request.params.if_contains("arguments");
            given != nullptr && !given->is_null())
            arguments = *given;
        if (!arguments.is_object())
            return invalid_params("params.arguments: expected an object");
        if (auto problem = check_schema(parsed_[index].input_schema, arguments, "arguments"))
            return invalid_params(*problem);
        return CallTool{std::move(request.id), index, std::move(arguments.as_object())};
    }
    return Reply{error_line(request.id, rpc_error::method_not_found,
                            fmt::format("method not found: {}", valid_utf8(method)))};
}

bool Protocol::structured_results() const noexcept {
    return version_ >= std::string_view("2025-06-18");  // ISO dates order as strings
}

json::value Protocol::tools_list() const {
    json::array list;
    for (std::size_t i = 0; i < tools_.size(); ++i) {
        json::object tool{{"name", tools_[i].name},
                          {"title", tools_[i].title},
                          {"description", tools_[i].description},
                          {"inputSchema", parsed_[i].input_schema}};
        if (structured_results())
            tool["outputSchema"] = parsed_[i].output_schema;
        list.push_back(std::move(tool));
    }
    return json::object{{"tools", std::move(list)}};
}

std::string Protocol::tool_result_line(const json::value& id, const ToolOutcome& outcome) const {
    json::object result{
        {"content",
         json::array{json::object{{"type", "text"}, {"text", json::serialize(outcome.value)}}}},
        {"isError", outcome.is_error},
    };
    // A tool error's object does not follow the tool's outputSchema, so it goes as text only
    // (a client validates structuredContent against the schema).
    if (structured_results() && !outcome.is_error)
        result["structuredContent"] = outcome.value;
    return result_line(id, std::move(result));
}

}  // namespace eci::cli::mcp
