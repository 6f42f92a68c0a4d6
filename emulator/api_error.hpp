// SPDX-License-Identifier: Apache-2.0
// ApiError: a refusal the emulator sends as the service would (HTTP status, Code, Message).
// The messages are the service's protocol literals (docs/emulator.md lists the sources).
#pragma once

#include <string>
#include <string_view>

namespace eci::emulator {

struct ApiError {
    int http_status = 400;
    std::string code;
    std::string message;
};

namespace errors {
ApiError missing_parameter(std::string_view name);
ApiError invalid_parameter(std::string_view name);
/// InvalidParameter with a specific message (e.g. a sub-code's explanation).
ApiError invalid_parameter_message(std::string message);
ApiError invalid_parameter_not_found(std::string_view what);
ApiError value_exceeded(std::string_view name, std::size_t limit);
ApiError incomplete_signature();
ApiError signature_mismatch_v2(std::string_view server_string_to_sign);
ApiError signature_mismatch_v3(std::string_view server_string_to_sign);
ApiError access_key_not_found();
ApiError nonce_used();
ApiError timestamp_expired();
ApiError timestamp_format();
ApiError missing_security_token();
ApiError invalid_security_token();
ApiError security_token_expired();
ApiError content_sha256_mismatch();
ApiError throttling_user(int http_status);
ApiError service_unavailable();
ApiError internal_error();
ApiError invalid_action(std::string_view action);
ApiError invalid_version();
ApiError invalid_region(std::string_view region);
ApiError incorrect_status(std::string_view status);
ApiError idempotent_mismatch();
ApiError container_group_not_found();
ApiError container_not_found(std::string_view name);
ApiError unsupported_method();
/// HTTP 413 (body) or 431 (header): the request is larger than the server reads. The code
/// is the emulator's own; the service's gateway answers such requests before ECI sees them.
ApiError request_too_large(std::string_view part, std::size_t limit);
}  // namespace errors

}  // namespace eci::emulator
