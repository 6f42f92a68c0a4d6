// SPDX-License-Identifier: Apache-2.0
// The CLI against a hostile server: an in-process API server (plain http, so its exec
// WebSocket may be ws://) and exec WebSocket server that send what a real service never
// would: exit codes above 255, names and messages with escape sequences and newlines,
// error lines of any length.
#include "support/child_process.hpp"
#include "support/tls_test_server.hpp"
#include "support/ws_test_server.hpp"

#include <fmt/format.h>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace asio = boost::asio;
using eci::test::ProcessResult;
using eci::test::TestAction;
using eci::test::TestRequest;
using eci::test::TestResponse;

constexpr const char* cli_path = ECI_CLI_PATH;

// A name that, printed raw, sets the terminal's title, clears the screen and forges a line.
constexpr const char* hostile_name = "box\x1b]0;owned\x07\x1b[2J\nFORGED-LINE\r";

TestResponse json_reply(unsigned status, std::string body) {
    TestResponse response;
    response.status = status;
    response.headers = {{"Content-Type", "application/json;charset=utf-8"}};
    response.body = std::move(body);
    return response;
}

std::string describe_body() {
    boost::json::object group{
        {"ContainerGroupId", "eci-hostile1"},
        {"ContainerGroupName", hostile_name},
        {"Status", "Running"},
        {"RegionId", "cn-hangzhou"},
        {"Cpu", 1},
        {"Memory", 2},
        {"CreationTime", "2026-12-05T10:00:00Z"},
        {"Containers", boost::json::array{boost::json::object{
                           {"Name", "sandbox"}, {"Image", "ubuntu"}, {"Ready", true}}}},
    };
    return boost::json::serialize(boost::json::object{
        {"RequestId", "REQ-D"},
        {"TotalCount", 1},
        {"NextToken", ""},
        {"ContainerGroups", boost::json::array{group}},
    });
}

// A listing of three pages for `list --name paged-ok` / `--name paged`: two sandboxes a
// page; with `paged`, the third page is a refusal instead.
std::optional<TestAction> paged_listing(const TestRequest& request) {
    const std::string text = request.target + "&" + request.body;
    const bool ok = text.find("paged-ok") != std::string::npos;
    if (!ok && text.find("paged") == std::string::npos)
        return std::nullopt;
    int number = 1;
    if (text.find("NextToken=page-2") != std::string::npos)
        number = 2;
    else if (text.find("NextToken=page-3") != std::string::npos)
        number = 3;
    if (number == 3 && !ok) {
        return json_reply(
            400, boost::json::serialize(boost::json::object{{"RequestId", "REQ-P3"},
                                                            {"Code", "Forbidden.PageThree"},
                                                            {"Message", "no third page"}}));
    }
    boost::json::array groups;
    for (int i = 0; i < (number == 3 ? 1 : 2); ++i) {
        groups.push_back(
            boost::json::object{{"ContainerGroupId", fmt::format("eci-p{}-{}", number, i)},
                                {"ContainerGroupName", "paged"},
                                {"Status", "Running"}});
    }
    return json_reply(
        200, boost::json::serialize(boost::json::object{
                 {"RequestId", fmt::format("REQ-P{}", number)},
                 {"TotalCount", 5},
                 {"NextToken", number == 3 ? std::string() : fmt::format("page-{}", number + 1)},
                 {"ContainerGroups", std::move(groups)}}));
}

eci::test::TestServerOptions plain_http() {
    eci::test::TestServerOptions options;
    options.tls = false;
    return options;
}

