// SPDX-License-Identifier: Apache-2.0
// Small validators for host names, IP literals and ports shared by the endpoint, proxy and
// NO_PROXY parsers.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace eci::detail {

/// A DNS name (labels of [A-Za-z0-9_-], 1..63 chars, not starting or ending with '-',
/// 253 chars at most) or a dotted IPv4 address.
bool is_valid_host_name(std::string_view host) noexcept;

/// An IP address in binary form (network order); v4 uses the first 4 bytes.
struct IpAddress {
    bool v6 = false;
    std::array<unsigned char, 16> bytes{};
};

/// Parses a dotted IPv4 or an IPv6 literal (without brackets); nullopt otherwise.
std::optional<IpAddress> parse_ip_address(std::string_view text) noexcept;

/// Digits only, 1..65535.
std::optional<std::uint16_t> parse_port(std::string_view text) noexcept;

/// `host[:port]` or `[v6][:port]` split and checked.
struct HostPort {
    std::string host;  ///< IPv6 without brackets
    std::optional<std::uint16_t> port;
};

/// Parses an authority without user info. On failure returns a short reason (never the
/// input) in `reason` and nullopt.
std::optional<HostPort> parse_host_port(std::string_view authority, std::string& reason);

/// `host` as a URL authority or a Host header writes it: an IPv6 literal (any host with a
/// ':') in brackets, anything else as is.
std::string url_host(std::string_view host);

/// `host:port` as a CONNECT target, a Host header or an error's endpoint writes it, with
/// url_host's brackets: "example.com:443", "[::1]:8443". The one formatter for this shape.
std::string host_and_port(std::string_view host, std::uint16_t port);

/// ASCII lower-case copy.
std::string ascii_lower(std::string_view text);

/// `text` without leading and trailing spaces, tabs, CR and LF.
std::string_view trim_ascii_space(std::string_view text) noexcept;

}  // namespace eci::detail
