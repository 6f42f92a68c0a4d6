// SPDX-License-Identifier: Apache-2.0
// Authentication of an RPC-style call as the service's gateway does it: ACS3-HMAC-SHA256
// (Authorization header) or RPC V2 HMAC-SHA1 (Signature parameter), timestamp window, nonce
// replay, STS token. Sans-io; verification uses lib/core/signing (the client's own code).
#pragma once

#include "emulator/api_error.hpp"
#include "emulator/nonce_cache.hpp"
#include "emulator/request.hpp"

#include <chrono>
#include <memory>
#include <string>
#include <variant>

namespace eci::emulator {

class IssuedCredentials;

/// The credentials the emulator accepts.
struct AuthConfig {
    std::string access_key_id;
    std::string access_key_secret;
    std::string security_token;  ///< non-empty: every call must carry exactly this token
    std::chrono::seconds max_clock_skew{15 * 60};
    /// STS credentials the metadata listener handed out (emulator/metadata_service.hpp),
    /// accepted with their own secret and token until they expire
    /// (InvalidSecurityToken.Expired after). Null = none.
    std::shared_ptr<const IssuedCredentials> issued{};
};

/// An authenticated call: which action and API version it asks for.
struct AuthenticatedCall {
    std::string action;
    std::string version;
    bool v3 = false;            ///< ACS3 (true) or RPC V2 (false)
    std::string access_key_id;  ///< the key that signed it (per-AccessKey limits)
};

/// Checks one request. On success returns the action it names; otherwise the ApiError the
/// service would send (MissingParameter, IncompleteSignature, InvalidAccessKeyId.NotFound,
/// InvalidTimeStamp.Format/.Expired, SignatureDoesNotMatch, SignatureNonceUsed,
/// MissingSecurityToken, InvalidSecurityToken.*, ContentSHA256NotMatched). A nonce is
/// recorded only once the signature matched, so a refused request does not burn it.
/// `now` is wall-clock time (for the timestamp window); `steady_now` ages the nonce cache.
std::variant<AuthenticatedCall, ApiError> authenticate(const IncomingRequest& request,
                                                       const AuthConfig& config, NonceCache& nonces,
                                                       std::chrono::system_clock::time_point now,
                                                       NonceCache::Clock::time_point steady_now);

}  // namespace eci::emulator
