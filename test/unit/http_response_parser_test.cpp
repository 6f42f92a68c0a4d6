// SPDX-License-Identifier: Apache-2.0
// HttpResponseParser without sockets: bytes in, HttpResponse out, and the framing, limits and
// keep-alive rules of Beast's basic_parser.
#include "net/http_response_parser.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <catch2/catch.hpp>

#include <string>
#include <string_view>

namespace http = boost::beast::http;
using eci::detail::HttpResponse;
using eci::detail::HttpResponseParser;

namespace {

// Feeds `bytes` in pieces of `piece` bytes, as reads from a socket would arrive, until the
// message is done or the bytes run out. Returns the first error other than need_more.
boost::system::error_code feed(HttpResponseParser& parser, std::string_view bytes,
                               std::size_t piece) {
    std::string pending;
    std::size_t at = 0;
    while (!parser.is_done()) {
        if (at < bytes.size()) {
            pending.append(bytes.substr(at, piece));
            at += piece;
        } else if (pending.empty()) {
            break;
        }
        boost::system::error_code ec;
        const std::size_t used = parser.put(boost::asio::buffer(pending), ec);
        pending.erase(0, used);
        if (ec == http::error::need_more) {
            if (at >= bytes.size())
                break;  // incomplete, and nothing more to come
            continue;
        }
        if (ec)
            return ec;
        if (used == 0 && at >= bytes.size())
            break;
    }
    return {};
}

}  // namespace

TEST_CASE("http_response_parser: status, fields in order and the body", "[http_response_parser]") {
    const std::string_view wire =
        "HTTP/1.1 404 Not Found\r\nContent-Type: application/json;charset=utf-8\r\n"
        "X-Acs-Request-Id: 0A1B\r\nContent-Length: 13\r\n\r\n{\"Code\":\"x\"}\n";
    for (std::size_t piece : {std::size_t{1}, std::size_t{7}, wire.size()}) {
        DYNAMIC_SECTION("arriving " << piece << " bytes at a time") {
            HttpResponse response;
            HttpResponseParser parser(response);
            REQUIRE_FALSE(feed(parser, wire, piece));
            REQUIRE(parser.is_done());
            CHECK(response.status == 404);
            REQUIRE(response.headers.size() == 3);
            CHECK(response.headers[0].first == "Content-Type");
            CHECK(response.headers[0].second == "application/json;charset=utf-8");
            CHECK(response.headers[1].first == "X-Acs-Request-Id");
            CHECK(response.header("x-acs-request-id") == "0A1B");
            CHECK(response.body == "{\"Code\":\"x\"}\n");
            CHECK(parser.keep_alive());
        }
    }
}

TEST_CASE("http_response_parser: a chunked body arrives de-chunked", "[http_response_parser]") {
    const std::string_view wire =
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        "5\r\nhello\r\n1;ext=1\r\n,\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n";
    HttpResponse response;
    HttpResponseParser parser(response);
    REQUIRE_FALSE(feed(parser, wire, 3));
    REQUIRE(parser.is_done());
    CHECK(response.status == 200);
    CHECK(response.body == "hello, world");
    CHECK(parser.keep_alive());
}

TEST_CASE("http_response_parser: keep-alive follows the version, Connection and framing",
          "[http_response_parser]") {
    auto keep_alive = [](std::string_view wire, bool eof) {
        HttpResponse response;
        HttpResponseParser parser(response);
        REQUIRE_FALSE(feed(parser, wire, wire.size()));
        if (eof) {
            boost::system::error_code ec;
            parser.put_eof(ec);
            REQUIRE_FALSE(ec);
        }
        REQUIRE(parser.is_done());
        return parser.keep_alive();
    };
    CHECK(keep_alive("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", false));
    CHECK_FALSE(
        keep_alive("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", false));
    CHECK_FALSE(keep_alive("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", false));
    CHECK(keep_alive("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n",
                     false));
    // No length and not chunked: the body ends with the connection, which is then done.
    CHECK_FALSE(keep_alive("HTTP/1.1 200 OK\r\n\r\nuntil the end", true));
}

TEST_CASE("http_response_parser: header and body limits, and no body for HEAD",
          "[http_response_parser]") {
    SECTION("a header over header_limit") {
        HttpResponse response;
        HttpResponseParser parser(response);
        parser.header_limit(64);
        const std::string wire =
            "HTTP/1.1 200 OK\r\nX-Long: " + std::string(100, 'a') + "\r\nContent-Length: 0\r\n\r\n";
        CHECK(feed(parser, wire, 16) == http::error::header_limit);
    }
    SECTION("a declared body over body_limit") {
        HttpResponse response;
        HttpResponseParser parser(response);
        parser.body_limit(10);
        CHECK(feed(parser, "HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nhello world", 64) ==
              http::error::body_limit);
    }
    SECTION("a chunked body over body_limit") {
        HttpResponse response;
        HttpResponseParser parser(response);
        parser.body_limit(10);
        CHECK(feed(parser,
                   "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nhello \r\n"
                   "6\r\nworld!\r\n0\r\n\r\n",
                   64) == http::error::body_limit);
    }
    SECTION("skip: the response to HEAD has a length but no body") {
        HttpResponse response;
        HttpResponseParser parser(response);
        parser.skip(true);
        REQUIRE_FALSE(feed(parser, "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n", 64));
        CHECK(parser.is_done());
        CHECK(response.header("content-length") == "1234");
        CHECK(response.body.empty());
    }
}
