// SPDX-License-Identifier: Apache-2.0
// The proxy URL parser, the NO_PROXY matcher, and the route they decide together.
#include <eci/config.hpp>

#include "core/encoding.hpp"
#include "core/host_syntax.hpp"
#include "core/proxy_route.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace eci {
namespace {

// Whether the first `prefix_bits` bits of two addresses of the same family agree.
bool same_prefix(const detail::IpAddress& a, const detail::IpAddress& b, unsigned prefix_bits) {
    const unsigned full_bytes = prefix_bits / 8;
    if (!std::equal(a.bytes.begin(), a.bytes.begin() + full_bytes, b.bytes.begin()))
        return false;
    const unsigned rest_bits = prefix_bits % 8;
    if (rest_bits == 0)
        return true;
    const auto mask = static_cast<unsigned char>(0xFFu << (8 - rest_bits));
    return (a.bytes[full_bytes] & mask) == (b.bytes[full_bytes] & mask);
}

bool cidr_contains(std::string_view cidr, const detail::IpAddress& host) {
    const std::size_t slash = cidr.find('/');
    const auto network = detail::parse_ip_address(cidr.substr(0, slash));
    if (!network || network->v6 != host.v6)
        return false;
    const std::string_view bits_text = cidr.substr(slash + 1);
    unsigned bits = 0;
    if (bits_text.empty() || bits_text.size() > 3)
        return false;
    for (const char c : bits_text) {
        if (c < '0' || c > '9')
            return false;
        bits = bits * 10 + static_cast<unsigned>(c - '0');
    }
    if (bits > (host.v6 ? 128u : 32u))
        return false;
    return same_prefix(*network, host, bits);
}

struct RequestHost {
    std::string host;
    std::uint16_t port = 0;
};

RequestHost split_request_host(std::string_view text, std::uint16_t port) {
    RequestHost out{detail::ascii_lower(detail::trim_ascii_space(text)), port};
    std::string reason;
    if (auto parsed = detail::parse_host_port(out.host, reason)) {
        out.host = std::move(parsed->host);
        if (parsed->port)
            out.port = *parsed->port;
    } else if (out.host.size() > 2 && out.host.front() == '[' && out.host.back() == ']') {
        out.host = out.host.substr(1, out.host.size() - 2);
    }
    while (!out.host.empty() && out.host.back() == '.')
        out.host.pop_back();
    return out;
}

bool entry_matches(std::string_view entry, const RequestHost& request,
                   const std::optional<detail::IpAddress>& request_ip) {
    // Split an optional port off the entry: "host:port", "[v6]:port"; a bare IPv6 has
    // several colons and no port.
    std::string_view host = entry;
    std::optional<std::uint16_t> port;
    if (host.front() == '[') {
        const std::size_t close = host.find(']');
        if (close == std::string_view::npos)
            return false;
        const std::string_view rest = host.substr(close + 1);
        host = host.substr(1, close - 1);
        if (!rest.empty()) {
            if (rest.front() != ':' || !(port = detail::parse_port(rest.substr(1))))
                return false;
        }
    } else if (const std::size_t colon = host.find(':');
               colon != std::string_view::npos &&
               host.find(':', colon + 1) == std::string_view::npos) {
        port = detail::parse_port(host.substr(colon + 1));
        if (!port)
            return false;
        host = host.substr(0, colon);
    }
    if (port && *port != request.port)
        return false;

    if (host.find('/') != std::string_view::npos) {
        return request_ip && cidr_contains(host, *request_ip);
    }
    if (const auto entry_ip = detail::parse_ip_address(host)) {
        return request_ip && entry_ip->v6 == request_ip->v6 && entry_ip->bytes == request_ip->bytes;
    }
    if (request_ip)
        return false;  // a domain entry never matches an IP literal
    if (host.starts_with('*'))
        host.remove_prefix(1);
    if (host.starts_with('.'))
        host.remove_prefix(1);
    while (!host.empty() && host.back() == '.')
        host.remove_suffix(1);
    if (host.empty())
        return false;
    const std::string_view name = request.host;
    if (name == host)
        return true;
    return name.size() > host.size() && name.ends_with(host) &&
           name[name.size() - host.size() - 1] == '.';
}

}  // namespace

