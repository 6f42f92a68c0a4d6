// SPDX-License-Identifier: Apache-2.0
// The MCP server's framing and dispatch, without a process or a socket: hostile lines,
// version negotiation, argument checking against the tools' own schemas, and the shape of
// tool results (cli/mcp/jsonrpc, cli/mcp/protocol, cli/mcp/tools).
#include "cli/mcp/jsonrpc.hpp"
#include "cli/mcp/protocol.hpp"
#include "cli/mcp/tools.hpp"

#include <eci/version.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <catch2/catch.hpp>

#include <string>
#include <vector>

namespace {

namespace json = boost::json;
using namespace eci::cli::mcp;

/// A Protocol over the real tool table.
struct Fixture {
    std::vector<ToolInfo> infos = tool_infos();
    Protocol protocol{infos, "9.9.9"};

    /// The reply to `line`, parsed; fails the test when the action is not a reply.
    json::object reply(std::string_view line) {
        Action action = protocol.handle_line(line);
        auto* r = std::get_if<Reply>(&action);
        REQUIRE(r != nullptr);
        REQUIRE(r->line.back() == '\n');
        REQUIRE(r->line.find('\n') == r->line.size() - 1);  // one line, whatever came in
        return json::parse(r->line).as_object();
    }

    int error_code(std::string_view line) {
        auto object = reply(line);
        REQUIRE(object.contains("error"));
        CHECK(object.at("jsonrpc") == "2.0");
        return static_cast<int>(object.at("error").at("code").as_int64());
    }

    std::string call(std::string_view name, std::string_view arguments) {
        return fmt::format(
            R"({{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{{"name":"{}","arguments":{}}}}})",
            name, arguments);
    }
};

}  // namespace

TEST_CASE("mcp: the line splitter bounds lines and keeps serving after an over-long one", "[mcp]") {
    LineSplitter splitter(16);
    splitter.feed("{\"a\":1}\r\n{\"b\"");
    auto first = splitter.next();
    REQUIRE(first);
    CHECK(first->text == "{\"a\":1}");
    CHECK_FALSE(splitter.next());
    splitter.feed(":2}\n");
    CHECK(splitter.next()->text == "{\"b\":2}");
    // 40 bytes in 4 pieces, then a good line: one too_long, then the good line.
    for (int i = 0; i < 4; ++i)
        splitter.feed("0123456789");
    splitter.feed("\nok\n");
    auto dropped = splitter.next();
    REQUIRE(dropped);
    CHECK(dropped->too_long);
    CHECK(dropped->text.empty());
    CHECK(splitter.next()->text == "ok");
    splitter.feed("tail");
    CHECK(splitter.finish()->text == "tail");
    CHECK_FALSE(splitter.finish());
}

TEST_CASE("mcp: a 10 MB line is dropped without being held, answered by one -32600", "[mcp]") {
    Fixture fixture;
    LineSplitter splitter;
    const std::string chunk(64 * 1024, 'x');
    for (std::size_t fed = 0; fed < 10u * 1000u * 1000u; fed += chunk.size())
        splitter.feed(chunk);
    splitter.feed("\n{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}\n");
    auto line = splitter.next();
    REQUIRE(line);
    REQUIRE(line->too_long);
    auto reply = json::parse(fixture.protocol.handle_overlong().line).as_object();
    CHECK(reply.at("id").is_null());
    CHECK(reply.at("error").at("code").as_int64() == rpc_error::invalid_request);
    // The server keeps serving: the next line is a ping answered normally.
    auto ping = fixture.reply(splitter.next()->text);
    CHECK(ping.at("id") == 1);
    CHECK(ping.at("result").as_object().empty());
}

