// SPDX-License-Identifier: Apache-2.0
#include "core/sandbox_names.hpp"

#include <random>

namespace eci::detail {
namespace {

constexpr std::size_t max_name_length = 128;

std::string_view trim_dashes(std::string_view text) {
    while (!text.empty() && text.front() == '-')
        text.remove_prefix(1);
    while (!text.empty() && text.back() == '-')
        text.remove_suffix(1);
    return text;
}

std::string cut_and_trim(std::string_view text) {
    return std::string(trim_dashes(text.substr(0, max_name_length)));
}

}  // namespace

std::string generated_sandbox_name(std::string_view suffix) {
    std::string name = "sandbox-";
    name.append(suffix);
    return cut_and_trim(name);
}

std::string random_name_suffix() {
    static constexpr std::string_view alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
    std::random_device device;
    std::uniform_int_distribution<std::size_t> pick(0, alphabet.size() - 1);
    std::string suffix;
    for (int i = 0; i < 10; ++i)
        suffix.push_back(alphabet[pick(device)]);
    return suffix;
}

std::string normalize_sandbox_name(std::string_view name, std::string_view random_suffix) {
    std::string sanitized;
    sanitized.reserve(name.size());
    for (char c : name) {
        if (c >= 'A' && c <= 'Z') {
            sanitized.push_back(static_cast<char>(c - 'A' + 'a'));
        } else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-') {
            sanitized.push_back(c);
        } else {
            sanitized.push_back('-');
        }
    }
    std::string normalized(trim_dashes(sanitized));
    if (normalized.size() < 2)
        normalized = generated_sandbox_name(random_suffix);
    return cut_and_trim(normalized);
}

}  // namespace eci::detail
