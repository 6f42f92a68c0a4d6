// SPDX-License-Identifier: Apache-2.0
// decode_request: the sans-io first step of every API call. It turns what the HTTP parser
// read (method, target, header fields, body) into an IncomingRequest, refusing what no
// action could make sense of. Split from the transport so that it can be tested and fuzzed
// without sockets (fuzz/emulator_request_fuzzer.cpp runs it with authenticate()).
#pragma once

#include "emulator/api_error.hpp"
#include "emulator/request.hpp"

#include <cstddef>
#include <string>
#include <string_view>
#include <variant>

namespace eci::emulator {

/// The most parameters (query plus form fields) one request may carry. The service's
/// largest requests (a create with many containers, variables and volumes) stay far below.
inline constexpr std::size_t max_request_params = 10'000;

/// Decodes one request: splits `target` into path and query, percent-decodes the query and,
/// for a `application/x-www-form-urlencoded` body, the form fields (appended to `params`).
///
/// Errors (the ApiError the server sends, HTTP 400, InvalidParameter): malformed
/// percent-encoding; more than max_request_params parameters; a parameter name or value that
/// is not valid UTF-8 (the message names the parameter when its name is valid UTF-8). Nothing
/// is echoed back but the parameter name, truncated.
std::variant<IncomingRequest, ApiError> decode_request(std::string method, std::string_view target,
                                                       eci::detail::Headers headers,
                                                       std::string body, bool remote_is_loopback);

/// Whether `text` is well-formed UTF-8 (no overlong forms, no surrogates, <= U+10FFFF).
bool is_valid_utf8(std::string_view text) noexcept;

}  // namespace eci::emulator
