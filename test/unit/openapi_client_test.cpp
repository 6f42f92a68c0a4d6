// SPDX-License-Identifier: Apache-2.0
// eci::OpenApiClient against an in-process TLS server that verifies every signature with the
// same lib/core code the emulator uses.
#include <eci/openapi_client.hpp>

#include "core/crypto.hpp"
#include "core/encoding.hpp"
#include "core/signing.hpp"
#include "support/run_with_deadline.hpp"
#include "support/tls_test_server.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <catch2/catch.hpp>

#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace asio = boost::asio;
using namespace std::chrono_literals;
using eci::ErrorKind;
using eci::OpenApiClient;
using eci::test::run_with_deadline;
using eci::test::TestAction;
using eci::test::TestRequest;
using eci::test::TestResponse;
using eci::test::TlsTestServer;

namespace {

constexpr std::string_view key_id = "LTAItestkey01";
constexpr std::string_view key_secret = "s3cr3t/Value+With=Symbols";

const char* describe_body = R"({"RequestId":"REQ-DESCRIBE","TotalCount":1,"NextToken":"",
  "ContainerGroups":[{"ContainerGroupId":"eci-abc123","ContainerGroupName":"box","Status":"Running",
  "RegionId":"cn-shanghai","Cpu":1,"Memory":2,"Tags":[{"Key":"owner","Value":"me"}],
  "Containers":[{"Name":"sandbox","Image":"ubuntu","Ready":true,"RestartCount":0,
  "CurrentState":{"State":"Running","StartTime":"2026-11-26T10:00:00Z"}}]}]})";

TestResponse json_reply(unsigned status, std::string body) {
    TestResponse response;
    response.status = status;
    response.headers = {{"Content-Type", "application/json;charset=utf-8"}};
    response.body = std::move(body);
    return response;
}

TestResponse service_error(unsigned status, std::string_view code, std::string_view message) {
    return json_reply(status, fmt::format(R"({{"RequestId":"REQ-{}","HostId":"eci.test",)"
                                          R"("Code":"{}","Message":"{}","Recommend":"x"}})",
                                          code, code, message));
}

// What the server saw of one request, once its signature checked out.
struct SeenRequest {
    std::string action;
    eci::detail::Params query;
    std::string nonce;
    bool signature_ok = false;
};

SeenRequest inspect(const TestRequest& request) {
    SeenRequest seen;
    const auto question = request.target.find('?');
    const std::string_view raw_query = question == std::string::npos
                                           ? std::string_view()
                                           : std::string_view(request.target).substr(question + 1);
    seen.query = eci::detail::parse_query(raw_query, false).value_or(eci::detail::Params{});
    if (auto signature = eci::detail::find_param(seen.query, "Signature")) {
        // RPC V2: every parameter but Signature is signed.
        seen.action = std::string(eci::detail::find_param(seen.query, "Action").value_or(""));
        seen.nonce =
            std::string(eci::detail::find_param(seen.query, "SignatureNonce").value_or(""));
        const auto expected =
            eci::detail::rpc_expected_signature(key_secret, request.method, seen.query);
        seen.signature_ok = expected.signature == *signature;
        return seen;
    }
    seen.action = request.header("x-acs-action");
    seen.nonce = request.header("x-acs-signature-nonce");
    const auto authorization =
        eci::detail::parse_acs3_authorization(request.header("authorization"));
    if (!authorization || authorization->credential != key_id)
        return seen;
    eci::detail::Headers headers(request.headers.begin(), request.headers.end());
    for (auto& [name, value] : headers)
        for (auto& c : name)
            c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const auto expected = eci::detail::acs3_expected_signature(
        key_secret, request.method, "/", seen.query, headers, authorization->signed_headers,
        request.header("x-acs-content-sha256"));
    seen.signature_ok =
        expected.signature == authorization->signature &&
        eci::detail::sha256_hex(request.body) == request.header("x-acs-content-sha256");
    return seen;
}