TEST_CASE("mcp: malformed messages get JSON-RPC errors, notifications and responses none",
          "[mcp]") {
    Fixture fixture;
    CHECK(fixture.error_code("{not json") == rpc_error::parse_error);
    CHECK(fixture.error_code("\xff\xfe") == rpc_error::parse_error);
    CHECK(fixture.error_code("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"") ==
          rpc_error::parse_error);
    CHECK(fixture.error_code("[{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}]") ==
          rpc_error::invalid_request);
    CHECK(fixture.error_code("42") == rpc_error::invalid_request);
    CHECK(fixture.error_code("{\"id\":1,\"method\":\"ping\"}") == rpc_error::invalid_request);
    CHECK(fixture.error_code("{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"ping\"}") ==
          rpc_error::invalid_request);
    CHECK(fixture.error_code("{\"jsonrpc\":\"2.0\",\"id\":{},\"method\":\"ping\"}") ==
          rpc_error::invalid_request);
    CHECK(fixture.error_code("{\"jsonrpc\":\"2.0\",\"id\":null,\"method\":\"ping\"}") ==
          rpc_error::invalid_request);
    CHECK(fixture.error_code("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":5}") ==
          rpc_error::invalid_request);
    CHECK(fixture.error_code("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",\"params\":[1]}") ==
          rpc_error::invalid_params);
    auto unknown =
        fixture.reply("{\"jsonrpc\":\"2.0\",\"id\":\"u\",\"method\":\"resources/list\"}");
    CHECK(unknown.at("id") == "u");
    CHECK(unknown.at("error").at("code").as_int64() == rpc_error::method_not_found);

    // No reply of any kind: notifications (known, unknown, malformed), a client's responses,
    // blank lines.
    for (std::string_view line :
         {"{\"jsonrpc\":\"2.0\",\"method\":\"notifications/initialized\"}",
          "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/whatever\",\"params\":{}}",
          "{\"jsonrpc\":\"2.0\",\"method\":\"tools/call\"}",
          "{\"jsonrpc\":\"2.0\",\"method\":\"ping\",\"params\":7}",
          "{\"jsonrpc\":\"2.0\",\"method\":\"notifications/cancelled\",\"params\":{}}",
          "{\"jsonrpc\":\"2.0\",\"id\":3,\"result\":{}}", "", "  \r"}) {
        INFO(line);
        CHECK(std::holds_alternative<NoAction>(fixture.protocol.handle_line(line)));
    }
    CHECK(fixture.protocol.initialized());
}

TEST_CASE("mcp: initialize negotiates the version, ping and tools/list answer", "[mcp]") {
    for (auto [asked, answered] :
         std::vector<std::pair<std::string, std::string>>{{"2025-06-18", "2025-06-18"},
                                                          {"2025-03-26", "2025-03-26"},
                                                          {"2024-11-05", "2024-11-05"},
                                                          {"2025-11-25", "2025-06-18"},
                                                          {"1999-01-01", "2025-06-18"}}) {
        Fixture fixture;
        auto init = fixture.reply(fmt::format(
            R"({{"jsonrpc":"2.0","id":0,"method":"initialize","params":{{"protocolVersion":"{}","capabilities":{{}},"clientInfo":{{"name":"t","version":"1"}}}}}})",
            asked));
        INFO(asked);
        const auto& result = init.at("result");
        CHECK(result.at("protocolVersion").as_string() == answered);
        CHECK(result.at("serverInfo").at("name") == "eci-sandbox");
        CHECK(result.at("serverInfo").at("version") == "9.9.9");
        CHECK(result.at("capabilities").at("tools").is_object());
        // outputSchema exists from 2025-06-18 on.
        auto list = fixture.reply(R"({"jsonrpc":"2.0","id":1,"method":"tools/list"})");
        const auto& tools = list.at("result").at("tools").as_array();
        REQUIRE(tools.size() == 10);
        CHECK(tools[0].as_object().contains("outputSchema") ==
              (answered == std::string("2025-06-18")));
    }
    Fixture fixture;
    CHECK(fixture.error_code(R"({"jsonrpc":"2.0","id":0,"method":"initialize","params":{}})") ==
          rpc_error::invalid_params);
    auto ping = fixture.reply(R"({"jsonrpc":"2.0","id":"p","method":"ping"})");
    CHECK(ping.at("id") == "p");
    CHECK(ping.at("result").as_object().empty());
}

TEST_CASE("mcp: tools/list names the issue's tools with object schemas", "[mcp]") {
    Fixture fixture;
    auto list = fixture.reply(R"({"jsonrpc":"2.0","id":1,"method":"tools/list","params":{}})");
    std::vector<std::string> names;
    for (const auto& tool : list.at("result").at("tools").as_array()) {
        names.emplace_back(tool.at("name").as_string());
        CHECK(tool.at("inputSchema").at("type") == "object");
        CHECK(tool.at("outputSchema").at("type") == "object");
        CHECK_FALSE(tool.at("description").as_string().empty());
    }
    CHECK(names == std::vector<std::string>{"create_sandbox", "list_sandboxes", "delete_sandbox",
                                            "run_command", "start_job", "poll_job", "wait_job",
                                            "kill_job", "read_file", "write_file"});
}

TEST_CASE("mcp: tools/call checks arguments against the input schema (-32602)", "[mcp]") {
    Fixture fixture;
    auto message = [&](std::string_view line) {
        auto object = fixture.reply(line);
        REQUIRE(object.at("error").at("code").as_int64() == rpc_error::invalid_params);
        CHECK(object.at("id") == 7);
        return std::string(object.at("error").at("message").as_string());
    };
    CHECK(message(fixture.call("run_command", R"({"sandbox_id":5,"command":"true"})")) ==
          "invalid params: arguments.sandbox_id: expected a string");
    CHECK(message(fixture.call("run_command", R"({"sandbox_id":"eci-1"})")) ==
          "invalid params: arguments: missing required property 'command'");
    CHECK(message(fixture.call("run_command",
                               R"({"sandbox_id":"eci-1","command":"x","timeout_seconds":"9"})")) ==
          "invalid params: arguments.timeout_seconds: expected a number");
    CHECK(message(fixture.call("run_command",
                               R"({"sandbox_id":"eci-1","command":"x","timeout_seconds":601})")) ==
          "invalid params: arguments.timeout_seconds: must be at most 600");
    CHECK(message(fixture.call("run_command",
                               R"({"sandbox_id":"eci-1","command":"x","timeout_seconds":0})")) ==
          "invalid params: arguments.timeout_seconds: must be greater than 0");
    CHECK(
        message(fixture.call("run_command", R"({"sandbox_id":"eci-1","command":"x","cwd":"/"})")) ==
        "invalid params: arguments.cwd: unknown property");
    CHECK(message(fixture.call("create_sandbox", R"({"image":""})")) ==
          "invalid params: arguments.image: must not be empty");
    CHECK(message(fixture.call("create_sandbox", R"({"image":"u","env":{"A":1}})")) ==
          "invalid params: arguments.env.A: expected a string");
    CHECK(message(fixture.call("create_sandbox", R"({"image":"u","env":["A=1"]})")) ==
          "invalid params: arguments.env: expected an object");
    CHECK(message(fixture.call(
              "write_file", R"({"sandbox_id":"e","path":"/f","content":"x","encoding":"hex"})")) ==
          R"(invalid params: arguments.encoding: expected one of ["utf-8","base64"])");
    CHECK(message(fixture.call("create_sandbox", "[]")) ==
          "invalid params: params.arguments: expected an object");
    CHECK(message(fixture.call("no_such_tool", "{}")) ==
          "invalid params: unknown tool 'no_such_tool'");
    CHECK(message(R"({"jsonrpc":"2.0","id":7,"method":"tools/call","params":{}})") ==
          "invalid params: params.name: expected a string");
    CHECK(message(R"({"jsonrpc":"2.0","id":7,"method":"tools/call"})") ==
          "invalid params: params.name: expected a string");

    CHECK(message(fixture.call("wait_job",
                               R"({"sandbox_id":"e","job_id":"j","timeout_seconds":1e300})")) ==
          "invalid params: arguments.timeout_seconds: must be at most 86400");

    // Valid arguments become a call of the right tool; absent arguments are {}.
    Action action = fixture.protocol.handle_line(fixture.call(
        "run_command", R"({"sandbox_id":"eci-1","command":"ls","timeout_seconds":2.5})"));
    auto* call = std::get_if<CallTool>(&action);
    REQUIRE(call != nullptr);
    CHECK(tools()[call->tool].info.name == "run_command");
    CHECK(call->id == 7);
    CHECK(call->arguments.at("command") == "ls");
    action = fixture.protocol.handle_line(
        R"({"jsonrpc":"2.0","id":"l","method":"tools/call","params":{"name":"list_sandboxes"}})");
    call = std::get_if<CallTool>(&action);
    REQUIRE(call != nullptr);
    CHECK(call->arguments.empty());
}

TEST_CASE("mcp: notifications/cancelled names the request to cancel", "[mcp]") {
    Fixture fixture;
    Action action = fixture.protocol.handle_line(
        R"({"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"r9","reason":"user"}})");
    auto* cancel = std::get_if<CancelCall>(&action);
    REQUIRE(cancel != nullptr);
    CHECK(cancel->request_id == "r9");
}

