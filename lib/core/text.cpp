// SPDX-License-Identifier: Apache-2.0
// The public text helpers (include/eci/text.hpp): the library's own implementations, exposed.
#include <eci/text.hpp>

#include "core/encoding.hpp"
#include "core/shell_wrappers.hpp"

namespace eci {

std::string shell_quote(std::string_view text) {
    return detail::shell_quote(text);
}

std::string base64_encode(std::string_view data) {
    return detail::base64_encode(data);
}

std::optional<std::string> base64_decode(std::string_view text) {
    return detail::base64_decode(text);
}

}  // namespace eci
