// SPDX-License-Identifier: Apache-2.0
#include "cli/json_output.hpp"

#include "cli/app.hpp"
#include "cli/terminal_text.hpp"

#include <eci/models.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>

#include <fmt/format.h>

#include <cmath>

#include <unistd.h>

namespace eci::cli {

namespace json = boost::json;

json::value optional_int(const std::optional<int>& value) {
    return value ? json::value(*value) : json::value(nullptr);
}

json::value sandbox_json(const SandboxInfo& info) {
    return json::object{
        {"sandbox_id", info.sandbox_id},   {"name", info.name},
        {"status", info.status},           {"cpu", info.cpu},
        {"memory", info.memory},           {"region_id", info.region_id},
        {"zone_id", info.zone_id},         {"intranet_ip", info.intranet_ip},
        {"internet_ip", info.internet_ip}, {"creation_time", info.creation_time},
        {"request_id", info.request_id},   {"group", json::parse(to_json_text(info.group))},
    };
}

json::value command_json(const CommandResult& result) {
    return json::object{
        {"exit_code", optional_int(result.exit_code)},
        {"signal", optional_int(result.signal)},
        {"outcome", to_string(result.outcome)},
        {"stdout", result.stdout_text},
        {"stderr", result.stderr_text},
        {"truncated", result.truncated},
        {"duration_ms", result.duration.count()},
        {"request_id", result.request_id},
    };
}

namespace {

// Boost.JSON writes every double in exponent form ("cpu":1E0); people and tools expect the
// shortest plain form (1, 0.5), which fmt gives. Everything else is serialised as usual.
void write_value(std::string& out, const json::value& value) {
    switch (value.kind()) {
        case json::kind::object: {
            out += '{';
            bool first = true;
            for (const auto& [key, member] : value.get_object()) {
                if (!first)
                    out += ',';
                first = false;
                out += json::serialize(json::string(key));
                out += ':';
                write_value(out, member);
            }
            out += '}';
            return;
        }
        case json::kind::array: {
            out += '[';
            bool first = true;
            for (const auto& element : value.get_array()) {
                if (!first)
                    out += ',';
                first = false;
                write_value(out, element);
            }
            out += ']';
            return;
        }
        case json::kind::double_: {
            const double number = value.get_double();
            // JSON has no NaN or infinity.
            out += std::isfinite(number) ? fmt::format("{}", number) : std::string("null");
            return;
        }
        default:
            out += json::serialize(value);
            return;
    }
}

}  // namespace

std::string json_text(const json::value& value) {
    std::string out;
    write_value(out, value);
    return terminal_safe_json(out);
}

json::value error_json(const Error& error) {
    json::object detail{
        {"kind", to_string(error.kind)},
        {"code", error.code},
        {"message", error.message},
        {"service_message", error.service_message},
        {"request_id", error.request_id},
        {"http_status",
         error.http_status != 0 ? json::value(error.http_status) : json::value(nullptr)},
    };
    if (!error.sandbox_id.empty())
        detail["sandbox_id"] = error.sandbox_id;
    json::object object{{"error", std::move(detail)}};
    // What a command printed before it failed (timed out, lost its connection).
    if (error.partial)
        object["partial"] = command_json(*error.partial);
    return object;
}

void print_json(const json::value& value) {
    write_fd(STDOUT_FILENO, json_text(value) + '\n');
}

}  // namespace eci::cli
