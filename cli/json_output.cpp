// SPDX-License-Identifier: Apache-2.0
#include "cli/json_output.hpp"

#include "cli/app.hpp"
#include "cli/terminal_text.hpp"
#include "core/models_json.hpp"

#include <boost/json/serialize.hpp>

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
        {"request_id", info.request_id},   {"group", detail::to_json(info.group)},
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

std::string json_text(const json::value& value) {
    return terminal_safe_json(json::serialize(value));
}

void print_json(const json::value& value) {
    write_fd(STDOUT_FILENO, json_text(value) + '\n');
}

}  // namespace eci::cli