// A recorder shared by the server's handler and the test body.
struct Recorder {
    std::mutex mutex;
    std::vector<SeenRequest> requests;
    void add(SeenRequest seen) {
        std::lock_guard lock(mutex);
        requests.push_back(std::move(seen));
    }
    std::size_t size() {
        std::lock_guard lock(mutex);
        return requests.size();
    }
};

eci::ClientConfig config_for(const TlsTestServer& server) {
    eci::ClientConfig config;
    config.credentials = {std::string(key_id), std::string(key_secret), ""};
    config.endpoint = {"https", "localhost", server.port()};
    config.tls.ca_file = server.ca_file();
    config.timeouts.connect = 2000ms;
    config.timeouts.read = 2000ms;
    config.retry.initial_backoff = 5ms;
    config.retry.max_backoff = 20ms;
    config.retry.overall_deadline = 10000ms;
    return config;
}

OpenApiClient make_client(asio::io_context& io, eci::ClientConfig config, eci::Logger logger = {}) {
    auto client = OpenApiClient::create(io.get_executor(), std::move(config), std::move(logger));
    REQUIRE(client.ok());
    return std::move(client).value();
}

}  // namespace

TEST_CASE("openapi: signed describe calls reuse one keep-alive TLS connection", "[openapi]") {
    asio::io_context io;
    Recorder recorder;
    TlsTestServer server(io, [&](const TestRequest& request) -> TestAction {
        auto seen = inspect(request);
        const bool ok = seen.signature_ok && seen.action == "DescribeContainerGroups";
        recorder.add(std::move(seen));
        return ok ? json_reply(200, describe_body)
                  : service_error(400, "SignatureDoesNotMatch",
                                  "Specified signature does not match");
    });
    auto client = make_client(io, config_for(server));
    run_with_deadline(io, [&]() -> asio::awaitable<void> {
        for (int i = 0; i < 20; ++i) {
            eci::DescribeContainerGroupsRequest request;
            request.container_group_ids = {"eci-abc123"};
            request.tags = {{"owner", "me (*)!'~ ünïcode"}};
            auto reply = co_await client.describe_container_groups(request);
            REQUIRE(reply.ok());
            REQUIRE(reply->container_groups.size() == 1);
            CHECK(reply->request_id == "REQ-DESCRIBE");
            CHECK(reply->container_groups[0].containers[0].current_state.state == "Running");
        }
    });
    CHECK(server.tls_handshakes() == 1);
    const auto stats = client.stats();
    CHECK(stats.tls_handshakes == 1);
    CHECK(stats.api_calls.at("DescribeContainerGroups") == 20);
    CHECK(stats.retries == 0);
    std::set<std::string> nonces;
    for (const auto& seen : recorder.requests) {
        CHECK(seen.signature_ok);
        CHECK(eci::detail::find_param(seen.query, "RegionId") == "cn-shanghai");
        CHECK(eci::detail::find_param(seen.query, "ContainerGroupIds") == R"(["eci-abc123"])");
        nonces.insert(seen.nonce);
    }
    CHECK(nonces.size() == 20);
}

TEST_CASE("openapi: the RPC HMAC-SHA1 signature is accepted by the verifier", "[openapi]") {
    asio::io_context io;
    Recorder recorder;
    TlsTestServer server(io, [&](const TestRequest& request) -> TestAction {
        auto seen = inspect(request);
        const bool ok = seen.signature_ok;
        recorder.add(std::move(seen));
        return ok ? json_reply(200, R"({"RequestId":"REQ-V2"})")
                  : service_error(400, "SignatureDoesNotMatch", "no");
    });
    auto config = config_for(server);
    config.signature_version = eci::SignatureVersion::rpc_v2;
    config.credentials.security_token = "sts-token-value";
    auto client = make_client(io, config);
    run_with_deadline(io, [&]() -> asio::awaitable<void> {
        eci::DeleteContainerGroupRequest request;
        request.container_group_id = "eci-abc123";
        auto reply = co_await client.delete_container_group(request);
        REQUIRE(reply.ok());
        CHECK(reply->request_id == "REQ-V2");
    });
    REQUIRE(recorder.size() == 1);
    const auto& query = recorder.requests[0].query;
    CHECK(eci::detail::find_param(query, "Action") == "DeleteContainerGroup");
    CHECK(eci::detail::find_param(query, "SecurityToken") == "sts-token-value");
    CHECK(eci::detail::find_param(query, "SignatureMethod") == "HMAC-SHA1");
}

