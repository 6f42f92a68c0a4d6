// SPDX-License-Identifier: Apache-2.0
// The version of eci-sandbox these headers belong to. CMakeLists.txt checks that it equals
// `project(eci_sandbox VERSION ...)`, so the two cannot drift apart.
#pragma once

#include <string_view>

namespace eci {

inline constexpr int version_major = 0;
inline constexpr int version_minor = 2;
inline constexpr int version_patch = 0;
/// "MAJOR.MINOR.PATCH" of the headers.
inline constexpr std::string_view version_string = "0.2.0";

/// "MAJOR.MINOR.PATCH" of the compiled library that is linked in (equal to version_string
/// unless headers and library come from different installs). Thread safety: a pure function.
std::string_view version() noexcept;

}  // namespace eci
