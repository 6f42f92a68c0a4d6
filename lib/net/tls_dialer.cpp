// SPDX-License-Identifier: Apache-2.0
#include "net/tls_dialer.hpp"

#include "core/host_syntax.hpp"
#include "net/coroutine_support.hpp"
#include "net/tls_session_cache.hpp"

#include <fmt/format.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include <vector>

namespace eci::detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using boost::system::error_code;

namespace {

Error make_dial_error(ErrorKind kind, DialStage stage, std::string_view text,
                      const DialPlan& plan) {
    Error error = Error::make(kind, fmt::format("{}: {}", to_string(stage), text));
    error.endpoint = plan.endpoint;
    error.dispatch = Dispatch::not_sent;
    return error;
}

// Who the stage talks to: the proxy for the hops to it, the server otherwise.
std::string peer_of(DialStage stage, const DialPlan& plan) {
    if (plan.proxy && stage != DialStage::tls_handshake)
        return fmt::format("proxy {}", plan.proxy->authority);
    return plan.endpoint;
}

// The CONNECT exchange on a connected `connection` (its expiry already set): afterwards the stream
// carries the tunnel to plan.endpoint (RFC 9110 §9.3.6).
asio::awaitable<Result<void>> open_tunnel(beast::tcp_stream& connection, const DialPlan& plan) {
    const ProxyRoute& proxy = *plan.proxy;
    http::request<http::empty_body> request{http::verb::connect, plan.endpoint, 11};
    request.set(http::field::host, plan.endpoint);
    if (!proxy.authorization.empty())
        request.set(http::field::proxy_authorization, proxy.authorization);
    auto [write_ec, written] = co_await http::async_write(connection, request, use_tuple);
    (void)written;
    if (write_ec)
        co_return dial_error(DialStage::proxy, write_ec,
                             was_cancelled(co_await asio::this_coro::cancellation_state), plan);

    beast::flat_buffer buffer;
    http::response_parser<http::empty_body> parser;
    parser.skip(true);  // a reply to CONNECT has no body: the tunnel starts after the header
    auto [read_ec, read] = co_await http::async_read_header(connection, buffer, parser, use_tuple);
    (void)read;
    if (read_ec &&
        read_ec.category() == http::make_error_code(http::error::bad_version).category() &&
        read_ec != http::error::end_of_stream)
        co_return make_dial_error(
            ErrorKind::protocol, DialStage::proxy,
            fmt::format("the reply of proxy {} to CONNECT is not HTTP", proxy.authority), plan);
    if (read_ec)
        co_return dial_error(DialStage::proxy, read_ec,
                             was_cancelled(co_await asio::this_coro::cancellation_state), plan);
    const auto& reply = parser.get();
    const unsigned status = reply.result_int();
    if (status / 100 != 2) {
        // 407: the proxy wants other credentials; retrying cannot help.
        Error error = make_dial_error(
            status == 407 ? ErrorKind::auth : ErrorKind::network, DialStage::proxy,
            fmt::format("proxy {} refused CONNECT to {} with HTTP {} {}", proxy.authority,
                        plan.endpoint, status, std::string_view(reply.reason())),
            plan);
        error.http_status = static_cast<int>(status);
        co_return error;
    }
    // The server speaks only after we do (TLS ClientHello or the upgrade request), so any
    // byte here is the proxy's, and would be lost to the next layer.
    if (buffer.size() != 0)
        co_return make_dial_error(
            ErrorKind::protocol, DialStage::proxy,
            fmt::format("proxy {} sent data after its CONNECT reply", proxy.authority), plan);
    co_return Result<void>{};
}

}  // namespace

std::string_view to_string(DialStage stage) noexcept {
    switch (stage) {
        case DialStage::resolve:
            return "resolve";
        case DialStage::connect:
            return "connect";
        case DialStage::proxy:
            return "proxy";
        case DialStage::tls_handshake:
            return "TLS handshake";
    }
    return "dial";
}

Error dial_error(DialStage stage, error_code ec, bool cancelled, const DialPlan& plan) {
    const std::string peer = peer_of(stage, plan);
    if (cancelled || ec == asio::error::operation_aborted)
        return make_dial_error(ErrorKind::cancelled, stage,
                               fmt::format("cancelled while connecting to {}", peer), plan);
    if (ec == beast::error::timeout) {
        const bool handshake = stage == DialStage::tls_handshake;
        return make_dial_error(
            ErrorKind::timeout, stage,
            fmt::format("{} did not answer within the {} ms {} timeout", peer,
                        milliseconds_of(handshake ? plan.handshake_timeout : plan.connect_timeout),
                        handshake ? "handshake" : "connect"),
            plan);
    }
    switch (stage) {
        case DialStage::resolve:
            return make_dial_error(
                ErrorKind::network, stage,
                fmt::format("could not resolve {}: {}", plan.proxy ? plan.proxy->host : plan.host,
                            ec.message()),
                plan);
        case DialStage::connect:
            return make_dial_error(ErrorKind::network, stage,
                                   fmt::format("could not connect to {}: {}", peer, ec.message()),
                                   plan);
        case DialStage::proxy:
            return make_dial_error(ErrorKind::network, stage,
                                   fmt::format("CONNECT through {} failed: {}", peer, ec.message()),
                                   plan);
        case DialStage::tls_handshake:
            break;
    }
    return make_dial_error(
        ErrorKind::network, stage,
        fmt::format("connection to {} lost during the handshake: {}", peer, ec.message()), plan);
}

