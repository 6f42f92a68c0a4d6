// SPDX-License-Identifier: Apache-2.0
// redact_secrets(): credentials hidden in free text a server sent back (core/redact.hpp).
#include "core/redact.hpp"

#include <algorithm>
#include <array>
#include <cctype>

namespace eci::detail {
namespace {

char lower(char c) noexcept {
    return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
}

bool istarts_with(std::string_view text, std::string_view prefix) noexcept {
    return text.size() >= prefix.size() &&
           std::equal(prefix.begin(), prefix.end(), text.begin(),
                      [](char p, char t) { return lower(p) == lower(t); });
}

bool icontains(std::string_view text, std::string_view word) noexcept {
    for (std::size_t i = 0; i + word.size() <= text.size(); ++i) {
        if (istarts_with(text.substr(i), word))
            return true;
    }
    return false;
}

bool iequals(std::string_view a, std::string_view b) noexcept {
    return a.size() == b.size() && istarts_with(a, b);
}

// A name as it appears in a query, a header or JSON: letters, digits, '_', '-', '.'.
bool is_name_char(char c) noexcept {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '-' || c == '.';
}

bool names_a_secret(std::string_view name) noexcept {
    // A percent-encoded '&' before the name ("%26SecurityToken") leaves "26" glued to it.
    static constexpr std::array<std::string_view, 6> harmless = {
        "nexttoken",        "clienttoken",   "signaturemethod",
        "signatureversion", "signaturetype", "signaturenonce",
    };
    while (!name.empty() && std::isdigit(static_cast<unsigned char>(name.front())))
        name.remove_prefix(1);
    if (std::any_of(harmless.begin(), harmless.end(),
                    [&](std::string_view h) { return iequals(name, h); })) {
        return false;
    }
    static constexpr std::array<std::string_view, 8> secret_words = {
        "token",  "signature",  "secret",        "password",
        "passwd", "credential", "authorization", "cookie",
    };
    return std::any_of(secret_words.begin(), secret_words.end(),
                       [&](std::string_view word) { return icontains(name, word); });
}

// Where a query-style value ends: '&', its encoded form "%26", whitespace, a quote or an
// angle bracket (the value sits in prose, JSON or HTML).
std::size_t query_value_end(std::string_view text, std::size_t from) noexcept {
    for (std::size_t i = from; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '&' || c == '"' || c == '\'' || c == '<' || c == '>' || c == ',' || c == ';' ||
            std::isspace(static_cast<unsigned char>(c)) != 0 ||
            istarts_with(text.substr(i), "%26")) {
            return i;
        }
    }
    return text.size();
}

std::size_t line_end(std::string_view text, std::size_t from) noexcept {
    const std::size_t end = text.find_first_of("\r\n", from);
    return end == std::string_view::npos ? text.size() : end;
}

// Where the URL starting at `from` ends: whitespace, a quote or an angle bracket.
std::size_t url_end(std::string_view text, std::size_t from) noexcept {
    for (std::size_t i = from; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '"' || c == '\'' || c == '<' || c == '>' ||
            std::isspace(static_cast<unsigned char>(c)) != 0) {
            return i;
        }
    }
    return text.size();
}

// The length of a URL scheme ending at `text[at]` == ':' followed by "//", or 0.
std::size_t url_scheme_before(std::string_view text, std::size_t at) noexcept {
    for (std::string_view scheme : {"https", "http", "wss", "ws"}) {
        if (at >= scheme.size() && iequals(text.substr(at - scheme.size(), scheme.size()), scheme))
            return scheme.size();
    }
    return 0;
}

}  // namespace

std::string redact_secrets(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    std::size_t i = 0;
    while (i < text.size()) {
        // A URL: its query and user info through redact_url().
        if (text.compare(i, 3, "://") == 0) {
            if (const std::size_t scheme = url_scheme_before(text, i); scheme > 0) {
                out.resize(out.size() - scheme);
                const std::size_t end = url_end(text, i + 3);
                out += redact_url(text.substr(i - scheme, end - (i - scheme)));
                i = end;
                continue;
            }
        }
        // A query after a path without a scheme (an echoed request line, `GET /exec/?s=...`):
        // every value outside redact_query()'s allow-list is hidden.
        if (text[i] == '?' && i > 0 && text[i - 1] != ' ' && i + 1 < text.size() &&
            is_name_char(text[i + 1])) {
            const std::size_t end = url_end(text, i + 1);
            if (text.substr(i + 1, end - i - 1).find('=') != std::string_view::npos) {
                out += '?';
                out += redact_query(text.substr(i + 1, end - i - 1));
                i = end;
                continue;
            }
        }
        if (!is_name_char(text[i])) {
            out += text[i++];
            continue;
        }
        // A name, and what follows it.
        std::size_t name_end = i;
        while (name_end < text.size() && is_name_char(text[name_end]))
            ++name_end;
        const std::string_view name = text.substr(i, name_end - i);
        out += name;
        i = name_end;
        if (!names_a_secret(name))
            continue;
        const std::string_view rest = text.substr(i);
        std::size_t value_begin = 0;
        std::size_t value_end = 0;
        if (rest.starts_with('=')) {
            value_begin = i + 1;
            value_end = query_value_end(text, value_begin);
        } else if (istarts_with(rest, "%3D")) {
            value_begin = i + 3;
            value_end = query_value_end(text, value_begin);
        } else if (rest.starts_with(':') && !rest.starts_with("://")) {
            value_begin = i + 1;
            while (value_begin < text.size() && text[value_begin] == ' ')
                ++value_begin;
            value_end = line_end(text, value_begin);
        } else if (rest.starts_with('"')) {
            // JSON: "Name" : "value"
            std::size_t j = i + 1;
            while (j < text.size() && text[j] == ' ')
                ++j;
            if (j >= text.size() || text[j] != ':')
                continue;
            ++j;
            while (j < text.size() && text[j] == ' ')
                ++j;
            if (j >= text.size() || text[j] != '"')
                continue;
            value_begin = j + 1;
            value_end = text.find('"', value_begin);
            if (value_end == std::string_view::npos)
                value_end = text.size();
        } else {
            continue;
        }
        out += text.substr(i, value_begin - i);
        if (value_end > value_begin)
            out += redacted_text;
        i = value_end;
    }
    return out;
}

}  // namespace eci::detail
