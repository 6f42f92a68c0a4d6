// SPDX-License-Identifier: Apache-2.0
// Dialing a client connection, for the HTTP client and the exec WebSocket alike: resolve,
// TCP connect, the optional CONNECT tunnel, then SNI, certificate verification and the TLS
// handshake, with one error classification for all of it.
#pragma once

#include "core/proxy_route.hpp"
#include "net/tls_context.hpp"

#include <eci/result.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace eci::detail {

/// The stages of a dial, in order. Every dial error's message starts with the stage's name
/// and ": " (to_string), so a failure reads the same from the HTTP client and the WebSocket.
enum class DialStage {
    resolve,        ///< DNS lookup of the server (or of the proxy)
    connect,        ///< TCP connect to the server (or to the proxy)
    proxy,          ///< the CONNECT exchange with the proxy
    tls_handshake,  ///< SNI, certificate verification and the TLS handshake
};

/// "resolve", "connect", "proxy", "TLS handshake".
std::string_view to_string(DialStage stage) noexcept;

/// What a dial needs besides its target; one per client.
struct DialSettings {
    /// The CONNECT proxy and the hosts that bypass it (ProxyConfig syntax). The decision is
    /// made for each target host (proxy_route_for). Empty https_proxy: always direct.
    ProxyConfig proxy;
    /// Check the server's certificate against the target host name (SNI is set either way
    /// for a DNS name). Whether the chain is verified at all is the TLS context's setting.
    bool verify_peer = true;
    /// The budget of resolve + TCP connect + CONNECT tunnel; named in timeout messages.
    std::chrono::steady_clock::duration connect_timeout = std::chrono::seconds(10);
    /// The budget of the TLS handshake; named in timeout messages.
    std::chrono::steady_clock::duration handshake_timeout = std::chrono::seconds(10);
};

/// Where one connection goes and how: decided once per target host by plan_dial.
struct DialPlan {
    std::string host;        ///< the server: DNS name or IP literal (IPv6 without brackets)
    std::uint16_t port = 0;  ///< the server's port
    std::string endpoint;    ///< host_and_port(host, port): every dial error's Error::endpoint
    std::optional<ProxyRoute> proxy;  ///< through this CONNECT proxy; nullopt: direct
    bool verify_peer = true;
    std::chrono::steady_clock::duration connect_timeout = std::chrono::seconds(10);
    std::chrono::steady_clock::duration handshake_timeout = std::chrono::seconds(10);
};

/// Plans a dial to `host`:`port`, with the proxy / NO_PROXY decision made for that host.
///
/// Errors: ErrorKind::invalid_argument when the proxy is needed and its URL does not parse
/// (never repeating the URL), with Error::endpoint set.
Result<DialPlan> plan_dial(std::string host, std::uint16_t port, const DialSettings& settings);

/// Resolves the first hop (the proxy, or the server; an IP literal needs no resolver),
/// connects `connection` (a fresh stream) to it with TCP_NODELAY, and through a proxy asks for the
/// tunnel to plan.endpoint. Everything ends by `deadline`; the expiry of `connection` is left at
/// it.
///
/// Errors (dispatch not_sent, endpoint = plan.endpoint, message "<stage>: ..."):
/// cancelled; timeout when `deadline` passed; network for DNS, refused, reset, or a proxy that
/// closed or answered CONNECT with a non-2xx status (http_status set; auth for 407);
/// protocol when the proxy's reply is not HTTP or data followed it.
/// Cancellation: terminal, through the awaiting coroutine's slot. As with any co_await,
/// Asio throws operation_aborted when the coroutine is already cancelled as an operation
/// starts (callers catch it as they did before).
/// Lifetimes: `connection` and `plan` must outlive the operation.
boost::asio::awaitable<Result<void>> dial_tcp(boost::beast::tcp_stream& connection,
                                              const DialPlan& plan,
                                              std::chrono::steady_clock::time_point deadline);

/// What a completed TLS handshake tells.
struct TlsHandshakeOutcome {
    bool resumed = false;  ///< an earlier session was resumed (no full handshake)
};

/// On `stream`, whose TCP layer dial_tcp connected: sets SNI, host name verification (when
/// plan.verify_peer) and the cached session for plan.endpoint, then handshakes by `deadline`
/// (the TCP layer's expiry is left at it).
///
/// Errors (dispatch not_sent, endpoint = plan.endpoint, message "TLS handshake: ..."): tls
/// when the handshake or certificate verification failed (the message names the verify
/// reason and how to trust a CA); network when the connection was lost during it; timeout;
/// cancelled. Cancellation and lifetimes: as dial_tcp.
boost::asio::awaitable<Result<TlsHandshakeOutcome>> handshake_tls(
    TlsStream& stream, const DialPlan& plan, std::chrono::steady_clock::time_point deadline);

/// The one classification of a failed dial step: cancelled (when `cancelled`, or for
/// operation_aborted), timeout (beast::error::timeout), network otherwise; message
/// "<stage>: ..." naming the proxy for the hops to it. TLS verification failures are mapped
/// by handshake_tls, which knows the SSL object.
Error dial_error(DialStage stage, boost::system::error_code ec, bool cancelled,
                 const DialPlan& plan);

}  // namespace eci::detail
