// SPDX-License-Identifier: Apache-2.0
// The one dialer (lib/net/tls_dialer.hpp): the proxy decision per target host, and the same
// failed dial reported the same way by the HTTP client and the exec WebSocket.
#include "net/tls_dialer.hpp"
#include "net/exec_websocket.hpp"
#include "net/http_client.hpp"
#include "net/tls_context.hpp"
#include "support/connect_proxy.hpp"
#include "support/run_with_deadline.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <catch2/catch.hpp>

#include <fmt/format.h>

#include <chrono>
#include <optional>
#include <string>

namespace asio = boost::asio;
using namespace std::chrono_literals;
using eci::Dispatch;
using eci::Error;
using eci::ErrorKind;
using eci::detail::DialSettings;
using eci::detail::DialStage;

namespace {

// A loopback port with nothing listening: bound once, then released.
std::uint16_t unused_port(asio::io_context& io) {
    asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
    return acceptor.local_endpoint().port();
}

struct Dial {
    std::string scheme;  // "https" or "http" for the HTTP client; wss/ws for the WebSocket
    std::uint16_t port = 0;
    std::string proxy_url;
    std::chrono::milliseconds timeout = 5000ms;  // connect and handshake alike
};

// The error of one HTTP request dialed as `dial` says.
Error http_client_error(asio::io_context& io, const Dial& dial) {
    eci::detail::HttpClientOptions options;
    options.scheme = dial.scheme;
    options.host = "127.0.0.1";
    options.port = dial.port;
    options.proxy_url = dial.proxy_url;
    options.connect_timeout = dial.timeout;
    auto client = eci::detail::HttpClient::create(io.get_executor(), options);
    REQUIRE(client.ok());
    std::optional<Error> error;
    eci::test::run_with_deadline(io, [&]() -> asio::awaitable<void> {
        // A named request: GCC 12 frees a braced temporary in a co_await expression wrongly
        // (issue 15, item 6).
        eci::detail::HttpRequest request;
        auto response = co_await client->send(std::move(request));
        REQUIRE_FALSE(response.ok());
        error = response.error();
    });
    return *error;
}

// The error of one exec WebSocket connect dialed as `dial` says.
Error websocket_error(asio::io_context& io, const Dial& dial) {
    auto context = eci::detail::make_client_tls_context({});
    REQUIRE(context.ok());
    eci::detail::ExecWebSocketOptions options;
    options.proxy_url = dial.proxy_url;
    options.connect_timeout = dial.timeout;
    options.handshake_timeout = dial.timeout;
    eci::detail::ExecWebSocket socket(io.get_executor(), **context, options);
    std::optional<Error> error;
    eci::test::run_with_deadline(io, [&]() -> asio::awaitable<void> {
        auto connected = co_await socket.connect(
            fmt::format("{}://127.0.0.1:{}/exec/?s=TOKEN", dial.scheme, dial.port));
        REQUIRE_FALSE(connected.ok());
        error = connected.error();
    });
    return *error;
}

std::string stage_prefix(DialStage stage) {
    return fmt::format("{}: ", eci::detail::to_string(stage));
}

// Both clients' errors for the same failed dial: same kind, stage, endpoint and dispatch.
void check_same(const Error& http, const Error& websocket, ErrorKind kind, DialStage stage,
                std::uint16_t port) {
    INFO("http client: " << http.to_string());
    INFO("websocket:   " << websocket.to_string());
    CHECK(http.kind == kind);
    CHECK(websocket.kind == kind);
    CHECK_THAT(http.message, Catch::StartsWith(stage_prefix(stage)));
    CHECK_THAT(websocket.message, Catch::StartsWith(stage_prefix(stage)));
    CHECK(http.endpoint == fmt::format("127.0.0.1:{}", port));
    CHECK(websocket.endpoint == http.endpoint);
    CHECK(http.dispatch == Dispatch::not_sent);
    CHECK(websocket.dispatch == Dispatch::not_sent);
    CHECK(http.http_status == websocket.http_status);
}

}  // namespace

