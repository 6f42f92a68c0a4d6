// SPDX-License-Identifier: Apache-2.0
// HttpClient against the in-process test server and CONNECT proxy, over loopback.
#include "net/http_client.hpp"

#include "support/connect_proxy.hpp"
#include "support/run_with_deadline.hpp"
#include "support/tls_test_server.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <catch2/catch.hpp>

#include <optional>

namespace asio = boost::asio;
using namespace std::chrono_literals;
using eci::Dispatch;
using eci::ErrorKind;
using eci::Result;
using eci::detail::HttpClient;
using eci::detail::HttpClientOptions;
using eci::detail::HttpRequest;
using eci::detail::HttpResponse;
using eci::test::http_client_options;
using eci::test::run_with_deadline;
using eci::test::TestAction;
using eci::test::TestRequest;
using eci::test::TestResponse;
using eci::test::TlsTestServer;
using eci::test::wait_until;

namespace {

HttpClient make_client(asio::io_context& io, HttpClientOptions options) {
    auto client = HttpClient::create(io.get_executor(), std::move(options));
    if (!client)
        FAIL(client.error().to_string());
    return std::move(client).value();
}

eci::test::TestHandler reply(std::string body) {
    return [body](const TestRequest&) -> TestAction { return TestResponse{200, {}, body, true}; };
}

HttpRequest get(std::string target = "/", bool idempotent = true) {
    HttpRequest request;
    request.method = "GET";
    request.target = std::move(target);
    request.idempotent = idempotent;
    return request;
}

bool contains(const std::string& text, std::string_view part) {
    return text.find(part) != std::string::npos;
}

// A loopback port with nothing listening: bound once, then released.
std::uint16_t unused_port(asio::io_context& io) {
    asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
    return acceptor.local_endpoint().port();
}

}  // namespace

TEST_CASE("http_client: sequential requests reuse one TLS connection", "[http_client]") {
    asio::io_context io;
    TlsTestServer server(io, [](const TestRequest& request) -> TestAction {
        return TestResponse{200, {{"X-Echo", request.target}}, "body of " + request.target, true};
    });
    auto client = make_client(io, http_client_options(server));
    run_with_deadline(io, [&]() -> asio::awaitable<void> {
        for (int i = 0; i < 5; ++i) {
            auto response = co_await client.send(get("/item/" + std::to_string(i)));
            REQUIRE(response.ok());
            CHECK(response->status == 200);
            CHECK(response->body == "body of /item/" + std::to_string(i));
            CHECK(response->header("x-echo") == "/item/" + std::to_string(i));
        }
    });
    CHECK(client.stats().requests == 5);
    CHECK(client.stats().tls_handshakes == 1);
    CHECK(client.stats().connections_opened == 1);
    CHECK(client.stats().bytes_received > 0);
    CHECK(client.stats().bytes_sent > 0);
    CHECK(server.tls_handshakes() == 1);
    CHECK(server.accepted_connections() == 1);
}

TEST_CASE("http_client: request headers and body reach the server", "[http_client]") {
    asio::io_context io;
    std::optional<TestRequest> seen;
    TlsTestServer server(io, [&](const TestRequest& request) -> TestAction {
        seen = request;
        return TestResponse{201, {}, "", true};
    });
    auto client = make_client(io, http_client_options(server));
    run_with_deadline(io, [&]() -> asio::awaitable<void> {
        HttpRequest request;
        request.method = "POST";
        request.target = "/submit?x=1";
        request.headers = {{"Content-Type", "application/json"}};
        request.body = R"({"a":1})";
        auto response = co_await client.send(std::move(request));
        REQUIRE(response.ok());
        CHECK(response->status == 201);
    });
    REQUIRE(seen);
    CHECK(seen->method == "POST");
    CHECK(seen->target == "/submit?x=1");
    CHECK(seen->body == R"({"a":1})");
    CHECK(seen->header("content-type") == "application/json");
    CHECK(seen->header("host") == "127.0.0.1:" + std::to_string(server.port()));
}