TEST_CASE("openapi: 503 then success is retried, and a create keeps its ClientToken", "[openapi]") {
    asio::io_context io;
    Recorder recorder;
    TlsTestServer server(io, [&](const TestRequest& request) -> TestAction {
        recorder.add(inspect(request));
        if (recorder.size() == 1)
            return service_error(
                503, "ServiceUnavailable",
                "The request has failed due to a temporary failure of the server.");
        return json_reply(200, R"({"RequestId":"REQ-OK","ContainerGroupId":"eci-new"})");
    });
    auto client = make_client(io, config_for(server));
    run_with_deadline(io, [&]() -> asio::awaitable<void> {
        eci::CreateContainerGroupRequest request;
        request.container_group_name = "box";
        eci::ContainerSpec container;
        container.name = "sandbox";
        container.image = "ubuntu";
        request.containers = {container};
        auto reply = co_await client.create_container_group(request);
        REQUIRE(reply.ok());
        CHECK(reply->container_group_id == "eci-new");
    });
    REQUIRE(recorder.size() == 2);
    const auto token1 = eci::detail::find_param(recorder.requests[0].query, "ClientToken");
    const auto token2 = eci::detail::find_param(recorder.requests[1].query, "ClientToken");
    REQUIRE(token1.has_value());
    CHECK(token1->size() == 32);
    CHECK(token1 == token2);
    CHECK(recorder.requests[0].nonce != recorder.requests[1].nonce);
    CHECK(client.stats().retries == 1);
}

TEST_CASE("openapi: throttling is retried with backoff through the shared gate", "[openapi]") {
    asio::io_context io;
    Recorder recorder;
    std::vector<std::chrono::steady_clock::time_point> arrivals;
    // Twelve throttles in a row, then success: persistent throttling, as from an account over
    // its limit.
    TlsTestServer server(io, [&](const TestRequest& request) -> TestAction {
        recorder.add(inspect(request));
        arrivals.push_back(std::chrono::steady_clock::now());
        if (recorder.size() <= 12)
            return service_error(400, "Throttling.User",
                                 "Request was denied due to user flow control.");
        return json_reply(200, R"({"RequestId":"REQ-OK","ContainerGroups":[],"TotalCount":0})");
    });
    auto client = make_client(io, config_for(server));
    run_with_deadline(io, [&]() -> asio::awaitable<void> {
        // Ten attempts (RetryConfig::max_attempts), all throttled: the call fails, and the
        // tenth throttle of ten replies closes the action's gate.
        auto first =
            co_await client.describe_container_groups(eci::DescribeContainerGroupsRequest());
        REQUIRE_FALSE(first.ok());
        CHECK(first.error().kind == ErrorKind::throttled);
        // The next call waits at the gate (1 s), then is throttled twice more (not enough to
        // close it again) and succeeds.
        auto second =
            co_await client.describe_container_groups(eci::DescribeContainerGroupsRequest());
        REQUIRE(second.ok());
        CHECK(second->total_count == 0);
    });
    REQUIRE(arrivals.size() == 13);
    const auto stats = client.stats();
    CHECK(stats.throttled == 12);
    CHECK(stats.retries == 11);
    // The retries of the first call were its own backoffs (5-20 ms), not the gate's second;
    // the second call's first attempt waited the gate out.
    CHECK(arrivals[10] - arrivals[9] >= 900ms);
}

