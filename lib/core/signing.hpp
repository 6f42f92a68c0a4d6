// SPDX-License-Identifier: Apache-2.0
// Request signing for Alibaba Cloud OpenAPI, both algorithms, as pure functions: the client
// signs with them and the emulator verifies with the very same code (docs/signing.md).
//
// - ACS3-HMAC-SHA256 (V3, the SDK's default): an `Authorization` header over a canonical
//   request (method, path, sorted query, signed headers, payload hash).
// - RPC V2 HMAC-SHA1: a `Signature` parameter over the sorted parameters.
//
// Every function here is thread-safe and allocation is its only side effect. Secrets go in
// as arguments and come out only inside signatures; no function logs or keeps them. The
// strings to sign hold no secret (the service echoes them in SignatureDoesNotMatch).
#pragma once

#include "core/crypto.hpp"
#include "core/params.hpp"

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace eci::detail {

/// HTTP header fields as name/value pairs, in send order. Names compare case-insensitively
/// wherever signing looks at them.
using Headers = std::vector<std::pair<std::string, std::string>>;

/// The credentials a request is signed with. Views: the caller keeps the strings alive for
/// the duration of the call.
struct SigningKey {
    std::string_view access_key_id;
    std::string_view access_key_secret;
    std::string_view security_token;  ///< STS token; empty for a long-term AccessKey
};

/// The value the service compares with the one a request carries, and the string it was
/// computed from (safe to show: no secret in it).
struct ExpectedSignature {
    std::string signature;
    std::string string_to_sign;
};

// ------------------------------------------------------------------------------------------
// ACS3-HMAC-SHA256

inline constexpr std::string_view acs3_algorithm = "ACS3-HMAC-SHA256";

/// Lower-case hex SHA-256 of an empty payload (what `x-acs-content-sha256` carries when the
/// body is empty, as the SDK sends every ECI call).
inline constexpr std::string_view empty_payload_sha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// The header part of a canonical request.
struct Acs3CanonicalHeaders {
    std::string lines;         ///< `name:value\n` per signed header, names sorted
    std::string signed_names;  ///< the same names joined by `;`, e.g. `host;x-acs-action`
};

/// Whether ACS3 signs a header of this name: `host`, `content-type` and every `x-acs-*`
/// (any case).
bool acs3_is_signed_header(std::string_view name);

/// Canonical headers by the signing rule: every header `acs3_is_signed_header` accepts,
/// names lower-cased and sorted (byte order), values trimmed of spaces and tabs; a name that
/// appears more than once gets its values joined by `,` in send order.
Acs3CanonicalHeaders acs3_canonical_headers(const Headers& headers);

/// Canonical headers over an explicit list of names (the `SignedHeaders` of a request being
/// verified), matched case-insensitively. A listed name with no header gets an empty value,
/// so the signature simply fails to match. Duplicates in `names` count once.
Acs3CanonicalHeaders acs3_canonical_headers(const Headers& headers,
                                            std::span<const std::string> names);

/// The canonical request:
/// `method\npathname\ncanonical_query(query)\nlines\nsigned_names\npayload_sha256`.
/// `query` holds decoded values (never the wire text); an empty pathname counts as `/`.
std::string acs3_canonical_request(std::string_view method, std::string_view pathname,
                                   std::span<const Param> query,
                                   const Acs3CanonicalHeaders& headers,
                                   std::string_view payload_sha256);

/// `ACS3-HMAC-SHA256\n` + lower-case hex SHA-256 of the canonical request.
std::string acs3_string_to_sign(std::string_view canonical_request);

/// Lower-case hex HMAC-SHA256(key = secret, string_to_sign).
std::string acs3_signature(std::string_view access_key_secret, std::string_view string_to_sign);

/// `ACS3-HMAC-SHA256 Credential=<id>,SignedHeaders=<names>,Signature=<hex>`.
std::string acs3_authorization(std::string_view access_key_id, std::string_view signed_names,
                               std::string_view signature);

/// The parts of an ACS3 `Authorization` header.
struct Acs3Authorization {
    std::string credential;                   ///< the AccessKey id
    std::vector<std::string> signed_headers;  ///< lower-cased, in the order given
    std::string signature;                    ///< as sent (normally 64 lower-case hex)
};

/// Parses an ACS3 `Authorization` value. Accepts optional spaces after the commas and the
/// fields in any order; ignores unknown `key=value` fields. Returns nullopt when the
/// algorithm is not ACS3-HMAC-SHA256, a field is malformed or repeated, or Credential,
/// SignedHeaders or Signature is missing or empty (the service: IncompleteSignature).
std::optional<Acs3Authorization> parse_acs3_authorization(std::string_view value);

/// What one ACS3 call sends besides the signing headers. Views: valid for the call only.
struct Acs3Request {
    std::string_view action;   ///< e.g. `CreateContainerGroup`
    std::string_view version;  ///< API version, `2018-08-08` for ECI
    std::string_view host;     ///< e.g. `eci.cn-hangzhou.aliyuncs.com`
    std::string_view method = "POST";
    std::string_view pathname = "/";
    std::span<const Param> query;   ///< decoded, in wire order
    std::string_view body;          ///< raw bytes; its SHA-256 is signed
    std::string_view content_type;  ///< sent and signed when not empty
};

/// Signs a call as the official SDK does and returns the headers to send, in this order:
/// host, x-acs-action, x-acs-version, x-acs-date, x-acs-signature-nonce,
/// x-acs-content-sha256, [x-acs-security-token, x-acs-accesskey-id when the key has a
/// token], [content-type when set], authorization. The transport adds user-agent, accept
/// and content-length (unsigned). `date` is `format_utc_timestamp(now)`; `nonce` must be
/// fresh per request (e.g. `random_hex(16)`); neither is checked here. The query goes on
/// the wire as `build_query(query)`; any lenient encoding of it verifies the same.
Headers sign_acs3(const SigningKey& key, const Acs3Request& request, std::string_view date,
                  std::string_view nonce);

/// sign_acs3 with the secret's MAC key prepared once: `secret_mac` must be
/// HmacKey(HmacAlgorithm::sha256, key.access_key_secret). Same headers, less work per call.
Headers sign_acs3(const SigningKey& key, const HmacKey& secret_mac, const Acs3Request& request,
                  std::string_view date, std::string_view nonce);

/// Buffers one signer reuses from call to call (their capacity stays), so signing allocates
/// only what it returns. Holds no secret: the canonical request and the string to sign are
/// public (the service echoes them). Thread safety: none; one per client.
struct Acs3Scratch {
    std::string canonical_request;
    std::string string_to_sign;
    std::string signed_names;
};

/// sign_acs3 with the prepared MAC key and buffers reused across calls. Same headers.
Headers sign_acs3(const SigningKey& key, const HmacKey& secret_mac, const Acs3Request& request,
                  std::string_view date, std::string_view nonce, Acs3Scratch& scratch);

/// The ACS3 signature a server expects for a received request. `query` is the wire query
/// decoded by `parse_query` (so `!'()*` left raw by JS encodeURIComponent and `%21` give
/// the same result); `headers` are the received headers; `signed_names` comes from the
/// request's Authorization (see parse_acs3_authorization); `payload_sha256` is the hex
/// SHA-256 the server computed over the body it received. Compare the result with
/// `constant_time_equal`.
ExpectedSignature acs3_expected_signature(std::string_view access_key_secret,
                                          std::string_view method, std::string_view pathname,
                                          const Params& query, const Headers& headers,
                                          std::span<const std::string> signed_names,
                                          std::string_view payload_sha256);

/// Names of received headers that the signing rule covers (`acs3_is_signed_header`) but
/// `signed_names` leaves out, lower-cased, sorted, without duplicates. A verifier refuses a
/// request for which this is not empty: otherwise a header like x-acs-security-token could
/// be swapped without breaking the signature.
std::vector<std::string> acs3_unsigned_headers(const Headers& headers,
                                               std::span<const std::string> signed_names);

// ------------------------------------------------------------------------------------------
// RPC V2 HMAC-SHA1

/// `METHOD&%2F&` + percent_encode(canonical_query(params without `Signature`)).
std::string rpc_string_to_sign(std::string_view method, const Params& params);

/// Base64(HMAC-SHA1(key = secret + "&", string_to_sign)).
std::string rpc_signature(std::string_view access_key_secret, std::string_view string_to_sign);

/// What one RPC call sends besides the common parameters. Views: valid for the call only.
struct RpcRequest {
    std::string_view action;
    std::string_view version;  ///< `2018-08-08` for ECI
    std::string_view method = "POST";
    std::span<const Param> params;  ///< business parameters, decoded, in wire order
};

/// Signs a call as the SDK does with signatureAlgorithm "v2" and returns every parameter to
/// send, in this order: Action, Format=JSON, Version, Timestamp, SignatureNonce,
/// SignatureMethod=HMAC-SHA1, SignatureVersion=1.0, AccessKeyId, the business parameters,
/// [SecurityToken], Signature. `timestamp` is `format_utc_timestamp(now)`; `nonce` must be
/// fresh per request. Put them on the wire with `build_query`.
Params sign_rpc(const SigningKey& key, const RpcRequest& request, std::string_view timestamp,
                std::string_view nonce);

/// sign_rpc with the secret's MAC key prepared once: `secret_mac` must be
/// HmacKey(HmacAlgorithm::sha1, rpc_signing_key(key.access_key_secret)). Same parameters.
Params sign_rpc(const SigningKey& key, const HmacKey& secret_mac, const RpcRequest& request,
                std::string_view timestamp, std::string_view nonce);

/// The HMAC-SHA1 key RPC V2 signs with: the secret followed by `&`.
std::string rpc_signing_key(std::string_view access_key_secret);

/// The RPC signature a server expects. `params` are all received parameters, decoded (the
/// query and, for a form body, its fields); a `Signature` among them is ignored.
ExpectedSignature rpc_expected_signature(std::string_view access_key_secret,
                                         std::string_view method, const Params& params);

}  // namespace eci::detail
