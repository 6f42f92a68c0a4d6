// SPDX-License-Identifier: Apache-2.0
#include "net/http_connect_proxy.hpp"

#include <fmt/format.h>
#include <openssl/evp.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/url/parse.hpp>

namespace eci::detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

namespace {

std::string base64(std::string_view bytes) {
    std::string out(4 * ((bytes.size() + 2) / 3), '\0');
    const int written = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                        reinterpret_cast<const unsigned char*>(bytes.data()),
                                        static_cast<int>(bytes.size()));
    out.resize(static_cast<std::size_t>(written));
    return out;
}

// host:port as a request target, with IPv6 literals in brackets.
std::string authority(std::string_view host, std::string_view port) {
    if (host.find(':') != std::string_view::npos)
        return fmt::format("[{}]:{}", host, port);
    return fmt::format("{}:{}", host, port);
}

Error proxy_error(ErrorKind kind, std::string message, const HttpProxy& proxy) {
    Error error = Error::make(kind, std::move(message));
    error.endpoint = authority(proxy.host, proxy.port);
    error.dispatch = Dispatch::not_sent;
    return error;
}

}  // namespace

Result<HttpProxy> parse_http_proxy_url(std::string_view url) {
    auto parsed = boost::urls::parse_uri(url);
    if (!parsed)
        return Error::make(ErrorKind::invalid_argument, "the proxy URL is not a URL");
    if (parsed->scheme_id() != boost::urls::scheme::http)
        return Error::make(ErrorKind::invalid_argument,
                           "the proxy URL must start with http:// (CONNECT proxies only)");
    HttpProxy proxy;
    proxy.host = parsed->host_address();
    if (proxy.host.empty())
        return Error::make(ErrorKind::invalid_argument, "the proxy URL has no host");
    proxy.port = parsed->has_port() ? std::string(parsed->port()) : "80";
    if (parsed->has_userinfo()) {
        proxy.authorization =
            "Basic " + base64(fmt::format("{}:{}", parsed->user(), parsed->password()));
    }
    return proxy;
}

asio::awaitable<Result<void>> open_http_proxy_tunnel(beast::tcp_stream& stream, HttpProxy proxy,
                                                     std::string target_host,
                                                     std::string target_port) {
    const std::string target = authority(target_host, target_port);
    http::request<http::empty_body> request{http::verb::connect, target, 11};
    request.set(http::field::host, target);
    if (!proxy.authorization.empty())
        request.set(http::field::proxy_authorization, proxy.authorization);
    auto [write_ec, written] =
        co_await http::async_write(stream, request, asio::as_tuple(asio::use_awaitable));
    (void)written;
    auto transport_error = [&](boost::system::error_code ec, std::string_view what) {
        if (ec == beast::error::timeout)
            return proxy_error(ErrorKind::timeout, fmt::format("proxy CONNECT {} timed out", what),
                               proxy);
        if (ec == asio::error::operation_aborted)
            return proxy_error(ErrorKind::cancelled, "proxy CONNECT cancelled", proxy);
        return proxy_error(ErrorKind::network,
                           fmt::format("proxy CONNECT {} failed: {}", what, ec.message()), proxy);
    };
    if (write_ec)
        co_return transport_error(write_ec, "request");

    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.skip(true);  // a reply to CONNECT has no body: the tunnel starts after the header
    auto [read_ec, read] = co_await http::async_read_header(stream, buffer, parser,
                                                            asio::as_tuple(asio::use_awaitable));
    (void)read;
    if (read_ec && read_ec.category() == make_error_code(http::error::end_of_stream).category() &&
        read_ec != http::error::end_of_stream)
        co_return proxy_error(ErrorKind::protocol, "the proxy's reply to CONNECT is not HTTP",
                              proxy);
    if (read_ec)
        co_return transport_error(read_ec, "reply");
    const unsigned status = parser.get().result_int();
    if (status / 100 != 2) {
        Error error = proxy_error(
            status == 407 ? ErrorKind::auth : ErrorKind::network,
            fmt::format("the proxy refused CONNECT to {} with HTTP {}", target, status), proxy);
        error.http_status = static_cast<int>(status);
        co_return error;
    }
    // The server speaks only after we do (TLS ClientHello or the upgrade request), so any
    // byte here is the proxy's, and would be lost to the next layer.
    if (buffer.size() != 0)
        co_return proxy_error(ErrorKind::protocol, "the proxy sent data after its CONNECT reply",
                              proxy);
    co_return Result<void>{};
}

}  // namespace eci::detail
