// SPDX-License-Identifier: Apache-2.0
#include <eci/version.hpp>

namespace eci {

std::string_view version() noexcept {
    // Compiled into the library, so it reports the library's version even when a program
    // was built against other headers.
    return version_string;
}

}  // namespace eci
