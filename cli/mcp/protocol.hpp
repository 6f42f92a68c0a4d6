// SPDX-License-Identifier: Apache-2.0
// The MCP server's protocol state machine, sans-io: a line in, an action out (a reply to
// write, a tool call to start, a call to cancel, or nothing). It negotiates the protocol
// version, answers initialize, ping and tools/list itself, checks tools/call arguments
// against each tool's input schema, and builds tools/call results. The server
// (mcp/server.cpp) carries out the actions; the tools (mcp/tools.cpp) do the work.
#pragma once

#include "cli/mcp/jsonrpc.hpp"

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <array>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace eci::cli::mcp {

/// The protocol versions served, newest first. `initialize` answers with the client's
/// version when it is one of these, else with the newest.
inline constexpr std::array<std::string_view, 3> supported_versions = {"2025-06-18", "2025-03-26",
                                                                       "2024-11-05"};

/// The version to answer an initialize that asked for `requested`.
std::string_view negotiate_version(std::string_view requested) noexcept;

/// What tools/list shows of a tool. The schemas are JSON text (parsed once by Protocol).
struct ToolInfo {
    std::string_view name;
    std::string_view title;
    std::string_view description;
    std::string_view input_schema;
    std::string_view output_schema;
};

/// Checks `value` against the subset of JSON Schema the tools' input schemas use: `type`
/// (object, string, integer, number, boolean), `properties`, `required`,
/// `additionalProperties` (false or a schema), `minLength`, `minimum`, `maximum`,
/// `exclusiveMinimum`, `enum` of strings. Returns the first violation, naming its path
/// (`arguments.env.HOME: expected a string`), or nullopt.
std::optional<std::string> check_schema(const boost::json::object& schema,
                                        const boost::json::value& value, const std::string& path);

/// Reply with this line.
struct Reply {
    std::string line;
};
/// Start tool `tool` (an index into the table) for request `id`; reply when it ends.
struct CallTool {
    boost::json::value id;
    std::size_t tool = 0;
    boost::json::object arguments;
};
/// Cancel the call of request `request_id` (notifications/cancelled); send it no reply.
struct CancelCall {
    boost::json::value request_id;
};
/// Nothing to do (a notification, a client's response, a blank line).
struct NoAction {};

using Action = std::variant<NoAction, Reply, CallTool, CancelCall>;

/// How a tool call ended: its structured result, or a tool error (`is_error`), whose object
/// says what failed ({"error": {"kind", "code", "message", ...}}).
struct ToolOutcome {
    bool is_error = false;
    boost::json::object value;
};

class Protocol {
  public:
    /// Server name and version go to initialize's serverInfo. `tools` must outlive this.
    Protocol(std::span<const ToolInfo> tools, std::string server_version);

    /// The action for one line from the client.
    Action handle_line(std::string_view line);
    /// The reply to a line longer than max_line_bytes (dropped unread).
    Reply handle_overlong() const;

    /// The tools/call result line for request `id`: `content` holds the JSON text of the
    /// outcome; `structuredContent` holds the object itself when the negotiated version has
    /// structured results (2025-06-18) and the call succeeded; `isError` marks a tool error.
    std::string tool_result_line(const boost::json::value& id, const ToolOutcome& outcome) const;

    /// The version agreed by initialize (the newest before one happened).
    std::string_view version() const noexcept { return version_; }
    bool initialized() const noexcept { return initialized_; }

  private:
    Action handle_request(Request request);
    boost::json::value tools_list() const;
    bool structured_results() const noexcept;

    struct ParsedTool {
        boost::json::object input_schema;
        boost::json::object output_schema;
    };
    std::span<const ToolInfo> tools_;
    std::vector<ParsedTool> parsed_;
    std::string server_version_;
    std::string version_;
    bool initialized_ = false;
};

}  // namespace eci::cli::mcp