TEST_CASE("http_client: plain http works without TLS", "[http_client]") {
    asio::io_context io;
    eci::test::TestServerOptions server_options;
    server_options.tls = false;
    TlsTestServer server(io, reply("plain"), server_options);
    auto options = http_client_options(server);
    options.scheme = "http";
    auto client = make_client(io, options);
    run_with_deadline(io, [&]() -> asio::awaitable<void> {
        auto response = co_await client.send(get());
        REQUIRE(response.ok());
        CHECK(response->body == "plain");
    });
    CHECK(client.stats().tls_handshakes == 0);
}

TEST_CASE("http_client: concurrent requests never open more than max_connections",
          "[http_client]") {
    asio::io_context io;
    TlsTestServer server(io, [](const TestRequest&) -> TestAction {
        return eci::test::ReplyAfter{20ms, TestResponse{200, {}, "slow", true}};
    });
    auto options = http_client_options(server);
    options.max_connections = 2;
    auto client = make_client(io, options);
    constexpr int request_count = 8;
    int succeeded = 0, finished = 0;
    run_with_deadline(io, [&]() -> asio::awaitable<void> {
        for (int i = 0; i < request_count; ++i)
            asio::co_spawn(
                io,
                [&]() -> asio::awaitable<void> {
                    auto response = co_await client.send(get());
                    if (response.ok() && response->body == "slow")
                        ++succeeded;
                    ++finished;
                },
                asio::detached);
        REQUIRE(co_await wait_until([&] { return finished == request_count; }, 10s));
    });
    CHECK(succeeded == request_count);
    CHECK(client.stats().tls_handshakes <= 2);
    CHECK(server.accepted_connections() <= 2);
    CHECK(server.requests() == request_count);
}

TEST_CASE("http_client: a slow server hits the read timeout", "[http_client]") {
    asio::io_context io;
    TlsTestServer server(io, [](const TestRequest&) -> TestAction {
        return eci::test::ReplyAfter{5000ms, TestResponse{}};
    });
    auto options = http_client_options(server);
    options.read_timeout = 100ms;
    auto client = make_client(io, options);
    run_with_deadline(io, [&]() -> asio::awaitable<void> {
        auto start = std::chrono::steady_clock::now();
        auto response = co_await client.send(get());
        auto elapsed = std::chrono::steady_clock::now() - start;
        REQUIRE_FALSE(response.ok());
        CHECK(response.error().kind == ErrorKind::timeout);
        CHECK(response.error().dispatch == Dispatch::unknown);
        CHECK(elapsed < 2s);
        // The connection was abandoned, not pooled: the server sees it closed.
        CHECK(co_await wait_until([&] { return server.closed_connections() == 1; }));
    });
}

TEST_CASE("http_client: the read timeout ends with its exchange", "[http_client]") {
    asio::io_context io;
    TlsTestServer server(io, reply("fast"));
    auto options = http_client_options(server);
    options.read_timeout = 100ms;
    auto client = make_client(io, options);
    run_with_deadline(io, [&]() -> asio::awaitable<void> {
        for (int i = 0; i < 3; ++i) {
            auto response = co_await client.send(get("/", false));
            INFO((response.ok() ? std::string("ok") : response.error().to_string()));
            REQUIRE(response.ok());
            // Idle in the pool for longer than read_timeout: the deadline of the exchange
            // that just ended must not close the pooled connection.
            asio::steady_timer pause(co_await asio::this_coro::executor, 300ms);
            co_await pause.async_wait(asio::use_awaitable);
        }
    });
    CHECK(client.stats().connections_opened == 1);
    CHECK(client.stats().stale_retries == 0);
    CHECK(server.closed_connections() == 0);
}

