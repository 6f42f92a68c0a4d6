// SPDX-License-Identifier: Apache-2.0
// TLS session resumption on the client side: a repeated connection to the same host:port
// resumes (no certificate exchange), a session is never offered to another host name, and
// host name verification still fails for a host that does not match the certificate.
#include "net/tls_session_cache.hpp"
#include "net/http_client.hpp"
#include "net/tls_context.hpp"

#include "support/run_with_deadline.hpp"
#include "support/tls_test_server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <catch2/catch.hpp>

#include <fmt/format.h>

#include <memory>
#include <string>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using namespace std::chrono_literals;
using eci::Error;
using eci::ErrorKind;
using eci::Result;
using eci::test::run_with_deadline;
using eci::test::TestAction;
using eci::test::TestRequest;
using eci::test::TestResponse;
using eci::test::TlsTestServer;

namespace {

std::shared_ptr<asio::ssl::context> client_context(const TlsTestServer& server) {
    eci::detail::TlsClientOptions options;
    options.ca_file = server.ca_file();
    auto context = eci::detail::make_client_tls_context(options);
    REQUIRE(context.ok());
    return std::move(context).value();
}

TestAction answer(const TestRequest&) {
    return TestResponse{200, {}, "ok", false};
}

// One HTTPS GET on a fresh connection to the server on 127.0.0.1, naming it `host` (SNI and
// the host name check). Returns whether the handshake resumed an earlier session.
asio::awaitable<Result<bool>> fetch_once(std::shared_ptr<asio::ssl::context> context,
                                         std::string host, std::uint16_t port) {
    auto executor = co_await asio::this_coro::executor;
    eci::detail::TlsStream stream(beast::tcp_stream(executor), *context);
    const asio::ip::tcp::endpoint target(asio::ip::make_address("127.0.0.1"), port);
    auto [connect_ec] = co_await beast::get_lowest_layer(stream).async_connect(
        target, asio::as_tuple(asio::use_awaitable));
    if (connect_ec)
        co_return Error::make(ErrorKind::network, connect_ec.message());
    auto prepared = eci::detail::prepare_tls_connection(stream, host, std::to_string(port), true);
    if (!prepared.ok())
        co_return std::move(prepared).error();
    auto [handshake_ec] = co_await stream.async_handshake(asio::ssl::stream_base::client,
                                                          asio::as_tuple(asio::use_awaitable));
    if (handshake_ec)
        co_return eci::detail::tls_handshake_error(stream.native_handle(), handshake_ec,
                                                   fmt::format("{}:{}", host, port));
    http::request<http::empty_body> request{http::verb::get, "/", 11};
    request.set(http::field::host, host);
    auto [write_ec, written] =
        co_await http::async_write(stream, request, asio::as_tuple(asio::use_awaitable));
    (void)written;
    if (write_ec)
        co_return Error::make(ErrorKind::network, write_ec.message());
    // Reading the response also reads the TLS 1.3 tickets the server sent after the handshake.
    beast::flat_buffer buffer;
    http::response<http::string_body> response;
    auto [read_ec, read] =
        co_await http::async_read(stream, buffer, response, asio::as_tuple(asio::use_awaitable));
    (void)read;
    if (read_ec)
        co_return Error::make(ErrorKind::network, read_ec.message());
    CHECK(response.body() == "ok");
    co_return eci::detail::tls_session_resumed(stream.native_handle());
}

}  // namespace

TEST_CASE("tls session: a repeated connection resumes, only for the same host and port",
          "[tls-session]") {
    asio::io_context io;
    TlsTestServer server(io, answer);  // valid for localhost and 127.0.0.1
    auto context = client_context(server);
    run_with_deadline(io, [&]() -> asio::awaitable<void> {
        auto first = co_await fetch_once(context, "127.0.0.1", server.port());
        REQUIRE(first.ok());
        CHECK_FALSE(*first);
        CHECK(eci::detail::tls_session_cache_size(context->native_handle()) == 1);
        auto second = co_await fetch_once(context, "127.0.0.1", server.port());
        REQUIRE(second.ok());
        CHECK(*second);
        // Same server, another name: a full handshake (the session is not offered).
        auto other_name = co_await fetch_once(context, "localhost", server.port());
        REQUIRE(other_name.ok());
        CHECK_FALSE(*other_name);
        auto other_again = co_await fetch_once(context, "localhost", server.port());
        REQUIRE(other_again.ok());
        CHECK(*other_again);
    });
    CHECK(eci::detail::tls_session_cache_size(context->native_handle()) == 2);
    CHECK(server.tls_handshakes() == 4);
}

TEST_CASE("tls session: host name verification still fails for another host after a session",
          "[tls-session]") {
    asio::io_context io;
    eci::test::TestServerOptions options;
    options.dns_names = {};  // valid for the IP addresses only
    TlsTestServer server(io, answer, options);
    auto context = client_context(server);
    run_with_deadline(io, [&]() -> asio::awaitable<void> {
        auto first = co_await fetch_once(context, "127.0.0.1", server.port());
        REQUIRE(first.ok());
        auto resumed = co_await fetch_once(context, "127.0.0.1", server.port());
        REQUIRE(resumed.ok());
        CHECK(*resumed);
        // The cached session would let the handshake skip the certificate: it must not be
        // offered to "localhost", whose name the certificate does not hold.
        auto mismatch = co_await fetch_once(context, "localhost", server.port());
        REQUIRE_FALSE(mismatch.ok());
        CHECK(mismatch.error().kind == ErrorKind::tls);
        CHECK(mismatch.error().message.find("does not match the host name") != std::string::npos);
    });
}

TEST_CASE("tls session: HttpClient counts resumed handshakes of new pool connections",
          "[tls-session][http_client]") {
    asio::io_context io;
    TlsTestServer server(io, [](const TestRequest&) -> TestAction {
        return TestResponse{200, {}, "ok", true};
    });
    eci::detail::HttpClientOptions options = eci::test::http_client_options(server);
    options.idle_timeout = 0ms;  // a new connection (and handshake) per request
    auto client = eci::detail::HttpClient::create(io.get_executor(), options);
    REQUIRE(client.ok());
    run_with_deadline(io, [&]() -> asio::awaitable<void> {
        for (int i = 0; i < 3; ++i) {
            eci::detail::HttpRequest request;
            request.method = "GET";
            request.target = "/";
            auto response = co_await client->send(std::move(request));
            REQUIRE(response.ok());
            CHECK(response->body == "ok");
        }
    });
    CHECK(client->stats().tls_handshakes == 3);
    CHECK(client->stats().tls_resumptions == 2);
    CHECK(server.tls_handshakes() == 3);
}
