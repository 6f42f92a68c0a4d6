// SPDX-License-Identifier: Apache-2.0
#include "emulator/request_auth.hpp"

#include "emulator/metadata_service.hpp"

#include "core/crypto.hpp"
#include "core/signing.hpp"
#include "core/time_format.hpp"

#include <algorithm>
#include <cctype>

namespace eci::emulator {

namespace {

bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

std::optional<ApiError> check_timestamp(std::string_view text, const AuthConfig& config,
                                        std::chrono::system_clock::time_point now) {
    auto parsed = eci::detail::parse_utc_timestamp(text);
    if (!parsed)
        return errors::timestamp_format();
    // In whole seconds: converting a year-4000 timestamp to the clock's nanoseconds would
    // overflow (found by fuzz/emulator_request_fuzzer.cpp).
    const auto skew = std::chrono::abs(std::chrono::floor<std::chrono::seconds>(now) - *parsed);
    if (skew > config.max_clock_skew)
        return errors::timestamp_expired();
    return std::nullopt;
}

std::optional<ApiError> check_token(std::optional<std::string_view> token,
                                    const AuthConfig& config) {
    if (config.security_token.empty()) {
        // A long-term key was configured: a token cannot belong to it.
        if (token && !token->empty())
            return errors::invalid_security_token();
        return std::nullopt;
    }
    if (!token || token->empty())
        return errors::missing_security_token();
    if (!eci::detail::constant_time_equal(*token, config.security_token)) {
        return errors::invalid_security_token();
    }
    return std::nullopt;
}

// The keys `key_id` names: the configured ones, or STS credentials the metadata listener
// issued (while they last). Fills `selected` on success.
std::optional<ApiError> select_keys(std::string_view key_id, const AuthConfig& configured,
                                    std::chrono::system_clock::time_point now,
                                    AuthConfig& selected) {
    selected = configured;
    if (key_id == configured.access_key_id)
        return std::nullopt;
    if (configured.issued) {
        if (auto issued = configured.issued->find(key_id)) {
            if (now >= issued->expiration)
                return errors::security_token_expired();
            selected.access_key_id = std::move(issued->access_key_id);
            selected.access_key_secret = std::move(issued->access_key_secret);
            selected.security_token = std::move(issued->security_token);
            return std::nullopt;
        }
    }
    return errors::access_key_not_found();
}

std::variant<AuthenticatedCall, ApiError> authenticate_acs3(
    const IncomingRequest& request, std::string_view authorization, const AuthConfig& configured,
    NonceCache& nonces, std::chrono::system_clock::time_point now,
    NonceCache::Clock::time_point steady_now) {
    auto parsed = eci::detail::parse_acs3_authorization(authorization);
    if (!parsed)
        return errors::incomplete_signature();
    AuthConfig config;
    if (auto e = select_keys(parsed->credential, configured, now, config))
        return *e;

    auto date = request.header("x-acs-date");
    if (!date)
        return errors::missing_parameter("x-acs-date");
    if (auto e = check_timestamp(*date, config, now))
        return *e;
    auto nonce = request.header("x-acs-signature-nonce");
    if (!nonce || nonce->empty())
        return errors::missing_parameter("x-acs-signature-nonce");
    auto content_hash = request.header("x-acs-content-sha256");
    if (!content_hash)
        return errors::missing_parameter("x-acs-content-sha256");
    std::string body_hash = eci::detail::sha256_hex(request.body);
    if (!iequals(*content_hash, body_hash))
        return errors::content_sha256_mismatch();

    // A header the rule covers but the client did not sign could be swapped in transit
    // (e.g. x-acs-security-token): refuse, as an incomplete signature.
    for (const auto& name :
         eci::detail::acs3_unsigned_headers(request.headers, parsed->signed_headers)) {
        if (name.starts_with("x-acs-"))
            return errors::incomplete_signature();
    }

    auto expected = eci::detail::acs3_expected_signature(
        config.access_key_secret, request.method, request.path, request.query, request.headers,
        parsed->signed_headers, *content_hash);
    if (!eci::detail::constant_time_equal(expected.signature, parsed->signature)) {
        return errors::signature_mismatch_v3(expected.string_to_sign);
    }
    if (!nonces.insert(*nonce, steady_now))
        return errors::nonce_used();
    if (auto e = check_token(request.header("x-acs-security-token"), config))
        return *e;

    auto action = request.header("x-acs-action");
    if (!action || action->empty())
        return errors::missing_parameter("x-acs-action");
    auto version = request.header("x-acs-version");
    if (!version || version->empty())
        return errors::missing_parameter("x-acs-version");
    return AuthenticatedCall{std::string(*action), std::string(*version), true,
                             config.access_key_id};
}

std::variant<AuthenticatedCall, ApiError> authenticate_rpc(
    const IncomingRequest& request, const AuthConfig& configured, NonceCache& nonces,
    std::chrono::system_clock::time_point now, NonceCache::Clock::time_point steady_now) {
    const auto& params = request.params;
    auto signature = eci::detail::find_param(params, "Signature");
    if (!signature || signature->empty())
        return errors::missing_parameter("Signature");
    auto key_id = eci::detail::find_param(params, "AccessKeyId");
    if (!key_id || key_id->empty())
        return errors::missing_parameter("AccessKeyId");
    auto method = eci::detail::find_param(params, "SignatureMethod");
    if (!method || method->empty())
        return errors::missing_parameter("SignatureMethod");
    if (*method != "HMAC-SHA1")
        return errors::incomplete_signature();
    if (auto sv = eci::detail::find_param(params, "SignatureVersion"); sv && *sv != "1.0") {
        return errors::incomplete_signature();
    }
    auto nonce = eci::detail::find_param(params, "SignatureNonce");
    if (!nonce || nonce->empty())
        return errors::missing_parameter("SignatureNonce");
    auto timestamp = eci::detail::find_param(params, "Timestamp");
    if (!timestamp || timestamp->empty())
        return errors::missing_parameter("Timestamp");

    AuthConfig config;
    if (auto e = select_keys(*key_id, configured, now, config))
        return *e;
    if (auto e = check_timestamp(*timestamp, config, now))
        return *e;

    auto expected =
        eci::detail::rpc_expected_signature(config.access_key_secret, request.method, params);
    if (!eci::detail::constant_time_equal(expected.signature, *signature)) {
        return errors::signature_mismatch_v2(expected.string_to_sign);
    }
    if (!nonces.insert(*nonce, steady_now))
        return errors::nonce_used();
    if (auto e = check_token(eci::detail::find_param(params, "SecurityToken"), config))
        return *e;

    auto action = eci::detail::find_param(params, "Action");
    if (!action || action->empty())
        return errors::missing_parameter("Action");
    auto version = eci::detail::find_param(params, "Version");
    if (!version || version->empty())
        return errors::missing_parameter("Version");
    return AuthenticatedCall{std::string(*action), std::string(*version), false,
                             config.access_key_id};
}

}  // namespace

std::optional<std::string_view> IncomingRequest::header(std::string_view name) const {
    for (const auto& [key, value] : headers) {
        if (iequals(key, name))
            return std::string_view(value);
    }
    return std::nullopt;
}

std::variant<AuthenticatedCall, ApiError> authenticate(const IncomingRequest& request,
                                                       const AuthConfig& config, NonceCache& nonces,
                                                       std::chrono::system_clock::time_point now,
                                                       NonceCache::Clock::time_point steady_now) {
    if (auto authorization = request.header("authorization")) {
        return authenticate_acs3(request, *authorization, config, nonces, now, steady_now);
    }
    return authenticate_rpc(request, config, nonces, now, steady_now);
}

}  // namespace eci::emulator