TEST_CASE("http_client: a refused connection is a network error, not sent", "[http_client]") {
    asio::io_context io;
    HttpClientOptions options;
    options.scheme = "https";
    options.host = "127.0.0.1";
    options.port = unused_port(io);
    auto client = make_client(io, options);
    run_with_deadline(io, [&]() -> asio::awaitable<void> {
        auto response = co_await client.send(get());
        REQUIRE_FALSE(response.ok());
        CHECK(response.error().kind == ErrorKind::network);
        CHECK(response.error().dispatch == Dispatch::not_sent);
        CHECK(response.error().endpoint == "127.0.0.1:" + std::to_string(options.port));
    });
}

TEST_CASE("http_client: an untrusted certificate names the CA file setting", "[http_client]") {
    asio::io_context io;
    TlsTestServer server(io, reply("secret"));
    auto options = http_client_options(server);
    options.ca_file.clear();  // system CAs only: our test CA is unknown there
    auto client = make_client(io, options);
    run_with_deadline(io, [&]() -> asio::awaitable<void> {
        auto response = co_await client.send(get());
        REQUIRE_FALSE(response.ok());
        CHECK(response.error().kind == ErrorKind::tls);
        CHECK(response.error().dispatch == Dispatch::not_sent);
        CHECK(contains(response.error().message, "not trusted"));
        CHECK(contains(response.error().message, "ECI_SANDBOX_CA_FILE"));
        CHECK(contains(response.error().message, "TlsConfig::ca_file"));
        CHECK(contains(response.error().message, "certificate"));  // OpenSSL's reason
    });
    CHECK(server.requests() == 0);
}

TEST_CASE("http_client: an unreadable CA file is refused at creation", "[http_client]") {
    asio::io_context io;
    HttpClientOptions options;
    options.host = "127.0.0.1";
    options.ca_file = "/nonexistent/ca.pem";
    auto client = HttpClient::create(io.get_executor(), options);
    REQUIRE_FALSE(client.ok());
    CHECK(client.error().kind == ErrorKind::invalid_argument);
    CHECK(contains(client.error().message, "/nonexistent/ca.pem"));
}

TEST_CASE("http_client: a certificate for another host name is refused", "[http_client]") {
    asio::io_context io;
    eci::test::TestServerOptions server_options;
    server_options.dns_names = {"other.example"};
    server_options.ip_addresses = {};
    TlsTestServer server(io, reply("wrong host"), server_options);
    auto client =
        make_client(io, http_client_options(server));  // trusts the CA, asks for 127.0.0.1
    run_with_deadline(io, [&]() -> asio::awaitable<void> {
        auto response = co_await client.send(get());
        REQUIRE_FALSE(response.ok());
        CHECK(response.error().kind == ErrorKind::tls);
        CHECK(contains(response.error().message, "does not match"));
    });
    CHECK(server.requests() == 0);
}

TEST_CASE("http_client: a server closing without a reply is a network error, outcome unknown",
          "[http_client]") {
    asio::io_context io;
    TlsTestServer server(
        io, [](const TestRequest&) -> TestAction { return eci::test::CloseWithoutReply{}; });
    auto client = make_client(io, http_client_options(server));
    run_with_deadline(io, [&]() -> asio::awaitable<void> {
        auto response = co_await client.send(get("/", false));
        REQUIRE_FALSE(response.ok());
        CHECK(response.error().kind == ErrorKind::network);
        CHECK(response.error().dispatch == Dispatch::unknown);
    });
    CHECK(client.stats().stale_retries == 0);
}