TEST_CASE("mcp: tool results carry text and structured content, errors the kind and code",
          "[mcp]") {
    Fixture fixture;
    fixture.reply(
        R"({"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18"}})");
    ToolOutcome ok{false, json::object{{"sandbox_id", "eci-1"}, {"exit_code", 3}}};
    auto result = json::parse(fixture.protocol.tool_result_line(5, ok)).at("result").as_object();
    CHECK(result.at("isError") == false);
    CHECK(result.at("structuredContent").at("exit_code") == 3);
    CHECK(json::parse(result.at("content").at(0).at("text").as_string()) ==
          result.at("structuredContent"));

    eci::Error error = eci::Error::make(eci::ErrorKind::not_found, "no sandbox eci-1");
    error.code = "InvalidContainerGroup.NotFound";
    error.request_id = "RID-1";
    auto failed = json::parse(fixture.protocol.tool_result_line(6, error_outcome(error)))
                      .at("result")
                      .as_object();
    CHECK(failed.at("isError") == true);
    CHECK_FALSE(failed.contains("structuredContent"));
    auto text = json::parse(failed.at("content").at(0).at("text").as_string());
    CHECK(text.at("error").at("kind") == "not_found");
    CHECK(text.at("error").at("code") == "InvalidContainerGroup.NotFound");
    CHECK(text.at("error").at("request_id") == "RID-1");

    // 2024-11-05 has no structured results: the text alone.
    Fixture old;
    old.reply(
        R"({"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2024-11-05"}})");
    auto plain = json::parse(old.protocol.tool_result_line(5, ok)).at("result").as_object();
    CHECK_FALSE(plain.contains("structuredContent"));
}

