// SPDX-License-Identifier: Apache-2.0
#include "net/http_response_parser.hpp"

#include <boost/beast/http/error.hpp>

#include <tuple>
#include <utility>

namespace eci::detail {

namespace http = boost::beast::http;

namespace {
// Header fields a response usually has; one allocation for the list instead of three.
constexpr std::size_t expected_fields = 8;
}  // namespace

void HttpResponseParser::on_response_impl(int code, string_view, int, error_code&) {
    // basic_parser accepts only three-digit status codes.
    response_.status = static_cast<unsigned>(code);
    response_.headers.reserve(expected_fields);
}

void HttpResponseParser::on_field_impl(http::field, string_view name, string_view value,
                                       error_code&) {
    response_.headers.emplace_back(std::piecewise_construct,
                                   std::forward_as_tuple(name.data(), name.size()),
                                   std::forward_as_tuple(value.data(), value.size()));
}

void HttpResponseParser::on_body_init_impl(const boost::optional<std::uint64_t>& content_length,
                                           error_code& ec) {
    // As Beast's string_body: a declared length the string cannot hold fails up front, and
    // the body's storage is taken once. (basic_parser has already checked body_limit.)
    if (!content_length)
        return;
    if (*content_length > response_.body.max_size() - response_.body.size()) {
        ec = http::error::buffer_overflow;
        return;
    }
    response_.body.reserve(response_.body.size() + static_cast<std::size_t>(*content_length));
}

std::size_t HttpResponseParser::on_body_impl(string_view body, error_code& ec) {
    if (body.size() > response_.body.max_size() - response_.body.size()) {
        ec = http::error::buffer_overflow;
        return 0;
    }
    response_.body.append(body.data(), body.size());
    return body.size();
}

std::size_t HttpResponseParser::on_chunk_body_impl(std::uint64_t, string_view body,
                                                   error_code& ec) {
    return on_body_impl(body, ec);
}

}  // namespace eci::detail