TEST_CASE("http_client: a stale pooled connection is retried for an idempotent request",
          "[http_client]") {
    asio::io_context io;
    int calls = 0;
    TlsTestServer server(io, [&](const TestRequest&) -> TestAction {
        // The first answer leaves a keep-alive connection the server then closes.
        if (++calls == 1)
            return eci::test::ReplyThenClose{TestResponse{200, {}, "first", true}};
        return TestResponse{200, {}, "second", true};
    });
    auto client = make_client(io, http_client_options(server));
    run_with_deadline(io, [&]() -> asio::awaitable<void> {
        auto first = co_await client.send(get());
        REQUIRE(first.ok());
        REQUIRE(co_await wait_until([&] { return server.closed_connections() == 1; }));
        auto second = co_await client.send(get());
        REQUIRE(second.ok());
        CHECK(second->body == "second");
    });
    CHECK(client.stats().stale_retries == 1);
    CHECK(client.stats().tls_handshakes == 2);
}

TEST_CASE("http_client: a stale pooled connection is not retried for a non-idempotent request",
          "[http_client]") {
    asio::io_context io;
    TlsTestServer server(io, [](const TestRequest&) -> TestAction {
        return eci::test::ReplyThenClose{TestResponse{200, {}, "once", true}};
    });
    auto client = make_client(io, http_client_options(server));
    run_with_deadline(io, [&]() -> asio::awaitable<void> {
        auto first = co_await client.send(get("/", false));
        INFO((first.ok() ? std::string("ok") : first.error().to_string()));
        REQUIRE(first.ok());
        REQUIRE(co_await wait_until([&] { return server.closed_connections() == 1; }));
        auto second = co_await client.send(get("/", false));
        REQUIRE_FALSE(second.ok());
        CHECK(second.error().kind == ErrorKind::network);
        CHECK(second.error().dispatch == Dispatch::unknown);
    });
    CHECK(client.stats().stale_retries == 0);
    CHECK(server.requests() == 1);
}

TEST_CASE("http_client: a response delimited by the end of the stream is not pooled",
          "[http_client]") {
    asio::io_context io;
    eci::test::TestServerOptions server_options;
    server_options.tls = false;
    // No Content-Length, not chunked: the body is everything up to the server's close.
    TlsTestServer server(
        io,
        [](const TestRequest&) -> TestAction {
            return eci::test::SendRaw{"HTTP/1.1 200 OK\r\n\r\nuntil the end", true};
        },
        server_options);
    auto options = http_client_options(server);
    options.scheme = "http";
    auto client = make_client(io, options);
    run_with_deadline(io, [&]() -> asio::awaitable<void> {
        for (int i = 0; i < 2; ++i) {
            // Not idempotent: a reused dead connection would fail it, not retry it.
            auto response = co_await client.send(get("/", false));
            INFO((response.ok() ? std::string("ok") : response.error().to_string()));
            REQUIRE(response.ok());
            CHECK(response->body == "until the end");
        }
    });
    CHECK(client.stats().connections_opened == 2);
    CHECK(client.stats().stale_retries == 0);
}

TEST_CASE("http_client: a connection idle past idle_timeout is closed, not reused",
          "[http_client]") {
    asio::io_context io;
    TlsTestServer server(io, reply("ok"));
    auto options = http_client_options(server);
    options.idle_timeout = 50ms;
    auto client = make_client(io, options);
    run_with_deadline(io, [&]() -> asio::awaitable<void> {
        auto first = co_await client.send(get());
        REQUIRE(first.ok());
        asio::steady_timer idle(co_await asio::this_coro::executor, 100ms);
        co_await idle.async_wait(asio::use_awaitable);
        auto second = co_await client.send(get());
        REQUIRE(second.ok());
        // The expired connection was closed when the pool was next used.
        CHECK(co_await wait_until([&] { return server.closed_connections() == 1; }, 3s));
    });
    CHECK(client.stats().tls_handshakes == 2);
    CHECK(client.stats().stale_retries == 0);
}

