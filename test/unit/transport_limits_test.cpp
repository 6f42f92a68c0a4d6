// SPDX-License-Identifier: Apache-2.0
// Limits on everything a server sends, through the real transport against the in-process
// test servers: header and body sizes, stalled and trickling servers (the read timeout is one
// deadline for the whole response, not per byte), truncated and malformed bodies, JSON depth,
// wrong content types. Each ends in a bounded, classified error with a short excerpt.
#include <eci/openapi_client.hpp>

#include "net/http_client.hpp"
#include "support/run_with_deadline.hpp"
#include "support/tls_test_server.hpp"

#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>

#include <string>

namespace asio = boost::asio;
using namespace std::chrono_literals;
using eci::ErrorKind;
using eci::detail::HttpClient;
using eci::detail::HttpClientOptions;
using eci::detail::HttpRequest;
using eci::test::run_with_deadline;
using eci::test::TestAction;
using eci::test::TestRequest;
using eci::test::TestResponse;
using eci::test::TlsTestServer;

namespace {

HttpClientOptions limits_options(const TlsTestServer& server) {
    HttpClientOptions options = eci::test::http_client_options(server);
    options.read_timeout = 1s;
    return options;
}

// Sends one GET and returns the result, with the time it took.
struct Outcome {
    eci::Result<eci::detail::HttpResponse> response = eci::Error{};
    std::chrono::steady_clock::duration took{};
};

Outcome get_once(asio::io_context& io, HttpClientOptions options) {
    auto client = HttpClient::create(io.get_executor(), std::move(options));
    REQUIRE(client.ok());
    Outcome outcome;
    run_with_deadline(io, [&]() -> asio::awaitable<void> {
        HttpRequest request;
        request.target = "/limits";
        const auto started = std::chrono::steady_clock::now();
        outcome.response = co_await client->send(std::move(request));
        outcome.took = std::chrono::steady_clock::now() - started;
    });
    return outcome;
}

eci::test::TestHandler raw(std::string bytes, bool close_after) {
    return [bytes, close_after](const TestRequest&) -> TestAction {
        return eci::test::SendRaw{bytes, close_after};
    };
}

bool contains(const std::string& text, std::string_view part) {
    return text.find(part) != std::string::npos;
}

eci::ClientConfig config_for(const TlsTestServer& server) {
    eci::ClientConfig config;
    config.credentials = {"LTAIlimits", "limits-secret", ""};
    config.endpoint = {"https", "localhost", server.port()};
    config.tls.ca_file = server.ca_file();
    config.timeouts.read = 2000ms;
    config.retry.enabled = false;
    return config;
}

// Runs one DescribeContainerGroups against a server answering 200 with `body` and
// `content_type`; returns the error it must fail with.
eci::Error describe_error(std::string body, std::string content_type) {
    asio::io_context io;
    TlsTestServer server(io, [&](const TestRequest&) -> TestAction {
        TestResponse response;
        response.headers = {{"Content-Type", content_type}};
        response.body = body;
        return response;
    });
    auto client = eci::OpenApiClient::create(io.get_executor(), config_for(server));
    REQUIRE(client.ok());
    eci::Error error;
    run_with_deadline(io, [&]() -> asio::awaitable<void> {
        auto request = eci::DescribeContainerGroupsRequest();
        auto reply = co_await client->describe_container_groups(request);
        REQUIRE_FALSE(reply.ok());
        error = reply.error();
    });
    return error;
}

}  // namespace

TEST_CASE("transport limits: a response header over max_header_bytes is a protocol error",
          "[transport_limits]") {
    asio::io_context io;
    TlsTestServer server(io, raw("HTTP/1.1 200 OK\r\nX-Big: " + std::string(100 * 1024, 'h') +
                                     "\r\nContent-Length: 0\r\n\r\n",
                                 false));
    auto options = limits_options(server);
    options.max_header_bytes = 8 * 1024;
    auto outcome = get_once(io, options);
    REQUIRE_FALSE(outcome.response.ok());
    CHECK(outcome.response.error().kind == ErrorKind::protocol);
    CHECK(contains(outcome.response.error().message, "header"));
    CHECK(contains(outcome.response.error().message, "8192"));
}

