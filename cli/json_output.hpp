// SPDX-License-Identifier: Apache-2.0
// The `--json` forms of what the CLI prints: stable snake_case objects, one per line.
#pragma once

#include <eci/command.hpp>
#include <eci/error.hpp>
#include <eci/sandbox_types.hpp>

#include <boost/json/value.hpp>

#include <optional>
#include <string>
#include <vector>

namespace eci::cli {

/// {"sandbox_id","name","status","cpu","memory","region_id","zone_id","intranet_ip",
///  "internet_ip","creation_time","request_id","group":{the DescribeContainerGroups entry}}
boost::json::value sandbox_json(const SandboxInfo& info);

/// {"exit_code" (null when unknown),"signal","outcome","stdout","stderr","truncated",
///  "duration_ms","request_id"}
boost::json::value command_json(const CommandResult& result);

/// The number, or null.
boost::json::value optional_int(const std::optional<int>& value);

/// {"error":{"kind","code","message","service_message","request_id","http_status"
///  (null when there was no reply)[,"sandbox_id"]}[,"partial":command_json]}: how every
/// command reports a failure on stdout under --json (the one-line message still goes to
/// stderr). No field holds a secret (eci::Error never does).
boost::json::value error_json(const Error& error);

/// `value` serialised, its control characters escaped (terminal_safe_json). Numbers are
/// JSON numbers in their plain shortest form: 1, 0.5 (never 1E0).
std::string json_text(const boost::json::value& value);

/// Serialises `value` and prints it as one line on stdout.
void print_json(const boost::json::value& value);

}  // namespace eci::cli
