// SPDX-License-Identifier: Apache-2.0
// HttpResponseParser: Beast's HTTP/1.1 response parser (framing, chunked bodies, limits) that
// writes the status, the header fields and the body straight into an HttpResponse.
// Beast's response_parser<string_body> first builds a message with basic_fields (an
// allocation per field) that then has to be copied field by field into the HttpResponse;
// this one skips that intermediate message.
#pragma once

#include "net/http_client.hpp"

#include <boost/beast/http/basic_parser.hpp>

#include <cstdint>

namespace eci::detail {

/// Parses one response into `response` (which must outlive the parser; it is not cleared
/// first). Every option of basic_parser applies as usual: header_limit, body_limit and skip
/// (for the response to a HEAD request) must be set before the first byte is parsed. The body
/// is appended to response.body (chunked bodies de-chunked); a body larger than
/// std::string can hold fails with http::error::buffer_overflow, as Beast's string_body does.
/// One parser per message, as with any Beast parser. Not thread safe (one parse at a time).
class HttpResponseParser : public boost::beast::http::basic_parser<false> {
  public:
    explicit HttpResponseParser(HttpResponse& response) : response_(response) {}

  private:
    using error_code = boost::system::error_code;
    using string_view = boost::beast::string_view;

    void on_request_impl(boost::beast::http::verb, string_view, string_view, int,
                         error_code&) override {}
    void on_response_impl(int code, string_view reason, int version, error_code& ec) override;
    void on_field_impl(boost::beast::http::field, string_view name, string_view value,
                       error_code& ec) override;
    void on_header_impl(error_code&) override {}
    void on_body_init_impl(const boost::optional<std::uint64_t>& content_length,
                           error_code& ec) override;
    std::size_t on_body_impl(string_view body, error_code& ec) override;
    void on_chunk_header_impl(std::uint64_t, string_view, error_code&) override {}
    std::size_t on_chunk_body_impl(std::uint64_t, string_view body, error_code& ec) override;
    void on_finish_impl(error_code&) override {}

    HttpResponse& response_;
};

}  // namespace eci::detail
