// SPDX-License-Identifier: Apache-2.0
#include "core/encoding.hpp"

#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <array>
#include <cstdint>

namespace eci::detail {

namespace {

constexpr std::string_view upper_hex = "0123456789ABCDEF";

constexpr bool is_unreserved(unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.' || c == '~';
}

constexpr std::array<bool, 256> make_unreserved_table() {
    std::array<bool, 256> table{};
    for (unsigned c = 0; c < table.size(); ++c)
        table[c] = is_unreserved(static_cast<unsigned char>(c));
    return table;
}
constexpr std::array<bool, 256> unreserved_table = make_unreserved_table();

constexpr int hex_value(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

constexpr std::string_view base64_alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// Maps a Base64 character to its 6-bit value, or -1.
constexpr std::array<std::int8_t, 256> make_base64_table() {
    std::array<std::int8_t, 256> table{};
    table.fill(-1);
    for (std::size_t i = 0; i < base64_alphabet.size(); ++i) {
        table[static_cast<unsigned char>(base64_alphabet[i])] = static_cast<std::int8_t>(i);
    }
    return table;
}
constexpr std::array<std::int8_t, 256> base64_table = make_base64_table();

void append_pair(std::string& out, const Param& param) {
    append_percent_encoded(out, param.first);
    out += '=';
    append_percent_encoded(out, param.second);
}

}  // namespace

void append_percent_encoded(std::string& out, std::string_view text) {
    // Sized once, then written through a pointer: appending byte by byte re-checked the
    // capacity for every character of every query parameter, on every signed call.
    std::size_t escaped = 0;
    for (const char ch : text)
        escaped += unreserved_table[static_cast<unsigned char>(ch)] ? 0 : 1;
    const std::size_t at = out.size();
    out.resize(at + text.size() + 2 * escaped);
    char* cursor = out.data() + at;
    for (const char ch : text) {
        const auto byte = static_cast<unsigned char>(ch);
        if (unreserved_table[byte]) {
            *cursor++ = ch;
        } else {
            *cursor++ = '%';
            *cursor++ = upper_hex[byte >> 4];
            *cursor++ = upper_hex[byte & 0x0F];
        }
    }
}

std::string percent_encode(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    append_percent_encoded(out, text);
    return out;
}

std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char ch = text[i];
        if (ch == '%') {
            if (i + 2 >= text.size())
                return std::nullopt;  // fewer than two characters follow
            const int high = hex_value(text[i + 1]);
            const int low = hex_value(text[i + 2]);
            if (high < 0 || low < 0)
                return std::nullopt;
            out += static_cast<char>((high << 4) | low);
            i += 2;
        } else if (ch == '+' && plus_is_space) {
            out += ' ';
        } else {
            out += ch;
        }
    }
    return out;
}

std::optional<Params> parse_query(std::string_view query, bool plus_is_space) {
    Params params;
    while (!query.empty()) {
        const std::size_t amp = query.find('&');
        const std::string_view field = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
        if (field.empty())
            continue;
        const std::size_t eq = field.find('=');
        auto name = percent_decode(field.substr(0, eq), plus_is_space);
        auto value =
            percent_decode(eq == std::string_view::npos ? std::string_view() : field.substr(eq + 1),
                           plus_is_space);
        if (!name || !value)
            return std::nullopt;
        params.emplace_back(std::move(*name), std::move(*value));
    }
    return params;
}

void append_canonical_query(std::string& out, std::span<const Param> params) {
    // Parameters of one call are few: sort pointers on the stack when they fit.
    constexpr std::size_t on_stack = 32;
    std::array<const Param*, on_stack> local{};
    std::vector<const Param*> heap;
    std::span<const Param*> sorted;
    if (params.size() <= on_stack) {
        sorted = std::span<const Param*>(local.data(), params.size());
    } else {
        heap.resize(params.size());
        sorted = heap;
    }
    for (std::size_t i = 0; i < params.size(); ++i)
        sorted[i] = &params[i];
    auto before = [](const Param* a, const Param* b) { return a->first < b->first; };
    if (heap.empty()) {
        // Insertion sort: stable, and unlike std::stable_sort it needs no temporary buffer.
        for (std::size_t i = 1; i < sorted.size(); ++i) {
            const Param* item = sorted[i];
            std::size_t j = i;
            for (; j > 0 && before(item, sorted[j - 1]); --j)
                sorted[j] = sorted[j - 1];
            sorted[j] = item;
        }
    } else {
        std::stable_sort(sorted.begin(), sorted.end(), before);
    }
    for (std::size_t i = 0; i < sorted.size(); ++i) {
        if (i > 0)
            out += '&';
        append_pair(out, *sorted[i]);
    }
}

