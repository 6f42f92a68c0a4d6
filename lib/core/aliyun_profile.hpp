// SPDX-License-Identifier: Apache-2.0
// Credentials from the profiles of the official Alibaba Cloud CLI (`aliyun configure`), kept
// in ~/.aliyun/config.json: {"current": NAME, "profiles": [{"name", "mode", "access_key_id",
// "access_key_secret", "sts_token", "ram_role_name", "region_id", ...}]}. load_config() reads
// them as one step of the credential chain (docs/configuration.md, "Credential chain").
#pragma once

#include <eci/result.hpp>

#include <filesystem>
#include <string>
#include <string_view>

namespace eci::detail {

/// What one profile gives. Never formatted or logged (it holds the secret).
struct AliyunProfile {
    std::string name;
    std::string mode;  ///< "AK" (also for an empty mode), "StsToken" or "EcsRamRole"
    std::string access_key_id;
    std::string access_key_secret;
    std::string security_token;  ///< StsToken mode only
    std::string ram_role_name;   ///< EcsRamRole mode only; empty = ask the metadata service
    std::string region_id;       ///< may be empty

    /// Whether the credentials come from the ECS metadata service (mode EcsRamRole).
    bool uses_ecs_ram_role() const noexcept { return mode == "EcsRamRole"; }
};

/// The profile `wanted` (empty: the file's "current", else "default") of the config file
/// text. Modes AK, StsToken and EcsRamRole are supported; the others (RamRoleArn, OIDC,
/// ChainableRamRoleArn, ...) need a token exchange this client does not make. Errors:
/// invalid_argument for malformed JSON, a missing profile, an unsupported mode, or an AK or
/// StsToken profile without its keys. Messages name the profile and the mode, never a value.
/// Thread safety: a pure function.
Result<AliyunProfile> parse_aliyun_config(std::string_view text, std::string_view wanted);

/// Reads and parses the file at `path`. Errors: invalid_argument when it cannot be read
/// (naming the path); those of parse_aliyun_config, prefixed with the path.
Result<AliyunProfile> read_aliyun_profile(const std::filesystem::path& path,
                                          std::string_view wanted);

}  // namespace eci::detail
