// SPDX-License-Identifier: Apache-2.0
// Credentials from the profiles of the official Alibaba Cloud CLI (`aliyun configure`), kept
// in ~/.aliyun/config.json: {"current": NAME, "profiles": [{"name", "mode", "access_key_id",
// "access_key_secret", "sts_token", "region_id", ...}]}.
#pragma once

#include <eci/result.hpp>

#include <filesystem>
#include <string>
#include <string_view>

namespace eci::cli {

/// What one profile gives. Never formatted or logged (it holds the secret).
struct AliyunProfile {
    std::string name;
    std::string access_key_id;
    std::string access_key_secret;
    std::string security_token;  ///< StsToken mode only
    std::string region_id;       ///< may be empty
};

/// The profile `wanted` (empty: the file's "current", else "default") of the config file
/// text. Modes AK and StsToken are supported; the others (RamRoleArn, EcsRamRole, ...) need
/// a token exchange this client does not make. Errors: invalid_argument for malformed JSON,
/// a missing profile, an unsupported mode, or a profile without its keys. Messages name the
/// profile and the mode, never a value. Thread safety: a pure function.
Result<AliyunProfile> parse_aliyun_config(std::string_view text, std::string_view wanted);

/// `$HOME/.aliyun/config.json` (empty when HOME is not set).
std::filesystem::path aliyun_config_path();

/// Reads and parses the file at `path`. Errors: invalid_argument when it cannot be read;
/// those of parse_aliyun_config.
Result<AliyunProfile> read_aliyun_profile(const std::filesystem::path& path,
                                          std::string_view wanted);

}  // namespace eci::cli