TEST_CASE("tls dialer: the proxy decision is made for each target host", "[tls_dialer]") {
    DialSettings settings;
    settings.proxy.https_proxy = "http://alice:p%40ss@proxy.internal:3128";
    settings.proxy.no_proxy = "127.0.0.1,.internal.example";

    auto bypassed = eci::detail::plan_dial("127.0.0.1", 8443, settings);
    REQUIRE(bypassed.ok());
    CHECK_FALSE(bypassed->proxy.has_value());
    CHECK(bypassed->endpoint == "127.0.0.1:8443");

    auto sub_domain = eci::detail::plan_dial("api.internal.example", 443, settings);
    REQUIRE(sub_domain.ok());
    CHECK_FALSE(sub_domain->proxy.has_value());

    auto proxied = eci::detail::plan_dial("localhost", 443, settings);
    REQUIRE(proxied.ok());
    REQUIRE(proxied->proxy.has_value());
    CHECK(proxied->proxy->host == "proxy.internal");
    CHECK(proxied->proxy->port == 3128);
    CHECK(proxied->proxy->authority == "proxy.internal:3128");
    // base64("alice:p@ss"): the user info percent-decoded, then encoded once, by core.
    CHECK(proxied->proxy->authorization == "Basic YWxpY2U6cEBzcw==");

    auto v6 = eci::detail::plan_dial("::1", 443, settings);
    REQUIRE(v6.ok());
    CHECK(v6->endpoint == "[::1]:443");
    CHECK(v6->proxy.has_value());

    // A proxy URL that does not parse fails the dial only where it would be used.
    settings.proxy.https_proxy = "https://secret@proxy.internal";
    CHECK(eci::detail::plan_dial("127.0.0.1", 443, settings).ok());
    auto broken = eci::detail::plan_dial("localhost", 443, settings);
    REQUIRE_FALSE(broken.ok());
    CHECK(broken.error().kind == ErrorKind::invalid_argument);
    CHECK(broken.error().endpoint == "localhost:443");
    CHECK_THAT(broken.error().to_string(), !Catch::Contains("secret"));
}

TEST_CASE("tls dialer: HTTP client and WebSocket report an unreachable port alike",
          "[tls_dialer]") {
    const bool secure = GENERATE(false, true);
    asio::io_context io;
    const std::uint16_t port = unused_port(io);
    const Error http = http_client_error(io, {secure ? "https" : "http", port, "", 5000ms});
    const Error websocket = websocket_error(io, {secure ? "wss" : "ws", port, "", 5000ms});
    check_same(http, websocket, ErrorKind::network, DialStage::connect, port);
}

TEST_CASE("tls dialer: HTTP client and WebSocket report a TLS handshake that never answers alike",
          "[tls_dialer]") {
    asio::io_context io;
    // Listening, so TCP connects (into the backlog), but nobody ever answers the ClientHello.
    asio::ip::tcp::acceptor silent(io, {asio::ip::make_address("127.0.0.1"), 0});
    const std::uint16_t port = silent.local_endpoint().port();
    const auto start = std::chrono::steady_clock::now();
    const Error http = http_client_error(io, {"https", port, "", 200ms});
    const Error websocket = websocket_error(io, {"wss", port, "", 200ms});
    CHECK(std::chrono::steady_clock::now() - start < 5s);
    check_same(http, websocket, ErrorKind::timeout, DialStage::tls_handshake, port);
    CHECK_THAT(http.message, Catch::Contains("200 ms"));
    CHECK_THAT(websocket.message, Catch::Contains("200 ms"));
}

TEST_CASE("tls dialer: HTTP client and WebSocket report a proxy that refuses CONNECT alike",
          "[tls_dialer]") {
    const bool secure = GENERATE(false, true);
    asio::io_context io;
    eci::test::ConnectProxy proxy(io, {"alice", "right"});
    const std::uint16_t port = unused_port(io);
    const std::string proxy_url = proxy.url("alice", "wrong-password");
    const Error http = http_client_error(io, {secure ? "https" : "http", port, proxy_url, 5000ms});
    const Error websocket = websocket_error(io, {secure ? "wss" : "ws", port, proxy_url, 5000ms});
    check_same(http, websocket, ErrorKind::auth, DialStage::proxy, port);
    CHECK(http.http_status == 407);
    CHECK_THAT(http.message, Catch::Contains(fmt::format("proxy 127.0.0.1:{}", proxy.port())));
    CHECK_THAT(http.to_string(), !Catch::Contains("wrong-password"));
    CHECK_THAT(websocket.to_string(), !Catch::Contains("wrong-password"));
    CHECK(proxy.refused_requests() == 2);
}