TEST_CASE("transport limits: a chunked body over max_body_bytes is a protocol error",
          "[transport_limits]") {
    asio::io_context io;
    // No Content-Length: the limit must hold while the chunks arrive, not only up front.
    std::string chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (int i = 0; i < 64; ++i)
        chunked += "400\r\n" + std::string(1024, 'b') + "\r\n";
    chunked += "0\r\n\r\n";
    TlsTestServer server(io, raw(chunked, true));
    auto options = limits_options(server);
    options.max_body_bytes = 16 * 1024;
    auto outcome = get_once(io, options);
    REQUIRE_FALSE(outcome.response.ok());
    CHECK(outcome.response.error().kind == ErrorKind::protocol);
    CHECK(contains(outcome.response.error().message, "16384"));
}

TEST_CASE("transport limits: a server that sends headers and stalls hits the read timeout",
          "[transport_limits]") {
    asio::io_context io;
    TlsTestServer server(
        io, raw("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly part of it", false));
    auto outcome = get_once(io, limits_options(server));
    REQUIRE_FALSE(outcome.response.ok());
    CHECK(outcome.response.error().kind == ErrorKind::timeout);
    CHECK(outcome.response.error().dispatch == eci::Dispatch::unknown);
    CHECK(outcome.took < 3s);
}

TEST_CASE("transport limits: a trickling server hits the read timeout as one overall deadline",
          "[transport_limits]") {
    asio::io_context io;
    // A complete, valid response, one byte every 100 ms: each byte arrives well within the
    // 1 s read timeout, the whole would take ~10 s. Per-byte timeouts would never fire.
    const std::string response =
        "HTTP/1.1 200 OK\r\nContent-Length: 60\r\n\r\n" + std::string(60, 't');
    TlsTestServer server(io, [&](const TestRequest&) -> TestAction {
        return eci::test::Trickle{response, 100ms};
    });
    auto outcome = get_once(io, limits_options(server));
    REQUIRE_FALSE(outcome.response.ok());
    CHECK(outcome.response.error().kind == ErrorKind::timeout);
    CHECK(outcome.took >= 900ms);
    CHECK(outcome.took < 3s);
}

TEST_CASE("transport limits: a body cut short by the server is a network error, outcome unknown",
          "[transport_limits]") {
    asio::io_context io;
    TlsTestServer server(
        io, raw("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"RequestId\":\"cut", true));
    auto outcome = get_once(io, limits_options(server));
    REQUIRE_FALSE(outcome.response.ok());
    // The connection ended mid-body: the same as any drop (retried when that is safe).
    CHECK(outcome.response.error().kind == ErrorKind::network);
    CHECK(outcome.response.error().dispatch == eci::Dispatch::unknown);
}

TEST_CASE(
    "transport limits: malformed, truncated and too deep JSON are protocol errors with "
    "an excerpt",
    "[transport_limits]") {
    SECTION("an HTML page with the wrong content type") {
        auto error = describe_error("<html><body>Gateway login required</body></html>",
                                    "text/html; charset=utf-8");
        INFO(error.to_string());
        CHECK(error.kind == ErrorKind::protocol);
        CHECK(contains(error.message, "<html><body>Gateway login"));
        CHECK(contains(error.message, "Content-Type: text/html"));
        CHECK(error.dispatch == eci::Dispatch::unknown);
    }
    SECTION("JSON truncated within a complete HTTP body") {
        auto error =
            describe_error(R"({"RequestId":"R1","ContainerGroups":[{"Contai)", "application/json");
        INFO(error.to_string());
        CHECK(error.kind == ErrorKind::protocol);
        CHECK(contains(error.message, "RequestId"));
    }
    SECTION("nesting deeper than the limit") {
        auto error =
            describe_error(std::string(10000, '[') + std::string(10000, ']'), "application/json");
        INFO(error.to_string());
        CHECK(error.kind == ErrorKind::protocol);
        CHECK(error.message.size() < 400);  // an excerpt, never the whole body
    }
    SECTION("a huge non-JSON body is quoted only by a short excerpt") {
        auto error = describe_error(std::string(1024 * 1024, 'z'), "application/json");
        CHECK(error.kind == ErrorKind::protocol);
        CHECK(error.message.size() < 400);
    }
    SECTION("a JSON field of the wrong type") {
        auto error =
            describe_error(R"({"RequestId":"R1","TotalCount":"many"})", "application/json");
        CHECK(error.kind == ErrorKind::protocol);
        CHECK(contains(error.message, "TotalCount"));
    }
}
