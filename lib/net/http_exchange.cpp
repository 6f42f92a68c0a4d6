// SPDX-License-Identifier: Apache-2.0
#include "net/http_exchange.hpp"

#include "net/coroutine_support.hpp"
#include "net/http_response_parser.hpp"

#include <fmt/format.h>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>

#include <algorithm>
#include <cstdint>

namespace eci::detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using Clock = std::chrono::steady_clock;
using boost::system::error_code;

namespace {

// Arms `connection.deadline` for one exchange: on expiry the socket is closed (so the pending
// write or read fails at once) and `timed_out` set. The destructor (every way out of the
// exchange) disarms it; an expiry that was already queued then finds a later exchange count
// (or a destroyed connection) and does nothing.
class ExchangeDeadline {
  public:
    ExchangeDeadline(HttpConnection& connection, Clock::duration timeout)
        : connection_(connection) {
        connection.timed_out = false;
        connection.deadline.expires_after(timeout);
        connection.deadline.async_wait([target = &connection, alive = connection.alive,
                                        exchange = connection.exchanges](error_code ec) {
            if (ec || !*alive || target->exchanges != exchange)
                return;
            target->timed_out = true;
            target->abort();
        });
    }
    ExchangeDeadline(const ExchangeDeadline&) = delete;
    ExchangeDeadline& operator=(const ExchangeDeadline&) = delete;
    ~ExchangeDeadline() {
        ++connection_.exchanges;
        connection_.deadline.cancel();
    }

    // What an operation's result means: once the deadline expired, a timeout, whatever the
    // operation saw (the closed socket's operation_aborted, or a success that raced it).
    error_code outcome(error_code ec) const {
        return connection_.timed_out ? error_code(beast::error::timeout) : ec;
    }

  private:
    HttpConnection& connection_;
};

Error exchange_error(const HttpExchangeContext& context, bool cancelled, error_code ec) {
    auto make = [&](ErrorKind kind, std::string message) {
        Error error = Error::make(kind, std::move(message));
        error.endpoint = context.endpoint;
        error.dispatch = Dispatch::unknown;
        return error;
    };
    const std::string& endpoint = context.endpoint;
    if (cancelled)
        return make(ErrorKind::cancelled, fmt::format("the request to {} was cancelled", endpoint));
    if (ec == beast::error::timeout)
        return make(ErrorKind::timeout,
                    fmt::format("no complete response from {} within {} ms", endpoint,
                                milliseconds_of(context.options.read_timeout)));
    if (ec == http::error::body_limit)
        return make(ErrorKind::protocol, fmt::format("the response body from {} exceeds {} bytes",
                                                     endpoint, context.options.max_body_bytes));
    if (ec == http::error::header_limit)
        return make(ErrorKind::protocol, fmt::format("the response header from {} exceeds {} bytes",
                                                     endpoint, context.options.max_header_bytes));
    if (ec == http::error::end_of_stream || ec == http::error::partial_message ||
        ec == boost::asio::ssl::error::stream_truncated ||
        ec.category() == asio::error::get_system_category() ||
        ec.category() == asio::error::get_misc_category())
        return make(ErrorKind::network,
                    fmt::format("connection to {} failed before a complete response: {}", endpoint,
                                ec.message()));
    if (ec.category() == http::make_error_code(http::error::bad_version).category())
        return make(ErrorKind::protocol,
                    fmt::format("malformed HTTP response from {}: {}", endpoint, ec.message()));
    if (is_tls_error(ec))
        return make(ErrorKind::tls,
                    fmt::format("TLS failure talking to {}: {}", endpoint, ec.message()));
    return make(ErrorKind::network,
                fmt::format("connection to {} failed: {}", endpoint, ec.message()));
}

// References: the awaiting send() owns the connection, the request and what the context
// refers to, and outlives this coroutine.
template <class Stream>
asio::awaitable<HttpExchangeResult> exchange(HttpConnection& connection, Stream& stream,
                                             const HttpWireRequest& request,
                                             HttpExchangeContext context) {
    HttpExchangeResult result;
    const ExchangeDeadline deadline(connection, context.options.read_timeout);
    auto [write_result, written] =
        co_await asio::async_write(stream, asio::buffer(request.text), use_tuple);
    context.stats.bytes_sent += written;
    const error_code write_ec = deadline.outcome(write_result);
    if (write_ec) {
        const bool cancelled = was_cancelled(co_await asio::this_coro::cancellation_state);
        result.response = exchange_error(context, cancelled, write_ec);
        co_return result;
    }

    // The response is parsed straight into the result: no Beast message in between.
    HttpResponse response;
    HttpResponseParser parser(response);
    parser.header_limit(static_cast<std::uint32_t>(
        std::min<std::size_t>(context.options.max_header_bytes, UINT32_MAX)));
    parser.body_limit(context.options.max_body_bytes);
    if (request.head)
        parser.skip(true);
    auto [read_result, read] =
        co_await http::async_read(stream, connection.buffer, parser, use_tuple);
    context.stats.bytes_received += read;
    result.response_started = parser.got_some() || connection.buffer.size() != 0;
    const error_code read_ec = deadline.outcome(read_result);
    if (read_ec) {
        const bool cancelled = was_cancelled(co_await asio::this_coro::cancellation_state);
        result.response = exchange_error(context, cancelled, read_ec);
        co_return result;
    }

    // basic_parser's keep_alive(): the version and Connection rules of message::keep_alive(),
    // and false for a body delimited by the end of the stream (that connection is done).
    result.keep_alive = parser.keep_alive() && request.keep_alive;
    result.response = std::move(response);
    co_return result;
}

bool is_method(std::string_view method, std::string_view name) {
    return beast::iequals(method, name);
}

}  // namespace

HttpWireRequest render_http_request(const HttpRequest& request, std::string_view host_header) {
    HttpWireRequest wire;
    wire.head = is_method(request.method, "HEAD");
    std::size_t size = request.method.size() + request.target.size() + 64 + request.body.size() +
                       host_header.size();
    for (const auto& [name, value] : request.headers)
        size += name.size() + value.size() + 4;
    std::string& out = wire.text;
    out.reserve(size);
    out += request.method;
    out += ' ';
    out += request.target;
    out += " HTTP/1.1\r\n";
    bool has_host = false;
    bool has_length = false;
    for (const auto& [name, value] : request.headers) {
        has_host = has_host || beast::iequals(name, "host");
        has_length = has_length || beast::iequals(name, "content-length");
        if (beast::iequals(name, "connection") && value.find("close") != std::string::npos)
            wire.keep_alive = false;
        out += name;
        out += ": ";
        out += value;
        out += "\r\n";
    }
    if (!has_host) {
        out += "Host: ";
        out += host_header;
        out += "\r\n";
    }
    if (!has_length && (!request.body.empty() || is_method(request.method, "POST") ||
                        is_method(request.method, "PUT") || is_method(request.method, "OPTIONS"))) {
        out += "Content-Length: ";
        out += std::to_string(request.body.size());
        out += "\r\n";
    }
    out += "\r\n";
    out += request.body;
    return wire;
}

asio::awaitable<HttpExchangeResult> exchange_http(HttpConnection& connection,
                                                  const HttpWireRequest& request,
                                                  HttpExchangeContext context) {
    if (connection.tls)
        return exchange(connection, connection.stream, request, context);
    return exchange(connection, connection.tcp(), request, context);
}

}  // namespace eci::detail