/// The API server and the exec WebSocket server on a thread of their own.
struct HostileServers {
    explicit HostileServers(eci::test::WsTestScript script)
        : ws(io.get_executor(), std::move(script)),
          api(
              io,
              [this](const TestRequest& request) -> TestAction {
                  const std::string action = request.header("x-acs-action");
                  if (action == "ExecContainerCommand") {
                      return json_reply(200,
                                        boost::json::serialize(boost::json::object{
                                            {"RequestId", "REQ-X"}, {"WebSocketUri", ws.url()}}));
                  }
                  if (auto listing = paged_listing(request))
                      return *listing;
                  if (request.target.find("eci-broken") != std::string::npos ||
                      request.body.find("eci-broken") != std::string::npos) {
                      // A message with escapes, a forged line and 100 kB of filler.
                      const std::string message =
                          "denied\x1b[31m\nFORGED-ERROR\x1b]0;t\x07" + std::string(100'000, 'x');
                      return json_reply(400, boost::json::serialize(
                                                 boost::json::object{{"RequestId", "REQ-E"},
                                                                     {"Code", "Forbidden.Hostile"},
                                                                     {"Message", message}}));
                  }
                  return json_reply(200, describe_body());
              },
              plain_http()) {
        thread = std::thread([this] { io.run(); });
    }
    ~HostileServers() {
        asio::post(io, [this] {
            api.stop();
            ws.stop();
        });
        work.reset();
        io.stop();
        thread.join();
    }

    ProcessResult cli(std::vector<std::string> args) const {
        eci::test::ProcessOptions options;
        options.environment = {"PATH=/usr/bin:/bin",
                               fmt::format("ECI_SANDBOX_ENDPOINT=http://127.0.0.1:{}", api.port()),
                               "ECI_SANDBOX_REGION_ID=cn-hangzhou",
                               "ECI_SANDBOX_ACCESS_KEY_ID=LTAIhostiletest1",
                               "ECI_SANDBOX_ACCESS_KEY_SECRET=hostile-secret"};
        options.working_directory = std::filesystem::temp_directory_path().string();
        options.deadline = std::chrono::seconds(30);
        auto result = eci::test::run_process(cli_path, args, options);
        INFO("stderr: " << result.err);
        CHECK_FALSE(result.timed_out);
        return result;
    }

    asio::io_context io;
    asio::executor_work_guard<asio::io_context::executor_type> work{io.get_executor()};
    eci::test::WsTestServer ws;
    eci::test::TlsTestServer api;
    std::thread thread;
};

bool has_control_bytes(const std::string& text) {
    // Only the line ends the CLI itself writes are allowed.
    for (std::size_t i = 0; i < text.size(); ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        if ((c < 0x20 && c != '\n') || c == 0x7f)
            return true;
    }
    return false;
}

}  // namespace

TEST_CASE("cli hostile: an exit code above 255 never becomes a successful exit", "[cli][hostile]") {
    // exit() keeps the low 8 bits: 256 and 512 would exit 0, 300 would exit 44.
    const int reported = GENERATE(256, 300, 512);
    eci::test::WsTestScript script;
    script.exit_mode = eci::test::WsExitMode::channel4;
    script.exit_code = reported;
    script.messages = {{std::string("\x01ran\n"), false}};
    HostileServers servers(script);
    auto exec = servers.cli({"exec", "eci-hostile1", "--", "false"});
    INFO("reported " << reported << " stderr: " << exec.err);
    CHECK(exec.out == "ran\n");
    CHECK(exec.exit_code == 1);
    CHECK(exec.err.find("exit code is unknown") != std::string::npos);
}

TEST_CASE("cli hostile: control characters in names are escaped, one record per line",
          "[cli][hostile]") {
    HostileServers servers(eci::test::WsTestScript{});
    for (const auto& args :
         std::vector<std::vector<std::string>>{{"list"}, {"info", "eci-hostile1"}}) {
        auto out = servers.cli(args);
        INFO(args[0] << ": " << out.out);
        CHECK(out.exit_code == 0);
        CHECK_FALSE(has_control_bytes(out.out));
        CHECK(out.out.find("box\\x1b]0;owned\\x07\\x1b[2J\\x0aFORGED-LINE\\x0d") !=
              std::string::npos);
        // No line of output starts with the forged text.
        CHECK(out.out.find("\nFORGED-LINE") == std::string::npos);
    }
    // --json stays valid JSON with the name intact.
    auto listed = servers.cli({"list", "--json"});
    CHECK(listed.exit_code == 0);
    CHECK_FALSE(has_control_bytes(listed.out));
    auto array = boost::json::parse(listed.out).as_array();
    REQUIRE(array.size() == 1);
    CHECK(boost::json::value_to<std::string>(array[0].at("name")) == hostile_name);
}

TEST_CASE("cli hostile: a hostile error message is one escaped, bounded line", "[cli][hostile]") {
    HostileServers servers(eci::test::WsTestScript{});
    auto failed = servers.cli({"info", "eci-broken"});
    CHECK(failed.exit_code == 1);
    CHECK_FALSE(has_control_bytes(failed.err));
    CHECK(std::count(failed.err.begin(), failed.err.end(), '\n') == 1);
    CHECK(failed.err.find("Forbidden.Hostile") != std::string::npos);
    CHECK(failed.err.find("denied\\x1b[31m\\x0aFORGED-ERROR") != std::string::npos);
    CHECK(failed.err.size() < 2100);
    CHECK(failed.err.find("more bytes)") != std::string::npos);
}

