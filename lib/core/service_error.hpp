// SPDX-License-Identifier: Apache-2.0
// Service error bodies: turning a failed reply into an eci::Error (client side) and building
// service-style error bodies (emulator side). Sans-io.
#pragma once

#include <eci/error.hpp>
#include <eci/result.hpp>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstddef>
#include <string>
#include <string_view>

namespace eci::detail {

/// Deepest JSON nesting accepted in a reply. ECI bodies nest about 6 levels; the limit only
/// stops a hostile or broken peer from making the parser recurse without bound.
inline constexpr std::size_t max_json_depth = 64;

/// Throttling, Throttling.User, Throttling.Api, ...
bool is_throttling_code(std::string_view code) noexcept;

/// Codes about credentials, signatures, timestamps, nonces, STS tokens and permissions.
bool is_auth_code(std::string_view code) noexcept;

/// Codes saying a named resource does not exist (ContainerGroup.NotFound,
/// InvalidParameter.NotFound, ResourceNotFound...), excluding the auth and API-name ones
/// (InvalidAccessKeyId.NotFound is auth; InvalidAction.NotFound is invalid_argument).
bool is_not_found_code(std::string_view code) noexcept;

/// The ErrorKind a service error Code (and the HTTP status, for codes we do not know) maps to.
/// The table is in docs/models.md. Thread safety: pure function.
ErrorKind error_kind_for_code(std::string_view code, unsigned http_status) noexcept;

/// Maps a failed reply (any non-2xx status) to an Error: kind from the Code (see
/// error_kind_for_code), code, service_message, request_id, http_status and endpoint filled
/// from the body, which may use PascalCase or lower-case keys. A body that is not a JSON
/// object (an HTML page from a proxy, a truncated reply) gives ErrorKind::protocol whose
/// message holds a short excerpt of the body with control and non-ASCII bytes escaped.
Error error_from_response(unsigned http_status, std::string_view body, std::string_view endpoint);

/// Parses a success body into a JSON object, refusing nesting deeper than max_json_depth.
/// The size is bounded by the transport. Errors: ErrorKind::protocol (not JSON, truncated,
/// too deep, not an object) with a sanitized excerpt of the body.
Result<boost::json::value> parse_success_body(std::string_view body);

/// At most `max_bytes` of `text`, safe to put in a log line: control bytes, quotes,
/// backslashes and bytes >= 0x80 are escaped (\n, \t, \xHH...), and "..." marks a cut.
std::string sanitized_excerpt(std::string_view text, std::size_t max_bytes = 120);

/// An Error as the service would report it: kind from error_kind_for_code, `code`,
/// `message` (the service-style text an emulator puts in its body) and `http_status`.
Error make_service_error(std::string code, std::string message, unsigned http_status);

/// 400 MissingParameter: `The input parameter "<name>" that is mandatory for processing this
/// request is not supplied.`
Error missing_parameter_error(std::string_view name);

/// 400 InvalidParameter: `The specified parameter "<name>" is not valid.` plus `detail`,
/// when given, in parentheses.
Error invalid_parameter_error(std::string_view name, std::string_view detail = {});

/// The Recommend URL of a service error body:
/// https://api.aliyun.com/troubleshoot?q=<code>&product=Eci&requestId=<request_id>
std::string recommend_url(std::string_view code, std::string_view request_id);

/// A service-style error body: {RequestId, HostId, Code, Message, Recommend}.
boost::json::object service_error_body(std::string_view request_id, std::string_view host_id,
                                       std::string_view code, std::string_view message);

}  // namespace eci::detail
