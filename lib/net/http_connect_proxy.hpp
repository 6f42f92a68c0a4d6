// SPDX-License-Identifier: Apache-2.0
// Tunnelling a TCP connection through an HTTP proxy with CONNECT (RFC 9110 §9.3.6).
#pragma once

#include <eci/result.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <string>
#include <string_view>

namespace eci::detail {

/// An HTTP proxy parsed from "http://[user:password@]host[:port]" (port 80 by default).
struct HttpProxy {
    std::string host;
    std::string port;
    /// The Proxy-Authorization value ("Basic ..."), empty without credentials. A secret:
    /// never log it.
    std::string authorization;
};

/// Parses a proxy URL. Only the http scheme is supported (the tunnel itself carries TLS).
///
/// Errors: ErrorKind::invalid_argument for another scheme, a missing host or an unparsable
/// URL. The message never repeats the URL (it may hold a password).
Result<HttpProxy> parse_http_proxy_url(std::string_view url);

/// Asks the proxy, on an already connected `stream`, to open a tunnel to target_host:port and
/// reads its reply. Afterwards the stream carries the tunnel. Deadlines are the stream's own
/// (set expires_at before calling).
///
/// Errors: network when the proxy closed, reset or answered with a non-2xx status (auth for
/// 407; http_status set either way); timeout when the stream's deadline passed; protocol
/// when the reply was not HTTP or bytes followed it unasked; cancelled.
/// Cancellation: terminal, through the awaiting coroutine's slot.
/// Lifetimes: `stream` must outlive the operation.
boost::asio::awaitable<Result<void>> open_http_proxy_tunnel(boost::beast::tcp_stream& stream,
                                                            HttpProxy proxy,
                                                            std::string target_host,
                                                            std::string target_port);

}  // namespace eci::detail
