// SPDX-License-Identifier: Apache-2.0
#include "core/tar_stream.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <optional>

namespace eci::detail {
namespace {

constexpr std::size_t name_field = 100;
constexpr std::uint64_t max_octal_size = 077777777777ULL;  // 11 octal digits

// Writes `value` as zero-padded octal into the field of `width` bytes (width - 1 digits
// and a NUL), as ustar wants.
void put_octal(std::string& block, std::size_t offset, std::size_t width, std::uint64_t value) {
    auto text = fmt::format("{:0{}o}", value, width - 1);
    std::copy(text.begin(), text.end(), block.begin() + static_cast<std::ptrdiff_t>(offset));
}

void put_text(std::string& block, std::size_t offset, std::string_view text) {
    std::copy(text.begin(), text.end(), block.begin() + static_cast<std::ptrdiff_t>(offset));
}

unsigned checksum_of(std::string_view block) {
    unsigned sum = 0;
    for (std::size_t i = 0; i < tar_block_size; ++i) {
        // The checksum field itself counts as spaces.
        sum += (i >= 148 && i < 156) ? ' ' : static_cast<unsigned char>(block[i]);
    }
    return sum;
}

// One pax record "<len> key=value\n", whose length counts its own digits.
std::string pax_record(std::string_view key, std::string_view value) {
    const std::size_t body = 1 + key.size() + 1 + value.size() + 1;
    std::size_t length = body + 1;
    while (std::to_string(length).size() + body != length)
        length = std::to_string(length).size() + body;
    return fmt::format("{} {}={}\n", length, key, value);
}

std::string ustar_block(std::string_view name, char type, std::uint32_t mode, std::uint64_t size,
                        std::string_view link, std::int64_t mtime) {
    std::string block(tar_block_size, '\0');
    put_text(block, 0, name.substr(0, name_field));
    put_octal(block, 100, 8, mode & 07777);
    put_octal(block, 108, 8, 0);
    put_octal(block, 116, 8, 0);
    put_octal(block, 124, 12, std::min(size, max_octal_size));
    put_octal(block, 136, 12, static_cast<std::uint64_t>(std::max<std::int64_t>(mtime, 0)));
    block[156] = type;
    put_text(block, 157, link.substr(0, name_field));
    put_text(block, 257,
             std::string_view("ustar\0"
                              "00",
                              8));
    put_text(block, 148, fmt::format("{:06o}", checksum_of(block)));
    block[154] = '\0';
    block[155] = ' ';
    return block;
}

char type_flag(TarEntryType type) {
    switch (type) {
        case TarEntryType::directory:
            return '5';
        case TarEntryType::symlink:
            return '2';
        case TarEntryType::hardlink:
            return '1';
        default:
            return '0';
    }
}

std::string_view field(std::string_view block, std::size_t offset, std::size_t width) {
    auto text = block.substr(offset, width);
    return text.substr(0, std::min(text.find('\0'), text.size()));
}

// A numeric header field: octal (space or NUL terminated), or GNU base-256 (high bit set).
std::optional<std::uint64_t> number(std::string_view block, std::size_t offset, std::size_t width) {
    auto text = block.substr(offset, width);
    if (!text.empty() && (static_cast<unsigned char>(text[0]) & 0x80) != 0) {
        std::uint64_t value = static_cast<unsigned char>(text[0]) & 0x3F;
        for (std::size_t i = 1; i < text.size(); ++i) {
            if (value >> 56 != 0)
                return std::nullopt;
            value = (value << 8) | static_cast<unsigned char>(text[i]);
        }
        return value;
    }
    std::size_t begin = 0;
    while (begin < text.size() && text[begin] == ' ')
        ++begin;
    std::size_t end = begin;
    while (end < text.size() && text[end] >= '0' && text[end] <= '7')
        ++end;
    for (std::size_t i = end; i < text.size(); ++i) {
        if (text[i] != ' ' && text[i] != '\0')
            return std::nullopt;
    }
    if (begin == end)
        return 0;
    std::uint64_t value = 0;
    auto parsed = std::from_chars(text.data() + begin, text.data() + end, value, 8);
    if (parsed.ec != std::errc{})
        return std::nullopt;
    return value;
}

Error corrupt(std::string message) {
    return Error::make(ErrorKind::protocol, fmt::format("tar stream: {}", message));
}

std::string strip_trailing_slashes(std::string name) {
    while (name.size() > 1 && name.back() == '/')
        name.pop_back();
    return name;
}

}  // namespace

Result<std::string> tar_header(const TarEntry& entry) {
    if (entry.name.empty())
        return Error::make(ErrorKind::invalid_argument, "tar entry name is empty");
    if (entry.name.find('\0') != std::string::npos ||
        entry.link_target.find('\0') != std::string::npos) {
        return Error::make(ErrorKind::invalid_argument, "tar entry name holds a NUL byte");
    }
    const std::uint64_t size = entry.type == TarEntryType::file ? entry.size : 0;
    std::string name = entry.name;
    if (entry.type == TarEntryType::directory)
        name += '/';
    std::string records;
    if (name.size() > name_field)
        records += pax_record("path", name);
    if (entry.link_target.size() > name_field)
        records += pax_record("linkpath", entry.link_target);
    if (size > max_octal_size)
        records += pax_record("size", std::to_string(size));
    std::string out;
    if (!records.empty()) {
        out = ustar_block("././@PaxHeader", 'x', 0644, records.size(), {}, entry.mtime);
        out += records;
        out.append(tar_padding(records.size()), '\0');
    }
    out +=
        ustar_block(name, type_flag(entry.type), entry.mode, size, entry.link_target, entry.mtime);
    return out;
}

std::size_t tar_padding(std::uint64_t size) noexcept {
    return static_cast<std::size_t>((tar_block_size - size % tar_block_size) % tar_block_size);
}

std::string tar_end() {
    return std::string(2 * tar_block_size, '\0');
}

Result<std::size_t> TarReader::feed(std::string_view bytes, TarHandler& handler) {
    std::size_t used = 0;
    while (used < bytes.size() && state_ != State::ended) {
        auto rest = bytes.substr(used);
        switch (state_) {
            case State::header: {
                const auto n = std::min(tar_block_size - block_.size(), rest.size());
                block_.append(rest.substr(0, n));
                used += n;
                if (block_.size() == tar_block_size) {
                    auto parsed = on_header(handler);
                    block_.clear();
                    if (!parsed.ok())
                        return std::move(parsed).error();
                }
                break;
            }
            case State::data:
            case State::meta: {
                const auto n =
                    static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, rest.size()));
                if (state_ == State::data) {
                    if (auto fed = handler.on_data(rest.substr(0, n)); !fed.ok())
                        return std::move(fed).error();
                } else {
                    meta_.append(rest.substr(0, n));
                }
                remaining_ -= n;
                used += n;
                if (remaining_ == 0) {
                    if (state_ == State::data) {
                        if (auto ended = handler.on_entry_end(); !ended.ok())
                            return std::move(ended).error();
                    } else {
                        apply_meta();
                    }
                    state_ = padding_ > 0 ? State::padding : State::header;
                }
                break;
            }
            case State::padding: {
                const auto n = std::min(padding_, rest.size());
                padding_ -= n;
                used += n;
                if (padding_ == 0)
                    state_ = State::header;
                break;
            }
            case State::ended:
                break;
        }
    }
    return used;
}

