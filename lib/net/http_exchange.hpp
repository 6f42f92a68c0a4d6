// SPDX-License-Identifier: Apache-2.0
// The HTTP client's wire exchange: a request rendered for the wire, written on one pooled
// connection, and its response read back under read_timeout, with the errors of that
// exchange. Where the connection comes from is http_connection_pool.hpp's.
#pragma once

#include "net/http_client.hpp"
#include "net/http_connection_pool.hpp"

#include <boost/asio/awaitable.hpp>

#include <string>
#include <string_view>

namespace eci::detail {

/// A request as it goes on the wire.
struct HttpWireRequest {
    std::string text;        ///< start line, header and body
    bool head = false;       ///< a HEAD request: the response has no body
    bool keep_alive = true;  ///< false when the caller sent Connection: close
};

/// Renders `request` straight into one reserved string (one allocation) instead of Beast's
/// field list (an allocation per header field) and its serializer. Headers as Beast's
/// prepare_payload would set them: Host (`host_header`) unless given, Content-Length for a
/// body or a method that carries one.
HttpWireRequest render_http_request(const HttpRequest& request, std::string_view host_header);

/// What one exchange produced.
struct HttpExchangeResult {
    Result<HttpResponse> response = HttpResponse{};
    bool response_started = false;  ///< any byte of the response arrived
    bool keep_alive = false;        ///< the connection may serve another request
};

/// What an exchange needs to know of its client.
struct HttpExchangeContext {
    const HttpClientOptions& options;  ///< read_timeout, max_header_bytes, max_body_bytes
    const std::string& endpoint;       ///< what errors name
    HttpClientStats& stats;            ///< bytes_sent and bytes_received are counted here
};

/// Writes `request` on `connection` (TLS or plain, as it was opened) and reads the whole
/// response, all within read_timeout. Not a coroutine itself: it hands back the exchange of
/// the connection's stream type, so a call costs one coroutine frame.
///
/// Errors (dispatch unknown): timeout; protocol for a malformed response or one over the
/// header/body limits; network when the connection failed before a complete response; tls;
/// cancelled. After an error the connection must not be reused.
/// Lifetimes: every argument must outlive the operation (the awaiting send() owns them).
boost::asio::awaitable<HttpExchangeResult> exchange_http(HttpConnection& connection,
                                                         const HttpWireRequest& request,
                                                         HttpExchangeContext context);

}  // namespace eci::detail
