// SPDX-License-Identifier: Apache-2.0
// The MCP tools of `eci-sandbox mcp`: each tool's name, description, input and output JSON
// Schemas and handler, in one table. Handlers run on the server's io_context, concurrently;
// each awaits one library operation (or two), so a cancellation of the call's coroutine
// cancels that operation. Names of tools, arguments and result fields are a contract
// (issue 17; docs/agents.md).
#pragma once

#include "cli/mcp/protocol.hpp"

#include <eci/async_sandbox.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>

#include <chrono>
#include <set>
#include <span>
#include <string>
#include <vector>

namespace eci::cli::mcp {

/// What the tools share: the client, the lease given to new sandboxes, and the sandboxes
/// this server created and has not deleted (deleted at shutdown unless kept).
struct ToolContext {
    AsyncEciSandbox client;
    std::chrono::seconds lease{1800};
    std::set<std::string> managed;
};

using ToolHandler = boost::asio::awaitable<ToolOutcome> (*)(ToolContext&, boost::json::object);

struct Tool {
    ToolInfo info;
    ToolHandler handler;
};

/// The tool table, in tools/list order.
std::span<const Tool> tools();

/// The ToolInfo part of tools(), for Protocol.
std::vector<ToolInfo> tool_infos();

/// The tool error for a library error: {"error": {"kind", "code", "message",
/// "service_message", "request_id", "http_status"}} plus, for a command that started, the
/// output it produced until then ("stdout", "stderr", "exit_code").
ToolOutcome error_outcome(const Error& error);

/// Limits of what a tool returns (a reply is one line; an agent wants no megabytes).
inline constexpr std::size_t max_command_output_bytes = 1024u * 1024u;  ///< per stream, last kept
inline constexpr std::size_t max_read_file_bytes = 8u * 1024u * 1024u;

}  // namespace eci::cli::mcp