TEST_CASE("cli hostile: read from a server that streams without end stops at --max-bytes",
          "[cli][hostile][bounds]") {
    // Before the bound, the CLI kept all of it: 4-7 GB in about 10 s.
    eci::test::WsTestScript script;
    script.ending = eci::test::WsEnding::flood;
    script.oversize_bytes = 64 * 1024;
    HostileServers servers(script);
    const auto started = std::chrono::steady_clock::now();
    auto read = servers.cli({"read", "eci-hostile1", "/big", "--max-bytes", "1000000"});
    const auto elapsed = std::chrono::steady_clock::now() - started;
    INFO("stderr: " << read.err);
    CHECK(read.exit_code == 1);
    CHECK(read.err.find("max_bytes 1000000") != std::string::npos);
    CHECK(read.err.find("stream was closed") != std::string::npos);
    CHECK(read.out.empty());
    CHECK(elapsed < std::chrono::seconds(10));
    struct rusage usage {};
    ::getrusage(RUSAGE_CHILDREN, &usage);
    // The largest peak RSS of any child so far (this one included): bounded, not gigabytes.
    INFO("largest child's peak RSS so far: " << usage.ru_maxrss << " kB");
    CHECK(usage.ru_maxrss < 400 * 1024);
}

TEST_CASE("cli hostile: --timeout ends a read from a server that trickles without end",
          "[cli][hostile][bounds]") {
    eci::test::WsTestScript script;
    script.ending = eci::test::WsEnding::flood;
    script.oversize_bytes = 1024;
    script.flood_interval = std::chrono::milliseconds(5);
    HostileServers servers(script);
    const auto started = std::chrono::steady_clock::now();
    auto read = servers.cli({"read", "eci-hostile1", "/big", "--timeout", "1"});
    const auto elapsed = std::chrono::steady_clock::now() - started;
    INFO("stderr: " << read.err);
    CHECK(read.exit_code == 124);
    CHECK(elapsed < std::chrono::seconds(10));
}

TEST_CASE("cli hostile: list prints each page as it arrives, a failure keeps what was shown",
          "[cli][hostile][bounds]") {
    HostileServers servers(eci::test::WsTestScript{});
    // Three pages, printed one by one.
    auto whole = servers.cli({"list", "--name", "paged-ok"});
    CHECK(whole.exit_code == 0);
    CHECK(std::count(whole.out.begin(), whole.out.end(), '\n') == 6);  // header + 5 rows
    auto json_whole = servers.cli({"list", "--name", "paged-ok", "--json"});
    CHECK(json_whole.exit_code == 0);
    CHECK(json_whole.out.back() == '\n');
    CHECK(std::count(json_whole.out.begin(), json_whole.out.end(), '\n') == 1);
    auto array = boost::json::parse(json_whole.out).as_array();
    REQUIRE(array.size() == 5);
    CHECK(boost::json::value_to<std::string>(array[4].at("sandbox_id")) == "eci-p3-0");

    // The third page is refused: the first two were already printed (before, the whole
    // listing was kept and nothing was printed), and the error says the listing failed.
    auto failed = servers.cli({"list", "--name", "paged"});
    CHECK(failed.exit_code == 1);
    CHECK(failed.err.find("Forbidden.PageThree") != std::string::npos);
    CHECK(failed.out.find("eci-p1-0") != std::string::npos);
    CHECK(failed.out.find("eci-p2-1") != std::string::npos);
    CHECK(std::count(failed.out.begin(), failed.out.end(), '\n') == 5);  // header + 4 rows
    // --json: the array so far, left unterminated so that no parser takes it for a whole
    // listing, then the error object on a line of its own.
    auto json_failed = servers.cli({"list", "--name", "paged", "--json"});
    CHECK(json_failed.exit_code == 1);
    REQUIRE_FALSE(json_failed.out.empty());
    CHECK(json_failed.out.front() == '[');
    boost::system::error_code parse_error;
    boost::json::parse(json_failed.out, parse_error);
    CHECK(parse_error);
    const auto newline = json_failed.out.find('\n');
    REQUIRE(newline != std::string::npos);
    const std::string partial = json_failed.out.substr(0, newline);
    CHECK(partial.back() != ']');
    CHECK(boost::json::parse(partial + "]").as_array().size() == 4);
    const auto error = boost::json::parse(json_failed.out.substr(newline + 1));
    CHECK(error.at("error").at("code") == "Forbidden.PageThree");
}
