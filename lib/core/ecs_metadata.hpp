// SPDX-License-Identifier: Apache-2.0
// The ECS metadata service's RAM-role credentials, sans-io: the requests to make, what its
// answers mean, and when cached credentials must be replaced. lib/api/ecs_credentials.cpp
// carries these decisions out over HTTP (docs/configuration.md, "ECS RAM role").
#pragma once

#include <eci/config.hpp>
#include <eci/result.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace eci::detail {

/// The metadata service's paths and headers (the official credential libraries' IMDSv2 flow).
inline constexpr std::string_view metadata_token_path = "/latest/api/token";
inline constexpr std::string_view metadata_token_ttl_header =
    "X-aliyun-ecs-metadata-token-ttl-seconds";
inline constexpr std::string_view metadata_token_header = "X-aliyun-ecs-metadata-token";
inline constexpr std::string_view security_credentials_path =
    "/latest/meta-data/ram/security-credentials/";

/// STS credentials of a RAM role and the wall-clock time they stop being accepted.
struct RoleCredentials {
    Credentials credentials;
    std::chrono::system_clock::time_point expiration{};
};

/// Reads the body of `GET .../security-credentials/<role>`: a JSON object with "Code":
/// "Success", AccessKeyId, AccessKeySecret, SecurityToken and Expiration
/// (`yyyy-MM-ddTHH:mm:ssZ`). Errors: ErrorKind::protocol for anything else, ErrorKind::auth
/// for a Code other than Success. Messages never quote the body (it holds the secret).
/// Thread safety: a pure function.
Result<RoleCredentials> parse_role_credentials(std::string_view body);

/// Reads the body of `GET .../security-credentials/`: the attached role's name (the first
/// non-empty line). Errors: ErrorKind::auth when there is none (no role attached),
/// ErrorKind::protocol when it is not a plausible role name (at most 64 characters of
/// letters, digits, `-`, `_` and `.`).
Result<std::string> parse_role_list(std::string_view body);

/// Whether `name` can be put in the credentials path as is (the role name rule above).
bool is_valid_role_name(std::string_view name) noexcept;

/// When cached credentials are replaced, in steady-clock terms so that a wall-clock jump
/// neither keeps expired credentials nor refetches at every call.
struct CredentialSchedule {
    std::chrono::steady_clock::time_point refresh_at{};  ///< fetch new ones from here on
    std::chrono::steady_clock::time_point expires_at{};  ///< unusable from here on
};

/// The schedule of credentials fetched at (`system_now`, `steady_now`) that expire at
/// `expiration`. They are refreshed when what remains falls below a margin of 15% of their
/// lifetime, at least 5 s, at most 15 min (the official libraries' stale window) and at most
/// half the lifetime (so credentials that live only seconds, as in tests, are not refetched
/// at every call). Credentials already expired get refresh_at == expires_at == steady_now.
/// Thread safety: a pure function.
CredentialSchedule schedule_refresh(std::chrono::system_clock::time_point system_now,
                                    std::chrono::steady_clock::time_point steady_now,
                                    std::chrono::system_clock::time_point expiration);

/// What a caller does with cached credentials at `now`.
enum class CredentialAction {
    use,           ///< fresh enough
    refresh,       ///< still usable, but fetch new ones (use these if the fetch fails)
    must_refresh,  ///< expired or none: a successful fetch is needed
};

/// The decision for `schedule` at `now`; `have` = whether any credentials are cached.
CredentialAction credential_action(bool have, const CredentialSchedule& schedule,
                                   std::chrono::steady_clock::time_point now) noexcept;

/// A parsed metadata endpoint: plain HTTP only (the service is link-local and speaks no
/// TLS; docs/configuration.md says why no proxy is used either).
struct MetadataEndpoint {
    std::string host;
    std::uint16_t port = 80;
};

/// Parses `http://host[:port]`, `host` or `host:port` (IPv6 in brackets). Errors:
/// ErrorKind::invalid_argument for https or another scheme, a path, or a malformed host or
/// port.
Result<MetadataEndpoint> parse_metadata_endpoint(std::string_view text);

}  // namespace eci::detail
