// SPDX-License-Identifier: Apache-2.0
#include "core/dotenv.hpp"

#include <fmt/format.h>

namespace eci::detail {
namespace {

bool is_key_start(char c) noexcept {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

bool is_key_char(char c) noexcept {
    return is_key_start(c) || (c >= '0' && c <= '9') || c == '.' || c == '-';
}

bool is_blank(char c) noexcept {
    return c == ' ' || c == '\t';
}

// A cursor over the whole text that counts lines, so quoted values can span lines and
// every error can name the line it started on.
class DotenvParser {
  public:
    explicit DotenvParser(std::string_view text) : text_(text) {
        constexpr std::string_view bom = "\xEF\xBB\xBF";
        if (text_.starts_with(bom))
            pos_ = bom.size();
    }

    Result<std::vector<DotenvEntry>> parse() {
        std::vector<DotenvEntry> entries;
        while (!at_end()) {
            skip_blanks();
            if (at_line_end()) {
                consume_line_end();
                continue;
            }
            if (peek() == '#') {
                skip_rest_of_line();
                continue;
            }
            auto entry = parse_assignment();
            if (!entry.ok())
                return std::move(entry).error();
            entries.push_back(std::move(entry).value());
        }
        return entries;
    }

  private:
    Result<DotenvEntry> parse_assignment() {
        const int line = line_;
        skip_export_prefix();
        const std::size_t key_begin = pos_;
        if (at_end() || !is_key_start(peek()))
            return fail(line, "expected a variable name");
        while (!at_end() && is_key_char(peek()))
            ++pos_;
        std::string key(text_.substr(key_begin, pos_ - key_begin));
        skip_blanks();
        if (at_end() || peek() != '=')
            return fail(line, "expected '=' after the variable name");
        ++pos_;
        skip_blanks();

        std::string value;
        if (!at_end() && (peek() == '\'' || peek() == '"')) {
            const char quote = peek();
            ++pos_;
            auto quoted = quote == '\'' ? read_single_quoted() : read_double_quoted();
            if (!quoted) {
                return fail(line, quote == '\'' ? "unterminated single-quoted value"
                                                : "unterminated double-quoted value");
            }
            value = std::move(*quoted);
            skip_blanks();
            if (!at_end() && peek() == '#') {
                skip_rest_of_line();
            } else if (at_line_end()) {
                consume_line_end();
            } else {
                return fail(line_, "unexpected text after the closing quote");
            }
        } else {
            value = read_unquoted();
            consume_line_end();
        }
        return DotenvEntry{std::move(key), std::move(value)};
    }

    void skip_export_prefix() {
        constexpr std::string_view keyword = "export";
        const std::string_view rest = text_.substr(pos_);
        if (rest.size() > keyword.size() && rest.starts_with(keyword) &&
            is_blank(rest[keyword.size()])) {
            pos_ += keyword.size();
            skip_blanks();
        }
    }

    // Literal up to the next single quote; CRLF inside becomes LF.
    std::optional<std::string> read_single_quoted() {
        std::string out;
        while (!at_end()) {
            const char c = peek();
            if (c == '\'') {
                ++pos_;
                return out;
            }
            if (at_crlf()) {
                ++pos_;
                continue;
            }
            if (c == '\n')
                ++line_;
            out += c;
            ++pos_;
        }
        return std::nullopt;
    }

    std::optional<std::string> read_double_quoted() {
        std::string out;
        while (!at_end()) {
            const char c = peek();
            if (c == '"') {
                ++pos_;
                return out;
            }
            if (c == '\\' && pos_ + 1 < text_.size()) {
                const char escaped = text_[pos_ + 1];
                switch (escaped) {
                    case 'n':
                        out += '\n';
                        break;
                    case 'r':
                        out += '\r';
                        break;
                    case 't':
                        out += '\t';
                        break;
                    case '"':
                        out += '"';
                        break;
                    case '\'':
                        out += '\'';
                        break;
                    case '\\':
                        out += '\\';
                        break;
                    default:  // unknown escapes stay as written, as python-dotenv keeps them
                        out += '\\';
                        ++pos_;
                        continue;  // the next character is handled on its own
                }
                pos_ += 2;
                continue;
            }
            if (at_crlf()) {
                ++pos_;
                continue;
            }
            if (c == '\n')
                ++line_;
            out += c;
            ++pos_;
        }
        return std::nullopt;
    }

    // To the end of the line, stopping at a '#' that follows whitespace (also the whitespace
    // after '=', so `KEY= # note` is empty, as in a shell); trimmed.
    std::string read_unquoted() {
        const std::size_t begin = pos_;
        std::size_t end = pos_;
        while (!at_line_end()) {
            if (peek() == '#' && pos_ > 0 && is_blank(text_[pos_ - 1])) {
                end = pos_;
                skip_to_line_end();
                break;
            }
            ++pos_;
            end = pos_;
        }
        while (end > begin && is_blank(text_[end - 1]))
            --end;
        return std::string(text_.substr(begin, end - begin));
    }

    Error fail(int line, std::string_view what) const {
        return Error::make(ErrorKind::invalid_argument, fmt::format("line {}: {}", line, what));
    }

    bool at_end() const noexcept { return pos_ >= text_.size(); }
    char peek() const noexcept { return text_[pos_]; }
    bool at_crlf() const noexcept {
        return text_[pos_] == '\r' && pos_ + 1 < text_.size() && text_[pos_ + 1] == '\n';
    }
    bool at_line_end() const noexcept {
        if (at_end() || peek() == '\n')
            return true;
        return peek() == '\r' && (pos_ + 1 == text_.size() || text_[pos_ + 1] == '\n');
    }
    void skip_blanks() noexcept {
        while (!at_end() && is_blank(peek()))
            ++pos_;
    }
    void skip_to_line_end() noexcept {
        while (!at_line_end())
            ++pos_;
    }
    void consume_line_end() noexcept {
        if (!at_end() && peek() == '\r')
            ++pos_;
        if (!at_end() && peek() == '\n') {
            ++pos_;
            ++line_;
        }
    }
    void skip_rest_of_line() noexcept {
        skip_to_line_end();
        consume_line_end();
    }

    std::string_view text_;
    std::size_t pos_ = 0;
    int line_ = 1;
};

}  // namespace

Result<std::vector<DotenvEntry>> parse_dotenv(std::string_view text) {
    return DotenvParser(text).parse();
}

}  // namespace eci::detail
