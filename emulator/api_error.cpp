// SPDX-License-Identifier: Apache-2.0
#include "api_error.hpp"

#include <fmt/format.h>

namespace eci::emulator::errors {

ApiError missing_parameter(std::string_view name) {
    return {400, "MissingParameter",
            fmt::format("The input parameter \"{}\" that is mandatory for processing this "
                        "request is not supplied.",
                        name)};
}

ApiError invalid_parameter(std::string_view name) {
    return {400, "InvalidParameter",
            fmt::format("The specified parameter \"{}\" is not valid.", name)};
}

ApiError invalid_parameter_message(std::string message) {
    return {400, "InvalidParameter", std::move(message)};
}

ApiError invalid_parameter_not_found(std::string_view what) {
    return {400, "InvalidParameter.NotFound", fmt::format("The specified {} is not found.", what)};
}

ApiError value_exceeded(std::string_view name, std::size_t limit) {
    return {400, "InvalidParameter.ValueExceeded",
            fmt::format("The specified parameter \"{}\" exceeds the limit of {}.", name, limit)};
}

ApiError incomplete_signature() {
    return {400, "IncompleteSignature",
            "The request signature does not conform to Aliyun standards."};
}

ApiError signature_mismatch_v2(std::string_view server_string_to_sign) {
    return {400, "SignatureDoesNotMatch",
            fmt::format("Specified signature is not matched with our calculation. server string to "
                        "sign is:{}",
                        server_string_to_sign)};
}

ApiError signature_mismatch_v3(std::string_view server_string_to_sign) {
    return {400, "SignatureDoesNotMatch",
            fmt::format("Specified signature does not match our calculation. server StringToSign "
                        "is [{}]",
                        server_string_to_sign)};
}

ApiError access_key_not_found() {
    return {404, "InvalidAccessKeyId.NotFound", "Specified access key is not found."};
}

ApiError nonce_used() {
    return {400, "SignatureNonceUsed", "Specified signature nonce was used already."};
}

ApiError timestamp_expired() {
    return {400, "InvalidTimeStamp.Expired", "Specified time stamp or date value is expired."};
}

ApiError timestamp_format() {
    return {400, "InvalidTimeStamp.Format",
            "Specified time stamp or date value is not well formatted."};
}

ApiError missing_security_token() {
    return {400, "MissingSecurityToken", "SecurityToken is mandatory for this action."};
}

ApiError invalid_security_token() {
    return {400, "InvalidSecurityToken.MismatchWithAccessKey",
            "Specified SecurityToken mismatch with the AccessKey."};
}

ApiError security_token_expired() {
    return {400, "InvalidSecurityToken.Expired", "Specified SecurityToken is expired."};
}

ApiError content_sha256_mismatch() {
    return {400, "ContentSHA256NotMatched",
            "The x-acs-content-sha256 header does not match the SHA-256 of the request body."};
}

ApiError throttling_user(int http_status) {
    return {http_status, "Throttling.User", "Request was denied due to user flow control."};
}

ApiError service_unavailable() {
    return {503, "ServiceUnavailable",
            "The request has failed due to a temporary failure of the server."};
}

ApiError internal_error() {
    return {500, "InternalError",
            "The request processing has failed due to some unknown error, exception or failure."};
}

ApiError invalid_action(std::string_view action) {
    (void)action;  // the service does not echo the name; keep the literal
    return {404, "InvalidAction.NotFound",
            "Specified api is not found, please check your url and method."};
}

ApiError invalid_version() {
    return {400, "InvalidVersion", "Specified parameter Version is not valid."};
}

ApiError invalid_region(std::string_view region) {
    return {400, "InvalidRegionId",
            fmt::format("The specified RegionId \"{}\" is not served here.", region)};
}

ApiError incorrect_status(std::string_view status) {
    return {400, "IncorrectStatus",
            fmt::format("The current status of the resource does not support this operation "
                        "(status: {}).",
                        status)};
}

ApiError idempotent_mismatch() {
    return {400, "IdempotentParameterMismatch",
            "The request uses the same client token as a previous, but non-identical request."};
}

ApiError container_group_not_found() {
    return invalid_parameter_not_found("ContainerGroupId");
}

ApiError container_not_found(std::string_view name) {
    return {400, "InvalidParameter.NotFound",
            fmt::format("The specified ContainerName \"{}\" is not found.", name)};
}

ApiError unsupported_method() {
    return {403, "UnsupportedHTTPMethod", "This http method is not supported."};
}

ApiError request_too_large(std::string_view part, std::size_t limit) {
    const bool body = part == "body";
    return {body ? 413 : 431, body ? "RequestEntityTooLarge" : "RequestHeaderTooLarge",
            fmt::format("The request {} exceeds the limit of {} bytes.", part, limit)};
}

}  // namespace eci::emulator::errors