Result<void> TarReader::on_header(TarHandler& handler) {
    if (block_.find_first_not_of('\0') == std::string::npos) {
        state_ = State::ended;
        return {};
    }
    auto stored = number(block_, 148, 8);
    if (!stored || *stored != checksum_of(block_))
        return corrupt("header checksum mismatch (not a tar stream, or corrupt)");
    auto size = number(block_, 124, 12);
    auto mode = number(block_, 100, 8);
    auto mtime = number(block_, 136, 12);
    if (!size || !mode || !mtime)
        return corrupt("malformed number in a header");
    const char type = block_[156];
    if (type == 'x' || type == 'g' || type == 'L' || type == 'K') {
        if (*size > max_meta_)
            return corrupt(fmt::format("extended header of {} bytes (bound {})", *size, max_meta_));
        meta_type_ = type;
        meta_.clear();
        remaining_ = *size;
        padding_ = tar_padding(*size);
        state_ = remaining_ > 0 ? State::meta : State::header;
        if (remaining_ == 0)
            apply_meta();
        return {};
    }
    TarEntry entry;
    std::string name(field(block_, 0, 100));
    if (field(block_, 257, 5) == "ustar") {
        auto prefix = field(block_, 345, 155);
        if (!prefix.empty())
            name = fmt::format("{}/{}", prefix, name);
    }
    entry.name = has_path_ ? pending_.name : name;
    entry.link_target = has_link_ ? pending_.link_target : std::string(field(block_, 157, 100));
    entry.mode = static_cast<std::uint32_t>(*mode & 07777);
    entry.mtime = static_cast<std::int64_t>(*mtime);
    std::uint64_t data_size = has_size_ ? pending_.size : *size;
    switch (type) {
        case '0':
        case '\0':
        case '7':
            entry.type = TarEntryType::file;
            break;
        case '5':
            entry.type = TarEntryType::directory;
            break;
        case '2':
            entry.type = TarEntryType::symlink;
            break;
        case '1':
            entry.type = TarEntryType::hardlink;
            break;
        default:
            entry.type = TarEntryType::other;
            break;
    }
    // Only regular files (and unknown kinds, skipped by the handler) carry data.
    if (entry.type != TarEntryType::file && entry.type != TarEntryType::other)
        data_size = 0;
    entry.size = data_size;
    entry.name = strip_trailing_slashes(std::move(entry.name));
    pending_ = TarEntry{};
    has_path_ = has_link_ = has_size_ = false;
    if (entry.name.empty())
        return corrupt("member with an empty name");
    if (auto started = handler.on_entry(entry); !started.ok())
        return started;
    remaining_ = data_size;
    padding_ = tar_padding(data_size);
    if (remaining_ > 0) {
        state_ = State::data;
        return {};
    }
    if (auto ended = handler.on_entry_end(); !ended.ok())
        return ended;
    state_ = padding_ > 0 ? State::padding : State::header;
    return {};
}

