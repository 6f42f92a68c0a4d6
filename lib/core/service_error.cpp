// SPDX-License-Identifier: Apache-2.0
#include "core/service_error.hpp"
#include "core/redact.hpp"

#include <fmt/format.h>
#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/parse_options.hpp>

#include <array>

namespace eci::detail {

namespace {

namespace json = boost::json;

// `code` is `family` itself or `family.<something>`, e.g. InvalidTimeStamp.Expired.
bool in_family(std::string_view code, std::string_view family) noexcept {
    if (!code.starts_with(family))
        return false;
    return code.size() == family.size() || code[family.size()] == '.';
}

// API-name problems that happen to say NotFound: they mean "our request is wrong", not "the
// sandbox is gone", so they must not reach callers as not_found.
bool is_api_name_code(std::string_view code) noexcept {
    constexpr std::array families{std::string_view("InvalidAction"), std::string_view("InvalidApi"),
                                  std::string_view("InvalidProduct"),
                                  std::string_view("InvalidRegion"),
                                  std::string_view("InvalidVersion")};
    for (std::string_view family : families)
        if (in_family(code, family))
            return true;
    return false;
}

bool is_invalid_argument_code(std::string_view code) noexcept {
    return code.starts_with("Invalid") || code.starts_with("Missing") ||
           code == "IdempotentParameterMismatch" || code == "UnsupportedHTTPMethod";
}

std::string_view message_for_kind(ErrorKind kind) {
    switch (kind) {
        case ErrorKind::throttled:
            return "the service throttled the call";
        case ErrorKind::auth:
            return "the service refused the credentials, signature or permission";
        case ErrorKind::not_found:
            return "the service says the resource does not exist";
        case ErrorKind::invalid_argument:
            return "the service refused a parameter of the call";
        default:
            return "the service failed or refused the call";
    }
}

// The string member `upper` or, failing that, `lower` of `object`; empty when neither is a
// string.
std::string string_member(const json::object& object, std::string_view upper,
                          std::string_view lower) {
    for (std::string_view key : {upper, lower}) {
        if (const json::value* found = object.if_contains(key)) {
            if (const json::string* text = found->if_string())
                return std::string(*text);
        }
    }
    return {};
}

// Parses with the depth limit; protocol error (with excerpt) when the body is not JSON.
Result<json::value> parse_limited(std::string_view body, std::string_view what) {
    json::parse_options options;
    options.max_depth = max_json_depth;
    boost::system::error_code ec;
    // One arena per reply, freed with the value: a reply is read once and dropped, so
    // per-node allocations (an object, a string, an array each) buy nothing.
    json::value value = json::parse(
        body, ec, json::make_shared_resource<json::monotonic_resource>(body.size() * 2 + 256),
        options);
    if (ec) {
        return Error::make(ErrorKind::protocol,
                           fmt::format("{} is not valid JSON ({}): \"{}\"", what, ec.message(),
                                       sanitized_excerpt(body)));
    }
    return value;
}

}  // namespace

bool is_throttling_code(std::string_view code) noexcept {
    return code.starts_with("Throttling");
}

bool is_auth_code(std::string_view code) noexcept {
    return code == "SignatureDoesNotMatch" || code == "IncompleteSignature" ||
           code == "SignatureNonceUsed" || code == "MissingSecurityToken" ||
           code == "InvalidSignatureMethod" || in_family(code, "InvalidAccessKeyId") ||
           in_family(code, "InvalidTimeStamp") || in_family(code, "InvalidSecurityToken") ||
           code.starts_with("Forbidden") || in_family(code, "NoPermission");
}

bool is_not_found_code(std::string_view code) noexcept {
    return code.find("NotFound") != std::string_view::npos && !is_auth_code(code) &&
           !is_api_name_code(code);
}

ErrorKind error_kind_for_code(std::string_view code, unsigned http_status) noexcept {
    if (is_throttling_code(code))
        return ErrorKind::throttled;
    if (is_auth_code(code))
        return ErrorKind::auth;
    // A 5xx is the service's failure whatever code it carries: worth a retry, not a fix.
    if (http_status >= 500)
        return ErrorKind::service;
    if (is_not_found_code(code))
        return ErrorKind::not_found;
    if (is_invalid_argument_code(code))
        return ErrorKind::invalid_argument;
    // IncorrectStatus (wrong lifecycle state) and OperationConflict (a concurrent request)
    // are refusals of a valid request: service, not retryable by default.
    if (!code.empty())
        return ErrorKind::service;
    if (http_status == 429)
        return ErrorKind::throttled;
    if (http_status == 401 || http_status == 403)
        return ErrorKind::auth;
    return ErrorKind::service;
}

std::string sanitized_excerpt(std::string_view raw, std::size_t max_bytes) {
    // Credentials go before the cut, so none survives half-hidden at the end of the excerpt.
    const std::string redacted = redact_secrets(raw);
    const std::string_view text = redacted;
    std::string out;
    const std::size_t n = std::min(text.size(), max_bytes);
    out.reserve(n + 8);
    for (std::size_t i = 0; i < n; ++i) {
        const auto byte = static_cast<unsigned char>(text[i]);
        switch (byte) {
            case '\n':
                out += "\\n";
                break;
            case '\r':
                out += "\\r";
                break;
            case '\t':
                out += "\\t";
                break;
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            default:
                if (byte < 0x20 || byte >= 0x7f) {
                    out += fmt::format("\\x{:02x}", byte);
                } else {
                    out += static_cast<char>(byte);
                }
        }
    }
    if (text.size() > max_bytes)
        out += "...";
    return out;
}

Error error_from_response(unsigned http_status, std::string_view body, std::string_view endpoint) {
    const std::string what = fmt::format("the HTTP {} error reply", http_status);
    Result<json::value> parsed = parse_limited(body, what);
    Error error;
    if (!parsed.ok()) {
        error = std::move(parsed).error();
    } else if (const json::object* object = parsed->if_object()) {
        error.code = string_member(*object, "Code", "code");
        // The service may quote our request (V2's string to sign holds SecurityToken=...).
        error.service_message = redact_secrets(string_member(*object, "Message", "message"));
        error.request_id = string_member(*object, "RequestId", "requestId");
        error.kind = error_kind_for_code(error.code, http_status);
        error.message = std::string(message_for_kind(error.kind));
        if (error.code.empty())
            error.message += " (the reply carries no error Code)";
    } else {
        error = Error::make(ErrorKind::protocol, fmt::format("{} is JSON but not an object: \"{}\"",
                                                             what, sanitized_excerpt(body)));
    }
    error.http_status = static_cast<int>(http_status);
    error.endpoint = std::string(endpoint);
    return error;
}

Result<json::value> parse_success_body(std::string_view body) {
    Result<json::value> parsed = parse_limited(body, "the reply body");
    if (!parsed.ok())
        return parsed;
    if (!parsed->is_object()) {
        return Error::make(ErrorKind::protocol,
                           fmt::format("the reply body is JSON but not an object: \"{}\"",
                                       sanitized_excerpt(body)));
    }
    return parsed;
}

Error make_service_error(std::string code, std::string message, unsigned http_status) {
    Error error;
    error.kind = error_kind_for_code(code, http_status);
    error.code = std::move(code);
    error.message = std::move(message);
    error.http_status = static_cast<int>(http_status);
    return error;
}

Error missing_parameter_error(std::string_view name) {
    return make_service_error("MissingParameter",
                              fmt::format("The input parameter \"{}\" that is mandatory for "
                                          "processing this request is not supplied.",
                                          name),
                              400);
}

Error invalid_parameter_error(std::string_view name, std::string_view detail) {
    std::string message = fmt::format("The specified parameter \"{}\" is not valid.", name);
    if (!detail.empty())
        message += fmt::format(" ({})", detail);
    return make_service_error("InvalidParameter", std::move(message), 400);
}

std::string recommend_url(std::string_view code, std::string_view request_id) {
    return fmt::format("https://api.aliyun.com/troubleshoot?q={}&product=Eci&requestId={}", code,
                       request_id);
}

json::object service_error_body(std::string_view request_id, std::string_view host_id,
                                std::string_view code, std::string_view message) {
    json::object body;
    body["RequestId"] = request_id;
    body["HostId"] = host_id;
    body["Code"] = code;
    body["Message"] = message;
    body["Recommend"] = recommend_url(code, request_id);
    return body;
}

}  // namespace eci::detail
