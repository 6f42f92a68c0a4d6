// SPDX-License-Identifier: Apache-2.0
// Sandbox (container group) names as the Python package makes them: normalisation of a
// caller's name and generation of a random one.
#pragma once

#include <string>
#include <string_view>

namespace eci::detail {

/// "sandbox-" + `suffix` cut to 128 and trimmed of '-' (the Python `_generate_name`).
std::string generated_sandbox_name(std::string_view suffix);

/// 10 random characters of [a-z0-9] from std::random_device.
std::string random_name_suffix();

/// The Python `_normalize_name`: lower-case ASCII, every byte outside [a-z0-9-] becomes '-'
/// (each byte of a multi-byte UTF-8 character too: the service accepts only ASCII), trimmed
/// of '-'; shorter than 2 chars -> generated_sandbox_name(random_suffix); cut to 128 and
/// trimmed of '-' again. Thread safety: a pure function.
std::string normalize_sandbox_name(std::string_view name, std::string_view random_suffix);

}  // namespace eci::detail
