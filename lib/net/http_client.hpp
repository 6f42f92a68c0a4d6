// SPDX-License-Identifier: Apache-2.0
// HttpClient: HTTP/1.1 requests to ONE endpoint over a pool of keep-alive connections, plain
// or TLS, directly or through an HTTP CONNECT proxy. Internal to the library (lib/net); the
// public configuration (eci::ClientConfig) is mapped onto HttpClientOptions by the caller.
// Its pool is http_connection_pool.hpp, its wire exchange http_exchange.hpp, and its
// connections are dialed by tls_dialer.hpp (as the exec WebSocket's are).
#pragma once

#include <eci/result.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace eci::detail {

/// Where requests go and how the connections behave. Every field has a usable default.
struct HttpClientOptions {
    std::string scheme = "https";  ///< "http" or "https"
    std::string host;              ///< DNS name or IP literal; also the SNI and Host header
    std::uint16_t port = 443;      ///< 1..65535

    bool verify_peer = true;  ///< verify the certificate chain and the host name (https)
    std::string ca_file;      ///< extra trusted CA PEM file, besides the system's; empty: none

    /// "http://[user:password@]host:port" of an HTTP proxy used with CONNECT (for both
    /// schemes); empty: connect directly. Credentials are sent as Proxy-Authorization: Basic
    /// and never appear in an error message.
    std::string proxy_url;
    /// Hosts that bypass proxy_url (ProxyConfig::no_proxy syntax), matched against `host` and
    /// `port` by the dialer (plan_dial), as for the exec WebSocket. Default empty.
    std::string no_proxy;

    /// Covers resolve + TCP connect + proxy CONNECT + TLS handshake of one new connection.
    std::chrono::steady_clock::duration connect_timeout = std::chrono::seconds(10);
    /// Covers writing the request and reading the whole response.
    std::chrono::steady_clock::duration read_timeout = std::chrono::seconds(30);
    /// How long a caller may wait for a free connection when max_connections are busy.
    std::chrono::steady_clock::duration acquire_timeout = std::chrono::seconds(60);

    /// Most connections open at once (busy + idle + connecting); >= 1.
    std::size_t max_connections = 16;
    /// An idle pooled connection is closed after this long.
    std::chrono::steady_clock::duration idle_timeout = std::chrono::seconds(30);

    std::size_t max_body_bytes = 16 * 1024 * 1024;  ///< larger response bodies: protocol error
    std::size_t max_header_bytes = 64 * 1024;       ///< larger response headers: protocol error
};

/// One request. A Host header (and Content-Length) is added unless given.
struct HttpRequest {
    std::string method = "GET";
    std::string target = "/";  ///< origin-form: path and query
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    /// Safe to send twice: lets the client resend it once when a reused keep-alive connection
    /// turns out to be dead before any byte of the response arrived.
    bool idempotent = false;
};

struct HttpResponse {
    unsigned status = 0;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;

    /// The first header with this name (case-insensitive), or "" when absent.
    std::string header(std::string_view name) const;
};

/// Counters since construction. Bytes are HTTP bytes (before TLS), excluding proxy CONNECTs.
struct HttpClientStats {
    std::uint64_t requests = 0;            ///< calls to send()
    std::uint64_t connections_opened = 0;  ///< TCP connections established (and tunnelled)
    std::uint64_t tls_handshakes = 0;      ///< completed TLS handshakes
    std::uint64_t tls_resumptions = 0;     ///< of those, resumed sessions (no full handshake)
    std::uint64_t bytes_sent = 0;
    std::uint64_t bytes_received = 0;
    std::uint64_t stale_retries = 0;  ///< requests resent after a dead keep-alive connection
};

/// An HTTP/1.1 client for one endpoint with a keep-alive connection pool.
///
/// Thread safety: none. All calls, and the io_context running the operations, must stay on
/// ONE thread (or one strand); one HttpClient is shared by any number of coroutines there.
/// Lifetime: operations in flight keep the internal state alive, so the HttpClient object may
/// be destroyed (closing idle connections) while sends are pending; they complete normally.
class HttpClient {
  public:
    /// Builds a client; no connection is made until the first send().
    /// Errors: ErrorKind::invalid_argument for a bad scheme/host/port/proxy URL, a zero
    /// max_connections or an unreadable ca_file (naming the path); ErrorKind::tls when the TLS
    /// context cannot be built.
    static Result<HttpClient> create(boost::asio::any_io_executor executor,
                                     HttpClientOptions options);

    HttpClient(HttpClient&&) noexcept;
    HttpClient& operator=(HttpClient&&) noexcept;
    ~HttpClient();

    /// Sends `request` and reads the whole response, reusing an idle pooled connection
    /// (most recently used first) or opening a new one; when max_connections are busy, waits
    /// its turn (FIFO). Any HTTP status is a successful result.
    ///
    /// Errors (error.endpoint is "host:port"; error.dispatch is `not_sent` when the request
    /// never left this process, `unknown` when it may have been sent). A failed dial is
    /// classified by the dialer (dial_error: the message starts with its stage, "resolve: ",
    /// "connect: ", "proxy: " or "TLS handshake: "), exactly as for the exec WebSocket:
    /// - network: DNS, refused, reset, closed before a complete response, proxy refused CONNECT
    /// - auth: the proxy answered CONNECT with 407 (http_status 407)
    /// - tls: handshake or certificate verification failed (message says how to trust a CA)
    /// - timeout: connect_timeout, read_timeout or acquire_timeout passed
    /// - protocol: malformed response, or header/body over the configured limits
    /// - cancelled: see below.
    /// A reused connection that fails before any response byte arrived is retried once on a
    /// fresh connection when `request.idempotent`; a connection that saw any error is closed.
    ///
    /// Cancellation: honours terminal cancellation of the awaiting coroutine's cancellation
    /// slot (e.g. `co_spawn(..., bind_cancellation_slot(...))` or the `||` operator); partial
    /// and total cancellation are ignored (asio's coroutine default filter). On cancellation
    /// it completes promptly with ErrorKind::cancelled and the connection in use is closed,
    /// never pooled.
    boost::asio::awaitable<Result<HttpResponse>> send(HttpRequest request);

    const HttpClientStats& stats() const noexcept;
    const HttpClientOptions& options() const noexcept;

    struct State;  // the pool and everything operations share; defined in http_client.cpp

  private:
    explicit HttpClient(std::shared_ptr<State> state);
    std::shared_ptr<State> state_;
};

}  // namespace eci::detail