TEST_CASE("openapi: a refused call keeps the service's code, message, RequestId and status",
          "[openapi]") {
    asio::io_context io;
    std::size_t calls = 0;
    TlsTestServer server(io, [&](const TestRequest&) -> TestAction {
        ++calls;
        return service_error(400, "InvalidParameter",
                             "The specified parameter Limit is not valid.");
    });
    auto client = make_client(io, config_for(server));
    run_with_deadline(io, [&]() -> asio::awaitable<void> {
        eci::DescribeContainerGroupsRequest request;
        request.limit = 50;
        auto reply = co_await client.describe_container_groups(request);
        REQUIRE_FALSE(reply.ok());
        const auto& error = reply.error();
        CHECK(error.kind == ErrorKind::invalid_argument);
        CHECK(error.code == "InvalidParameter");
        CHECK(error.http_status == 400);
        CHECK(error.request_id == "REQ-InvalidParameter");
        CHECK(error.service_message.find("Limit") != std::string::npos);
        CHECK(error.dispatch == eci::Dispatch::refused);
    });
    CHECK(calls == 1);
}

TEST_CASE("openapi: an exec is never resent after an unknown outcome", "[openapi]") {
    asio::io_context io;
    std::size_t calls = 0;
    TlsTestServer server(io, [&](const TestRequest&) -> TestAction {
        ++calls;
        return eci::test::CloseWithoutReply{};
    });
    auto client = make_client(io, config_for(server));
    run_with_deadline(io, [&]() -> asio::awaitable<void> {
        eci::ExecContainerCommandRequest request;
        request.container_group_id = "eci-abc123";
        request.container_name = "sandbox";
        request.command = {"sh", "-c", "echo x >> f"};
        auto reply = co_await client.exec_container_command(request);
        REQUIRE_FALSE(reply.ok());
        CHECK(reply.error().kind == ErrorKind::network);
        CHECK(reply.error().dispatch == eci::Dispatch::unknown);
    });
    CHECK(calls == 1);
}

