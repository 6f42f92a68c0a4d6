// SPDX-License-Identifier: Apache-2.0
#include "core/host_syntax.hpp"

#include <arpa/inet.h>  // inet_pton: address parsing only, no sockets

#include <fmt/format.h>

#include <charconv>

namespace eci::detail {

bool is_valid_host_name(std::string_view host) noexcept {
    if (host.empty() || host.size() > 253)
        return false;
    std::size_t label_begin = 0;
    while (true) {
        const std::size_t dot = host.find('.', label_begin);
        const std::string_view label = host.substr(label_begin, dot - label_begin);
        if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') {
            return false;
        }
        for (const char c : label) {
            const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                            (c >= '0' && c <= '9') || c == '-' || c == '_';
            if (!ok)
                return false;
        }
        if (dot == std::string_view::npos)
            return true;
        label_begin = dot + 1;
    }
}

std::optional<IpAddress> parse_ip_address(std::string_view text) noexcept {
    if (text.empty() || text.size() > 45)
        return std::nullopt;
    char buffer[46] = {};
    text.copy(buffer, text.size());
    IpAddress address;
    if (inet_pton(AF_INET, buffer, address.bytes.data()) == 1)
        return address;
    if (inet_pton(AF_INET6, buffer, address.bytes.data()) == 1) {
        address.v6 = true;
        return address;
    }
    return std::nullopt;
}

std::optional<std::uint16_t> parse_port(std::string_view text) noexcept {
    if (text.empty() || text.size() > 5)
        return std::nullopt;
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size())
        return std::nullopt;
    if (value == 0 || value > 65535)
        return std::nullopt;
    return static_cast<std::uint16_t>(value);
}

std::optional<HostPort> parse_host_port(std::string_view authority, std::string& reason) {
    HostPort out;
    std::string_view port_text;
    bool has_port = false;
    if (authority.empty()) {
        reason = "the host is empty";
        return std::nullopt;
    }
    if (authority.front() == '[') {
        const std::size_t close = authority.find(']');
        if (close == std::string_view::npos) {
            reason = "an IPv6 address is missing its closing ']'";
            return std::nullopt;
        }
        const std::string_view inner = authority.substr(1, close - 1);
        const auto ip = parse_ip_address(inner);
        if (!ip || !ip->v6) {
            reason = "the text in brackets is not an IPv6 address";
            return std::nullopt;
        }
        out.host = std::string(inner);
        const std::string_view rest = authority.substr(close + 1);
        if (!rest.empty()) {
            if (rest.front() != ':') {
                reason = "unexpected text after the IPv6 address";
                return std::nullopt;
            }
            has_port = true;
            port_text = rest.substr(1);
        }
    } else {
        const std::size_t colon = authority.find(':');
        if (colon != std::string_view::npos &&
            authority.find(':', colon + 1) != std::string_view::npos) {
            reason = "an IPv6 address must be written in brackets, e.g. [::1]:443";
            return std::nullopt;
        }
        const std::string_view host = authority.substr(0, colon);
        if (!is_valid_host_name(host)) {
            reason = host.empty() ? "the host is empty" : "the host is not a valid host name";
            return std::nullopt;
        }
        out.host = std::string(host);
        if (colon != std::string_view::npos) {
            has_port = true;
            port_text = authority.substr(colon + 1);
        }
    }
    if (has_port) {
        out.port = parse_port(port_text);
        if (!out.port) {
            reason = "the port must be a number between 1 and 65535";
            return std::nullopt;
        }
    }
    return out;
}

std::string ascii_lower(std::string_view text) {
    std::string out(text);
    for (char& c : out) {
        if (c >= 'A' && c <= 'Z')
            c = static_cast<char>(c - 'A' + 'a');
    }
    return out;
}

std::string_view trim_ascii_space(std::string_view text) noexcept {
    constexpr std::string_view space = " \t\r\n";
    const std::size_t begin = text.find_first_not_of(space);
    if (begin == std::string_view::npos)
        return {};
    const std::size_t end = text.find_last_not_of(space);
    return text.substr(begin, end - begin + 1);
}

std::string url_host(std::string_view host) {
    // A DNS name or IPv4 address never holds a ':', so one is enough to tell IPv6.
    if (host.find(':') != std::string_view::npos)
        return fmt::format("[{}]", host);
    return std::string(host);
}

std::string host_and_port(std::string_view host, std::uint16_t port) {
    if (host.find(':') != std::string_view::npos)
        return fmt::format("[{}]:{}", host, port);
    return fmt::format("{}:{}", host, port);
}

}  // namespace eci::detail