void TarReader::apply_meta() {
    if (meta_type_ == 'L' || meta_type_ == 'K') {
        auto value = std::string(meta_.substr(0, std::min(meta_.find('\0'), meta_.size())));
        if (meta_type_ == 'L') {
            pending_.name = std::move(value);
            has_path_ = true;
        } else {
            pending_.link_target = std::move(value);
            has_link_ = true;
        }
        return;
    }
    if (meta_type_ != 'x')
        return;  // global pax headers carry nothing this reader needs
    std::string_view records = meta_;
    while (!records.empty()) {
        const auto space = records.find(' ');
        std::size_t length = 0;
        if (space == std::string_view::npos ||
            std::from_chars(records.data(), records.data() + space, length).ec != std::errc{} ||
            length <= space + 1 || length > records.size()) {
            return;  // malformed: ignore the rest, the ustar fields stand
        }
        auto record = records.substr(space + 1, length - space - 2);  // drop the '\n'
        records.remove_prefix(length);
        const auto equals = record.find('=');
        if (equals == std::string_view::npos)
            continue;
        auto key = record.substr(0, equals);
        auto value = record.substr(equals + 1);
        if (key == "path") {
            pending_.name = std::string(value);
            has_path_ = true;
        } else if (key == "linkpath") {
            pending_.link_target = std::string(value);
            has_link_ = true;
        } else if (key == "size") {
            std::uint64_t size = 0;
            if (std::from_chars(value.data(), value.data() + value.size(), size).ec ==
                std::errc{}) {
                pending_.size = size;
                has_size_ = true;
            }
        }
    }
}

}  // namespace eci::detail