Result<DialPlan> plan_dial(std::string host, std::uint16_t port, const DialSettings& settings) {
    DialPlan plan;
    plan.endpoint = host_and_port(host, port);
    auto route = proxy_route_for(settings.proxy, host, port);
    if (!route) {
        Error error = std::move(route).error();
        error.endpoint = plan.endpoint;
        return error;
    }
    plan.host = std::move(host);
    plan.port = port;
    plan.proxy = std::move(*route);
    plan.verify_peer = settings.verify_peer;
    plan.connect_timeout = settings.connect_timeout;
    plan.handshake_timeout = settings.handshake_timeout;
    return plan;
}

asio::awaitable<Result<void>> dial_tcp(beast::tcp_stream& connection, const DialPlan& plan,
                                       Clock::time_point deadline) {
    using namespace asio::experimental::awaitable_operators;
    const std::string& host = plan.proxy ? plan.proxy->host : plan.host;
    const std::uint16_t port = plan.proxy ? plan.proxy->port : plan.port;

    // An IP literal needs no resolver: asio resolves on a helper thread, which costs a
    // thread wake-up and getaddrinfo per new connection.
    error_code literal_ec;
    const auto literal = asio::ip::make_address(host, literal_ec);
    std::vector<tcp::endpoint> endpoints;
    if (!literal_ec) {
        endpoints.emplace_back(literal, port);
    } else {
        const auto executor = co_await asio::this_coro::executor;
        tcp::resolver resolver(executor);
        asio::steady_timer resolve_deadline(executor, deadline);
        auto resolved = co_await (resolver.async_resolve(host, std::to_string(port), use_tuple) ||
                                  resolve_deadline.async_wait(use_tuple));
        const bool cancelled = was_cancelled(co_await asio::this_coro::cancellation_state);
        if (cancelled || resolved.index() == 1)
            co_return dial_error(DialStage::resolve, beast::error::timeout, cancelled, plan);
        auto [resolve_ec, found] = std::get<0>(std::move(resolved));
        if (resolve_ec)
            co_return dial_error(DialStage::resolve, resolve_ec, false, plan);
        for (const auto& entry : found)
            endpoints.push_back(entry.endpoint());
    }

    connection.expires_at(deadline);
    auto [connect_ec, connected] = co_await connection.async_connect(endpoints, use_tuple);
    (void)connected;
    if (connect_ec)
        co_return dial_error(DialStage::connect, connect_ec,
                             was_cancelled(co_await asio::this_coro::cancellation_state), plan);
    error_code ignored;
    connection.socket().set_option(tcp::no_delay(true), ignored);
    if (plan.proxy)
        co_return co_await open_tunnel(connection, plan);
    co_return Result<void>{};
}

asio::awaitable<Result<TlsHandshakeOutcome>> handshake_tls(TlsStream& stream, const DialPlan& plan,
                                                           Clock::time_point deadline) {
    if (auto prepared =
            prepare_tls_connection(stream, plan.host, std::to_string(plan.port), plan.verify_peer);
        !prepared) {
        Error error = std::move(prepared).error();
        error.message = fmt::format("{}: {}", to_string(DialStage::tls_handshake), error.message);
        error.endpoint = plan.endpoint;
        error.dispatch = Dispatch::not_sent;
        co_return error;
    }
    stream.next_layer().expires_at(deadline);
    auto [ec] = co_await stream.async_handshake(ssl::stream_base::client, use_tuple);
    if (!ec)
        co_return TlsHandshakeOutcome{tls_session_resumed(stream.native_handle())};
    const bool cancelled = was_cancelled(co_await asio::this_coro::cancellation_state);
    if (cancelled || ec == beast::error::timeout || ec == asio::error::operation_aborted)
        co_return dial_error(DialStage::tls_handshake, ec, cancelled, plan);
    // A peer that closed mid-handshake (stream_truncated, EOF, reset) lost the connection; a
    // TLS alert, or a certificate we did not accept, is a TLS failure with its reason.
    const bool verified = SSL_get_verify_result(stream.native_handle()) == X509_V_OK;
    if ((is_tls_error(ec) && ec != ssl::error::stream_truncated) || !verified) {
        Error error = tls_handshake_error(stream.native_handle(), ec, plan.endpoint);
        error.message = fmt::format("{}: {}", to_string(DialStage::tls_handshake), error.message);
        error.endpoint = plan.endpoint;
        error.dispatch = Dispatch::not_sent;
        co_return error;
    }
    co_return dial_error(DialStage::tls_handshake, ec, false, plan);
}

}  // namespace eci::detail