Result<ProxyUrl> parse_proxy_url(std::string_view text) {
    auto fail = [](std::string_view why) {
        return Error::make(ErrorKind::invalid_argument, fmt::format("invalid proxy URL: {}", why));
    };
    std::string_view rest = detail::trim_ascii_space(text);
    if (rest.empty())
        return fail("it is empty");
    if (const std::size_t separator = rest.find("://"); separator != std::string_view::npos) {
        const std::string scheme = detail::ascii_lower(rest.substr(0, separator));
        if (scheme == "https") {
            return fail("TLS to the proxy itself (https://) is not supported; use http://");
        }
        if (scheme != "http")
            return fail("the scheme must be http://");
        rest.remove_prefix(separator + 3);
    }
    if (rest.ends_with('/'))
        rest.remove_suffix(1);
    if (rest.find_first_of("/?#") != std::string_view::npos) {
        return fail("a proxy URL has no path or query");
    }
    ProxyUrl proxy;
    if (const std::size_t at = rest.rfind('@'); at != std::string_view::npos) {
        const std::string_view user_info = rest.substr(0, at);
        const std::size_t colon = user_info.find(':');
        auto username = detail::percent_decode(user_info.substr(0, colon), false);
        auto password = colon == std::string_view::npos
                            ? std::optional<std::string>(std::string())
                            : detail::percent_decode(user_info.substr(colon + 1), false);
        if (!username || !password)
            return fail("bad percent-encoding in the user info");
        proxy.username = std::move(*username);
        proxy.password = std::move(*password);
        rest.remove_prefix(at + 1);
    }
    std::string reason;
    auto host_port = detail::parse_host_port(rest, reason);
    if (!host_port)
        return fail(reason);
    proxy.host = std::move(host_port->host);
    proxy.port = host_port->port.value_or(80);
    return proxy;
}

bool proxy_bypassed(const ProxyConfig& proxy, std::string_view host, std::uint16_t port) {
    if (proxy.no_proxy.empty())
        return false;
    const RequestHost request = split_request_host(host, port);
    const auto request_ip = detail::parse_ip_address(request.host);
    const std::string list = detail::ascii_lower(proxy.no_proxy);
    std::string_view rest = list;
    constexpr std::string_view separators = ", \t\r\n";
    while (!rest.empty()) {
        const std::size_t begin = rest.find_first_not_of(separators);
        if (begin == std::string_view::npos)
            break;
        rest.remove_prefix(begin);
        const std::size_t end = rest.find_first_of(separators);
        const std::string_view entry = rest.substr(0, end);
        rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end);
        if (entry == "*")
            return true;
        if (entry_matches(entry, request, request_ip))
            return true;
    }
    return false;
}

}  // namespace eci

namespace eci::detail {

Result<std::optional<ProxyRoute>> proxy_route_for(const ProxyConfig& proxy, std::string_view host,
                                                  std::uint16_t port) {
    if (proxy.https_proxy.empty() || proxy_bypassed(proxy, host, port))
        return std::optional<ProxyRoute>();
    auto url = parse_proxy_url(proxy.https_proxy);
    if (!url)
        return std::move(url).error();
    ProxyRoute route;
    route.host = std::move(url->host);
    route.port = url->port;
    route.authority = host_and_port(route.host, route.port);
    if (!url->username.empty() || !url->password.empty())
        route.authorization =
            "Basic " + base64_encode(fmt::format("{}:{}", url->username, url->password));
    return std::optional<ProxyRoute>(std::move(route));
}

}  // namespace eci::detail