TEST_CASE("openapi: an exec refused by throttling is resent, an idempotent one after a reset",
          "[openapi]") {
    asio::io_context io;
    std::size_t calls = 0;
    bool reset_first = false;
    TlsTestServer server(io, [&](const TestRequest&) -> TestAction {
        ++calls;
        if (calls == 1) {
            if (reset_first)
                return eci::test::CloseWithoutReply{};
            return service_error(400, "Throttling.User",
                                 "Request was denied due to user flow control.");
        }
        return json_reply(
            200, R"({"RequestId":"REQ-X","WebSocketUri":"wss://h/exec/?s=t","HttpUrl":"u"})");
    });
    auto client = make_client(io, config_for(server));
    eci::ExecContainerCommandRequest request;
    request.container_group_id = "eci-abc123";
    request.container_name = "sandbox";
    request.command = {"echo", "hi"};
    SECTION("refused by throttling") {
        run_with_deadline(io, [&]() -> asio::awaitable<void> {
            auto reply = co_await client.exec_container_command(request);
            REQUIRE(reply.ok());
            CHECK(reply->web_socket_uri == "wss://h/exec/?s=t");
        });
        CHECK(calls == 2);
    }
    SECTION("reset, but the caller marked the command idempotent") {
        reset_first = true;
        eci::CallOptions options;
        options.idempotent = true;
        run_with_deadline(io, [&]() -> asio::awaitable<void> {
            auto reply = co_await client.exec_container_command(request, options);
            REQUIRE(reply.ok());
        });
        CHECK(calls == 2);
    }
}

TEST_CASE("openapi: a slow server hits the read timeout", "[openapi][serial]") {
    asio::io_context io;
    TlsTestServer server(io, [&](const TestRequest&) -> TestAction {
        return eci::test::ReplyAfter{1500ms, json_reply(200, R"({"RequestId":"late"})")};
    });
    auto config = config_for(server);
    config.timeouts.read = 150ms;
    config.retry.enabled = false;
    auto client = make_client(io, config);
    run_with_deadline(io, [&]() -> asio::awaitable<void> {
        const auto started = std::chrono::steady_clock::now();
        auto reply =
            co_await client.describe_container_groups(eci::DescribeContainerGroupsRequest());
        REQUIRE_FALSE(reply.ok());
        CHECK(reply.error().kind == ErrorKind::timeout);
        CHECK(std::chrono::steady_clock::now() - started < 1200ms);
    });
}

TEST_CASE("openapi: an untrusted certificate is refused, naming the CA option", "[openapi]") {
    asio::io_context io;
    TlsTestServer server(io,
                         [&](const TestRequest&) -> TestAction { return json_reply(200, "{}"); });
    auto config = config_for(server);
    config.tls.ca_file.clear();
    auto client = make_client(io, config);
    run_with_deadline(io, [&]() -> asio::awaitable<void> {
        auto reply =
            co_await client.describe_container_groups(eci::DescribeContainerGroupsRequest());
        REQUIRE_FALSE(reply.ok());
        CHECK(reply.error().kind == ErrorKind::tls);
        CHECK(reply.error().message.find("ECI_SANDBOX_CA_FILE") != std::string::npos);
    });
    CHECK(server.requests() == 0);
}

TEST_CASE("openapi: cancelling a call returns promptly with a cancelled error", "[openapi][serial]") {
    asio::io_context io;
    TlsTestServer server(io, [&](const TestRequest&) -> TestAction {
        return eci::test::ReplyAfter{3000ms, json_reply(200, R"({"RequestId":"late"})")};
    });
    auto client = make_client(io, config_for(server));
    run_with_deadline(io, [&]() -> asio::awaitable<void> {
        using namespace asio::experimental::awaitable_operators;
        asio::steady_timer timer(co_await asio::this_coro::executor, 100ms);
        // "Promptly" is measured from the cancellation, not from the start: on a loaded
        // machine the timer itself may fire late, which says nothing about the client.
        std::chrono::steady_clock::time_point cancelled_at{};
        auto cancel_after_timer = [&]() -> asio::awaitable<void> {
            co_await timer.async_wait(asio::use_awaitable);
            cancelled_at = std::chrono::steady_clock::now();
        };
        auto request = eci::DescribeContainerGroupsRequest();
        auto call = client.describe_container_groups(std::move(request));
        auto canceller = cancel_after_timer();
        auto outcome = co_await (std::move(call) || std::move(canceller));
        const auto returned = std::chrono::steady_clock::now();
        CHECK(outcome.index() == 1);
        CHECK(returned - cancelled_at < 100ms);
        const bool closed =
            co_await eci::test::wait_until([&] { return server.closed_connections() >= 1; }, 2s);
        CHECK(closed);
    });
}

TEST_CASE("openapi: no secret, token or signature reaches the log", "[openapi]") {
    asio::io_context io;
    std::size_t calls = 0;
    std::vector<std::string> signatures;
    TlsTestServer server(io, [&](const TestRequest& request) -> TestAction {
        ++calls;
        if (auto auth = eci::detail::parse_acs3_authorization(request.header("authorization")))
            signatures.push_back(auth->signature);
        if (calls == 1)
            return service_error(503, "ServiceUnavailable", "busy");
        if (calls == 2)
            return service_error(400, "SignatureDoesNotMatch",
                                 "Specified signature does not match our calculation.");
        return json_reply(200, describe_body);
    });
    std::vector<std::string> lines;
    eci::Logger logger{eci::LogLevel::trace,
                       [&](eci::LogLevel, std::string_view line) { lines.emplace_back(line); }};
    auto config = config_for(server);
    config.credentials.security_token = "STS-TOKEN-SHOULD-NOT-LEAK";
    auto client = make_client(io, config, logger);
    run_with_deadline(io, [&]() -> asio::awaitable<void> {
        auto failed =
            co_await client.describe_container_groups(eci::DescribeContainerGroupsRequest());
        REQUIRE_FALSE(failed.ok());
        CHECK(fmt::format("{}", failed.error()).find(key_secret) == std::string::npos);
        auto ok = co_await client.describe_container_groups(eci::DescribeContainerGroupsRequest());
        CHECK(ok.ok());
    });
    REQUIRE_FALSE(lines.empty());
    REQUIRE(signatures.size() == 3);
    for (const auto& line : lines) {
        CHECK(line.find(key_secret) == std::string::npos);
        CHECK(line.find("STS-TOKEN-SHOULD-NOT-LEAK") == std::string::npos);
        for (const auto& signature : signatures)
            CHECK(line.find(signature) == std::string::npos);
    }
    CHECK(fmt::format("{}", client.config()).find(key_secret) == std::string::npos);
}

TEST_CASE("openapi: a service message that echoes the V2 string to sign hides the STS token",
          "[openapi][redact]") {
    // The real service answers a wrong secret under V2 with its string to sign, which holds
    // every parameter percent-encoded, SecurityToken included.
    asio::io_context io;
    std::string echoed;
    std::size_t calls = 0;
    TlsTestServer server(io, [&](const TestRequest& request) -> TestAction {
        ++calls;
        const auto seen = inspect(request);
        echoed = eci::detail::rpc_string_to_sign(request.method, seen.query);
        if (calls == 1)
            return service_error(400, "SignatureDoesNotMatch",
                                 "Specified signature is not matched with our calculation. "
                                 "server string to sign is:" +
                                     echoed);
        // A proxy's 502 that echoes the request as plain text.
        TestResponse reply;
        reply.status = 502;
        reply.headers = {{"Content-Type", "text/plain"}};
        reply.body = "Bad Gateway\r\nGET " + request.target +
                     " HTTP/1.1\r\nProxy-Authorization: Basic dXNlcjpQUk9YWS1QQVNT\r\n";
        reply.keep_alive = false;
        return reply;
    });
    std::vector<std::string> lines;
    eci::Logger logger{eci::LogLevel::trace,
                       [&](eci::LogLevel, std::string_view line) { lines.emplace_back(line); }};
    auto config = config_for(server);
    config.signature_version = eci::SignatureVersion::rpc_v2;
    config.credentials.security_token = "STS-TOKEN-SHOULD-NOT-LEAK";
    config.retry.max_attempts = 1;
    auto client = make_client(io, config, logger);
    std::vector<std::string> errors;
    run_with_deadline(io, [&]() -> asio::awaitable<void> {
        for (int i = 0; i < 2; ++i) {
            auto failed =
                co_await client.describe_container_groups(eci::DescribeContainerGroupsRequest());
            REQUIRE_FALSE(failed.ok());
            errors.push_back(fmt::format("{}", failed.error()));
            errors.push_back(failed.error().service_message);
            errors.push_back(failed.error().message);
        }
    });
    // The token really was echoed (percent-encoded twice: its '-' survives as is).
    REQUIRE(echoed.find("STS-TOKEN-SHOULD-NOT-LEAK") != std::string::npos);
    INFO(errors[0]);
    CHECK(errors[0].find("string to sign is:POST&%2F&") != std::string::npos);
    CHECK(errors[0].find("<redacted>") != std::string::npos);
    for (const auto& text : errors) {
        INFO(text);
        CHECK(text.find("STS-TOKEN-SHOULD-NOT-LEAK") == std::string::npos);
        CHECK(text.find("dXNlcjpQUk9YWS1QQVNT") == std::string::npos);
    }
    for (const auto& line : lines) {
        INFO(line);
        CHECK(line.find("STS-TOKEN-SHOULD-NOT-LEAK") == std::string::npos);
        CHECK(line.find("dXNlcjpQUk9YWS1QQVNT") == std::string::npos);
    }
}

TEST_CASE("openapi: SignatureNonceUsed on a repeatable call is a lost reply, retried afresh",
          "[openapi]") {
    // The transport re-sends a request once on a fresh connection when a pooled one looked
    // stale; if the first copy had reached the service, the copy's nonce is already spent.
    asio::io_context io;
    Recorder recorder;
    TlsTestServer server(io, [&](const TestRequest& request) -> TestAction {
        recorder.add(inspect(request));
        if (recorder.size() == 1)
            return service_error(400, "SignatureNonceUsed",
                                 "Specified signature nonce was used already.");
        return json_reply(200, R"({"RequestId":"REQ-OK","ContainerGroups":[],"TotalCount":0})");
    });
    auto client = make_client(io, config_for(server));
    run_with_deadline(io, [&]() -> asio::awaitable<void> {
        auto request = eci::DescribeContainerGroupsRequest();
        auto reply = co_await client.describe_container_groups(request);
        REQUIRE(reply.ok());
    });
    REQUIRE(recorder.size() == 2);
    CHECK(recorder.requests[0].nonce != recorder.requests[1].nonce);
    CHECK(client.stats().retries == 1);
}

TEST_CASE("openapi: SignatureNonceUsed on an exec is not retried", "[openapi]") {
    asio::io_context io;
    Recorder recorder;
    TlsTestServer server(io, [&](const TestRequest& request) -> TestAction {
        recorder.add(inspect(request));
        return service_error(400, "SignatureNonceUsed",
                             "Specified signature nonce was used already.");
    });
    auto client = make_client(io, config_for(server));
    run_with_deadline(io, [&]() -> asio::awaitable<void> {
        eci::ExecContainerCommandRequest request;
        request.container_group_id = "eci-abc123";
        request.container_name = "sandbox";
        request.command = {"echo", "once"};
        auto call = eci::CallOptions{};
        auto reply = co_await client.exec_container_command(request, call);
        REQUIRE_FALSE(reply.ok());
        CHECK(reply.error().code == "SignatureNonceUsed");
        CHECK(reply.error().kind == ErrorKind::auth);
    });
    CHECK(recorder.size() == 1);
    CHECK(client.stats().retries == 0);
}

TEST_CASE(
    "openapi: the call hook sees each attempt start and end or fail, and every call lands "
    "in its action's latency histogram",
    "[openapi][observe]") {
    asio::io_context io;
    std::size_t calls = 0;
    TlsTestServer server(io, [&](const TestRequest&) -> TestAction {
        ++calls;
        if (calls == 1)
            return service_error(503, "ServiceUnavailable", "busy");
        if (calls == 2)
            return json_reply(200, R"({"RequestId":"REQ-DELETED"})");
        return service_error(400, "InvalidParameter", "no such thing");
    });
    std::vector<eci::CallEvent> events;
    // The views die with the call: copied here (and never read from `events`).
    std::vector<std::string> actions;
    std::vector<std::string> request_ids;
    auto config = config_for(server);
    config.call_hook = [&](const eci::CallEvent& event) {
        events.push_back(event);
        actions.emplace_back(event.action);
        request_ids.emplace_back(event.request_id);
        if (event.phase == eci::CallPhase::end)
            throw std::runtime_error("a broken hook");  // must not change the call's result
    };
    auto client = make_client(io, config);
    run_with_deadline(io, [&]() -> asio::awaitable<void> {
        eci::DeleteContainerGroupRequest request;
        request.container_group_id = "eci-abc123";
        auto deleted = co_await client.delete_container_group(request);
        CHECK(deleted.ok());
        auto refused = co_await client.delete_container_group(request);
        CHECK_FALSE(refused.ok());
    });
    using eci::CallPhase;
    REQUIRE(events.size() == 6);
    for (const auto& action : actions)
        CHECK(action == "DeleteContainerGroup");
    // Call 1: a 503 (retried), then success on attempt 2.
    CHECK(events[0].phase == CallPhase::start);
    CHECK(events[0].attempt == 1);
    CHECK(events[1].phase == CallPhase::error);
    CHECK(events[1].attempt == 1);
    CHECK(events[1].will_retry);
    CHECK(events[1].error_kind == ErrorKind::service);
    CHECK(events[1].http_status == 503);
    CHECK(events[1].dispatch == eci::Dispatch::refused);
    CHECK(request_ids[1] == "REQ-ServiceUnavailable");
    CHECK(events[2].phase == CallPhase::start);
    CHECK(events[2].attempt == 2);
    CHECK(events[3].phase == CallPhase::end);
    CHECK(events[3].attempt == 2);
    CHECK(request_ids[3] == "REQ-DELETED");
    CHECK(events[3].http_status == 200);
    CHECK(events[3].latency > std::chrono::microseconds(0));
    CHECK(events[3].call_elapsed >= events[3].latency + events[1].latency);
    // Call 2: refused for good.
    CHECK(events[4].phase == CallPhase::start);
    CHECK(events[4].attempt == 1);
    CHECK(events[5].phase == CallPhase::error);
    CHECK_FALSE(events[5].will_retry);
    CHECK(events[5].error_kind == ErrorKind::invalid_argument);
    CHECK(events[5].http_status == 400);
    for (const auto& event : events) {
        const bool measured = event.phase == CallPhase::start ? event.latency.count() == 0
                                                              : event.latency.count() > 0;
        CHECK(measured);
    }

    const auto stats = client.stats();
    CHECK(stats.api_calls.at("DeleteContainerGroup") == 3);  // attempts
    const auto& histogram = stats.api_latency.at("DeleteContainerGroup");
    CHECK(histogram.count == 2);  // calls
    CHECK(histogram.max >= events[3].call_elapsed);
    CHECK(stats.api_failures.at("DeleteContainerGroup") == 1);
    CHECK(stats.api_latency.count("DescribeContainerGroups") == 0);
}

TEST_CASE("openapi: debug lines carry the action, sandbox, RequestId, attempt and latency fields",
          "[openapi][observe]") {
    asio::io_context io;
    std::size_t calls = 0;
    TlsTestServer server(io, [&](const TestRequest&) -> TestAction {
        ++calls;
        if (calls == 1)
            return service_error(503, "ServiceUnavailable", "busy");
        return json_reply(200, R"({"RequestId":"REQ-DELETED"})");
    });
    struct Line {
        eci::LogLevel level;
        std::string message, action, sandbox_id, request_id, error_code;
        int attempt;
        bool has_latency;
    };
    std::vector<Line> lines;
    eci::Logger logger;
    logger.level = eci::LogLevel::debug;
    logger.record_sink = [&](const eci::LogRecord& record) {
        const auto& f = record.fields;
        lines.push_back(Line{record.level, std::string(record.message), std::string(f.action),
                             std::string(f.sandbox_id), std::string(f.request_id),
                             std::string(f.error_code), f.attempt, f.latency.has_value()});
    };
    auto client = make_client(io, config_for(server), logger);
    run_with_deadline(io, [&]() -> asio::awaitable<void> {
        eci::DeleteContainerGroupRequest request;
        request.container_group_id = "eci-abc123";
        auto deleted = co_await client.delete_container_group(request);
        CHECK(deleted.ok());
    });
    // attempt 1, its failure (info: it is retried), attempt 2, the call's end.
    REQUIRE(lines.size() == 4);
    for (const auto& line : lines) {
        INFO(line.message);
        CHECK(line.action == "DeleteContainerGroup");
        CHECK(line.sandbox_id == "eci-abc123");
    }
    CHECK(lines[0].attempt == 1);
    CHECK(lines[1].level == eci::LogLevel::info);
    CHECK(lines[1].error_code == "ServiceUnavailable");
    CHECK(lines[1].request_id == "REQ-ServiceUnavailable");
    CHECK(lines[1].has_latency);
    CHECK(lines[2].attempt == 2);
    CHECK(lines[3].level == eci::LogLevel::debug);
    CHECK(lines[3].request_id == "REQ-DELETED");
    CHECK(lines[3].attempt == 2);
    CHECK(lines[3].has_latency);
    CHECK(lines[3].message.find("succeeded") != std::string::npos);
}
