// SPDX-License-Identifier: Apache-2.0
#include "cli/terminal_text.hpp"

#include <fmt/format.h>

namespace eci::cli {
namespace {

// The length of the valid UTF-8 sequence at the start of `text` and its code point, or 0.
std::size_t utf8_sequence(std::string_view text, char32_t& code_point) {
    const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
    const unsigned char lead = byte(0);
    std::size_t length = 0;
    char32_t value = 0;
    char32_t minimum = 0;
    if (lead < 0x80) {
        code_point = lead;
        return 1;
    }
    if ((lead & 0xe0) == 0xc0) {
        length = 2;
        value = lead & 0x1f;
        minimum = 0x80;
    } else if ((lead & 0xf0) == 0xe0) {
        length = 3;
        value = lead & 0x0f;
        minimum = 0x800;
    } else if ((lead & 0xf8) == 0xf0) {
        length = 4;
        value = lead & 0x07;
        minimum = 0x10000;
    } else {
        return 0;
    }
    if (text.size() < length)
        return 0;
    for (std::size_t i = 1; i < length; ++i) {
        if ((byte(i) & 0xc0) != 0x80)
            return 0;
        value = (value << 6) | (byte(i) & 0x3f);
    }
    if (value < minimum || value > 0x10ffff || (value >= 0xd800 && value <= 0xdfff))
        return 0;
    code_point = value;
    return length;
}

bool is_c1_or_bidi(char32_t c) {
    return (c >= 0x80 && c <= 0x9f) || (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069);
}

}  // namespace

std::string terminal_safe(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    while (!text.empty()) {
        char32_t c = 0;
        const std::size_t length = utf8_sequence(text, c);
        if (length == 0) {
            out += fmt::format("\\x{:02x}", static_cast<unsigned char>(text.front()));
            text.remove_prefix(1);
            continue;
        }
        if (c < 0x20 || c == 0x7f) {
            out += fmt::format("\\x{:02x}", static_cast<unsigned>(c));
        } else if (is_c1_or_bidi(c)) {
            out += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
        } else {
            out.append(text.substr(0, length));
        }
        text.remove_prefix(length);
    }
    return out;
}

std::string terminal_safe_json(std::string_view json) {
    std::string out;
    out.reserve(json.size());
    while (!json.empty()) {
        char32_t c = 0;
        const std::size_t length = utf8_sequence(json, c);
        if (length != 0 && (c == 0x7f || is_c1_or_bidi(c))) {
            out += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
        } else {
            // Invalid UTF-8 stays as it is: it acts on no terminal in UTF-8 mode, and JSON
            // has no escape for a byte.
            out.append(json.substr(0, length == 0 ? 1 : length));
        }
        json.remove_prefix(length == 0 ? 1 : length);
    }
    return out;
}

std::string bounded_line(std::string_view line, std::size_t max_bytes) {
    if (line.size() <= max_bytes)
        return std::string(line);
    std::size_t cut = max_bytes;
    while (cut > 0 && (static_cast<unsigned char>(line[cut]) & 0xc0) == 0x80)
        --cut;  // never split a UTF-8 character
    return fmt::format("{} ... ({} more bytes)", line.substr(0, cut), line.size() - cut);
}

}  // namespace eci::cli