std::string canonical_query(std::span<const Param> params) {
    std::string out;
    append_canonical_query(out, params);
    return out;
}

std::string build_query(std::span<const Param> params) {
    std::string out;
    append_query(out, params);
    return out;
}

void append_query(std::string& out, std::span<const Param> params) {
    // Room for the query as it is when nothing needs escaping (the usual case): one
    // allocation instead of one per doubling.
    std::size_t size = out.size();
    for (const Param& param : params)
        size += param.first.size() + param.second.size() + 2;
    out.reserve(size);
    for (std::size_t i = 0; i < params.size(); ++i) {
        if (i > 0)
            out += '&';
        append_pair(out, params[i]);
    }
}

std::string base64_encode(std::string_view data) {
    std::string out;
    out.reserve((data.size() + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 3 <= data.size(); i += 3) {
        const std::uint32_t chunk = (std::uint32_t{static_cast<unsigned char>(data[i])} << 16) |
                                    (std::uint32_t{static_cast<unsigned char>(data[i + 1])} << 8) |
                                    std::uint32_t{static_cast<unsigned char>(data[i + 2])};
        out += base64_alphabet[(chunk >> 18) & 0x3F];
        out += base64_alphabet[(chunk >> 12) & 0x3F];
        out += base64_alphabet[(chunk >> 6) & 0x3F];
        out += base64_alphabet[chunk & 0x3F];
    }
    const std::size_t rest = data.size() - i;
    if (rest == 1) {
        const std::uint32_t chunk = std::uint32_t{static_cast<unsigned char>(data[i])} << 16;
        out += base64_alphabet[(chunk >> 18) & 0x3F];
        out += base64_alphabet[(chunk >> 12) & 0x3F];
        out += "==";
    } else if (rest == 2) {
        const std::uint32_t chunk = (std::uint32_t{static_cast<unsigned char>(data[i])} << 16) |
                                    (std::uint32_t{static_cast<unsigned char>(data[i + 1])} << 8);
        out += base64_alphabet[(chunk >> 18) & 0x3F];
        out += base64_alphabet[(chunk >> 12) & 0x3F];
        out += base64_alphabet[(chunk >> 6) & 0x3F];
        out += '=';
    }
    return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
    if (text.size() % 4 != 0)
        return std::nullopt;
    std::string out;
    out.reserve(text.size() / 4 * 3);
    for (std::size_t i = 0; i < text.size(); i += 4) {
        const bool last = i + 4 == text.size();
        std::size_t padding = 0;
        if (last && text[i + 3] == '=')
            padding = text[i + 2] == '=' ? 2 : 1;
        std::uint32_t chunk = 0;
        for (std::size_t j = 0; j < 4 - padding; ++j) {
            const int value = base64_table[static_cast<unsigned char>(text[i + j])];
            if (value < 0)
                return std::nullopt;
            chunk |= static_cast<std::uint32_t>(value) << (18 - 6 * j);
        }
        out += static_cast<char>((chunk >> 16) & 0xFF);
        if (padding < 2)
            out += static_cast<char>((chunk >> 8) & 0xFF);
        if (padding < 1)
            out += static_cast<char>(chunk & 0xFF);
        // Canonical form only: the bits the padding hides must be zero.
        if (padding == 2 && (chunk & 0xFFFF) != 0)
            return std::nullopt;
        if (padding == 1 && (chunk & 0xFF) != 0)
            return std::nullopt;
    }
    return out;
}

std::string json_array_string(const std::vector<std::string>& items) {
    boost::json::array array;
    array.reserve(items.size());
    for (const std::string& item : items)
        array.emplace_back(boost::json::string_view(item));
    return boost::json::serialize(array);
}

}  // namespace eci::detail
