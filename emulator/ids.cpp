// SPDX-License-Identifier: Apache-2.0
#include "emulator/ids.hpp"

#include <string_view>

namespace eci::emulator {

IdSource::IdSource(std::uint64_t seed) : random_(seed ^ 0x9e3779b97f4a7c15ULL) {}

std::string IdSource::request_id() {
    std::uniform_int_distribution<int> nibble(0, 15);
    static constexpr std::string_view hex = "0123456789ABCDEF";
    std::string id;
    for (int group : {8, 4, 4, 4, 12}) {
        if (!id.empty())
            id.push_back('-');
        for (int i = 0; i < group; ++i)
            id.push_back(hex[static_cast<std::size_t>(nibble(random_))]);
    }
    return id;
}

std::string IdSource::alnum(std::size_t n) {
    static constexpr std::string_view alphabet = "0123456789abcdefghijklmnopqrstuvwxyz";
    std::uniform_int_distribution<std::size_t> pick(0, alphabet.size() - 1);
    std::string out;
    out.reserve(n);
    for (std::size_t i = 0; i < n; ++i)
        out.push_back(alphabet[pick(random_)]);
    return out;
}

}  // namespace eci::emulator