TEST_CASE("mcp: command output that is not UTF-8 still makes valid JSON text", "[mcp]") {
    CHECK(is_valid_utf8("plain \xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"));
    CHECK_FALSE(is_valid_utf8("\xc0\xaf"));          // overlong '/'
    CHECK_FALSE(is_valid_utf8("\xed\xa0\x80"));      // a surrogate
    CHECK_FALSE(is_valid_utf8("\xf4\x90\x80\x80"));  // above U+10FFFF
    CHECK_FALSE(is_valid_utf8("\xe2\x82"));          // cut short
    CHECK(valid_utf8("a\xffz\xe2\x82") == "a\xEF\xBF\xBDz\xEF\xBF\xBD\xEF\xBF\xBD");
    const std::string line = error_line(1, rpc_error::internal_error, "bad \xff byte");
    json::error_code ec;
    json::parse(line, ec);
    CHECK_FALSE(ec);
}

TEST_CASE("mcp: the schema check's integers and nested objects", "[mcp]") {
    const auto schema = json::parse(R"({"type":"object","properties":{"n":{"type":"integer"},
        "o":{"type":"object","properties":{"b":{"type":"boolean"}},"required":["b"]}}})")
                            .as_object();
    auto check = [&](std::string_view value) {
        return check_schema(schema, json::parse(value), "arguments").value_or("ok");
    };
    CHECK(check(R"({"n":5})") == "ok");
    CHECK(check(R"({"n":5.0})") == "ok");
    CHECK(check(R"({"n":-9007199254740993})") == "ok");
    CHECK(check(R"({"n":5.5})") == "arguments.n: expected an integer");
    CHECK(check(R"({"n":1e300})") == "ok");  // whole, and no cast that could overflow
    CHECK(check(R"({"n":"5"})") == "arguments.n: expected an integer");
    CHECK(check(R"({"o":{}})") == "arguments.o: missing required property 'b'");
    CHECK(check(R"({"o":{"b":1}})") == "arguments.o.b: expected a boolean");
    CHECK(check(R"({"extra":[1]})") == "ok");  // no additionalProperties: anything goes
}