TEST_CASE("http_client: idle pooled connections do not keep io_context::run() going",
          "[http_client]") {
    asio::io_context io;
    TlsTestServer server(io, reply("ok"));
    auto options = http_client_options(server);
    options.idle_timeout = 60s;
    auto client = make_client(io, options);
    bool answered = false;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            auto response = co_await client.send(get());
            answered = response.ok();
            server.stop();
        },
        asio::detached);
    // run() returns once the call and the server are done, with the client (and its idle
    // connection) still alive: nothing waits out the 60 s idle_timeout.
    const auto started = std::chrono::steady_clock::now();
    io.run_for(10s);
    CHECK(answered);
    CHECK(std::chrono::steady_clock::now() - started < 9s);
    CHECK(client.stats().tls_handshakes == 1);
}

TEST_CASE("http_client: a garbage response is a protocol error", "[http_client]") {
    asio::io_context io;
    TlsTestServer server(io, [](const TestRequest&) -> TestAction {
        return eci::test::SendRaw{"this is not HTTP at all\r\n\r\n", false};
    });
    auto client = make_client(io, http_client_options(server));
    run_with_deadline(io, [&]() -> asio::awaitable<void> {
        auto response = co_await client.send(get());
        REQUIRE_FALSE(response.ok());
        CHECK(response.error().kind == ErrorKind::protocol);
        CHECK(response.error().dispatch == Dispatch::unknown);
    });
}

TEST_CASE("http_client: a body over max_body_bytes is a protocol error", "[http_client]") {
    asio::io_context io;
    TlsTestServer server(io, reply(std::string(64 * 1024, 'x')));
    auto options = http_client_options(server);
    options.max_body_bytes = 1024;
    auto client = make_client(io, options);
    run_with_deadline(io, [&]() -> asio::awaitable<void> {
        auto response = co_await client.send(get());
        REQUIRE_FALSE(response.ok());
        CHECK(response.error().kind == ErrorKind::protocol);
        CHECK(contains(response.error().message, "1024"));
    });
}

TEST_CASE("http_client: requests go through an HTTP CONNECT proxy", "[http_client]") {
    asio::io_context io;
    TlsTestServer server(io, reply("via proxy"));
    eci::test::ConnectProxy proxy(io);
    auto options = http_client_options(server);
    options.proxy_url = proxy.url();
    auto client = make_client(io, options);
    run_with_deadline(io, [&]() -> asio::awaitable<void> {
        for (int i = 0; i < 2; ++i) {
            auto response = co_await client.send(get());
            REQUIRE(response.ok());
            CHECK(response->body == "via proxy");
        }
    });
    CHECK(proxy.tunnels() == 1);  // the tunnelled connection is kept alive
    CHECK(client.stats().tls_handshakes == 1);
}

TEST_CASE("http_client: proxy authentication", "[http_client]") {
    asio::io_context io;
    TlsTestServer server(io, reply("authorised"));
    eci::test::ConnectProxy proxy(io, {"alice", "s3cret"});
    auto wrong = http_client_options(server);
    wrong.proxy_url = proxy.url("alice", "wrong-password");
    auto right = http_client_options(server);
    right.proxy_url = proxy.url("alice", "s3cret");
    auto refused_client = make_client(io, wrong);
    auto client = make_client(io, right);
    run_with_deadline(io, [&]() -> asio::awaitable<void> {
        auto refused = co_await refused_client.send(get());
        REQUIRE_FALSE(refused.ok());
        // 407 is the proxy asking for other credentials: auth, as the exec WebSocket says it
        // (one dialer, one classification); a retry could not help.
        CHECK(refused.error().kind == ErrorKind::auth);
        CHECK(refused.error().http_status == 407);
        CHECK(refused.error().dispatch == Dispatch::not_sent);
        CHECK(contains(refused.error().message, "407"));
        CHECK_FALSE(contains(refused.error().to_string(), "wrong-password"));

        auto accepted = co_await client.send(get());
        REQUIRE(accepted.ok());
        CHECK(accepted->body == "authorised");
    });
    CHECK(proxy.refused_requests() == 1);
    CHECK(proxy.tunnels() == 1);
}

TEST_CASE("http_client: terminal cancellation returns promptly and closes the connection",
          "[http_client][serial]") {
    asio::io_context io;
    TlsTestServer server(io, [](const TestRequest&) -> TestAction {
        return eci::test::ReplyAfter{10000ms, TestResponse{}};
    });
    auto client = make_client(io, http_client_options(server));
    run_with_deadline(io, [&]() -> asio::awaitable<void> {
        asio::cancellation_signal signal;
        std::optional<Result<HttpResponse>> outcome;
        std::chrono::steady_clock::time_point finished_at;
        asio::co_spawn(
            io,
            [&]() -> asio::awaitable<void> {
                outcome = co_await client.send(get());
                finished_at = std::chrono::steady_clock::now();
            },
            asio::bind_cancellation_slot(signal.slot(), asio::detached));
        REQUIRE(co_await wait_until([&] { return server.requests() == 1; }));
        auto cancelled_at = std::chrono::steady_clock::now();
        signal.emit(asio::cancellation_type::terminal);
        REQUIRE(co_await wait_until([&] { return outcome.has_value(); }, 2s));
        CHECK(finished_at - cancelled_at < 50ms);
        REQUIRE_FALSE(outcome->ok());
        CHECK(outcome->error().kind == ErrorKind::cancelled);
        CHECK(outcome->error().dispatch == Dispatch::unknown);
        CHECK(co_await wait_until([&] { return server.closed_connections() == 1; }));
    });
}

TEST_CASE("http_client: the || operator cancels a pending request", "[http_client]") {
    using namespace asio::experimental::awaitable_operators;
    asio::io_context io;
    TlsTestServer server(io, [](const TestRequest&) -> TestAction {
        return eci::test::ReplyAfter{10000ms, TestResponse{}};
    });
    auto client = make_client(io, http_client_options(server));
    run_with_deadline(io, [&]() -> asio::awaitable<void> {
        asio::steady_timer timer(io, 200ms);
        auto start = std::chrono::steady_clock::now();
        auto winner = co_await (client.send(get()) || timer.async_wait(asio::use_awaitable));
        CHECK(winner.index() == 1);
        CHECK(std::chrono::steady_clock::now() - start < 1s);
        CHECK(co_await wait_until([&] { return server.closed_connections() == 1; }));
    });
}

TEST_CASE("http_client: a caller waiting for a pool slot can be cancelled", "[http_client]") {
    asio::io_context io;
    TlsTestServer server(io, [](const TestRequest&) -> TestAction {
        return eci::test::ReplyAfter{300ms, TestResponse{200, {}, "done", true}};
    });
    auto options = http_client_options(server);
    options.max_connections = 1;
    auto client = make_client(io, options);
    run_with_deadline(io, [&]() -> asio::awaitable<void> {
        std::optional<Result<HttpResponse>> busy, waiting;
        asio::cancellation_signal signal;
        asio::co_spawn(
            io, [&]() -> asio::awaitable<void> { busy = co_await client.send(get()); },
            asio::detached);
        REQUIRE(co_await wait_until([&] { return server.requests() == 1; }));
        asio::co_spawn(
            io, [&]() -> asio::awaitable<void> { waiting = co_await client.send(get()); },
            asio::bind_cancellation_slot(signal.slot(), asio::detached));
        signal.emit(asio::cancellation_type::terminal);
        REQUIRE(co_await wait_until([&] { return waiting.has_value(); }, 1s));
        REQUIRE_FALSE(waiting->ok());
        CHECK(waiting->error().kind == ErrorKind::cancelled);
        CHECK(waiting->error().dispatch == Dispatch::not_sent);
        CHECK(contains(waiting->error().message, "waiting for a free connection"));
        REQUIRE(co_await wait_until([&] { return busy.has_value(); }));
        REQUIRE(busy->ok());
        // The slot is free again: a further request goes through on the pooled connection.
        auto after = co_await client.send(get());
        REQUIRE(after.ok());
    });
    CHECK(server.accepted_connections() == 1);
}
