// SPDX-License-Identifier: Apache-2.0
// Endpoint parsing and the Host-header form of an endpoint.
#include <eci/config.hpp>

#include "core/host_syntax.hpp"

#include <fmt/format.h>

namespace eci {

std::uint16_t Endpoint::effective_port() const noexcept {
    if (port != 0)
        return port;
    return scheme == "http" ? 80 : 443;
}

std::string Endpoint::authority() const {
    const std::uint16_t default_port = scheme == "http" ? 80 : 443;
    if (port != 0 && port != default_port)
        return detail::host_and_port(host, port);
    return detail::url_host(host);
}

Result<Endpoint> parse_endpoint(std::string_view text) {
    auto fail = [](std::string_view why) {
        return Error::make(ErrorKind::invalid_argument, fmt::format("invalid endpoint: {}", why));
    };
    std::string_view rest = detail::trim_ascii_space(text);
    if (rest.empty())
        return fail("it is empty");

    Endpoint endpoint;
    if (const std::size_t separator = rest.find("://"); separator != std::string_view::npos) {
        endpoint.scheme = detail::ascii_lower(rest.substr(0, separator));
        if (endpoint.scheme != "https" && endpoint.scheme != "http") {
            return fail("the scheme must be https:// or http://");
        }
        rest.remove_prefix(separator + 3);
    }
    if (rest.ends_with('/'))
        rest.remove_suffix(1);
    if (rest.find_first_of("/?#") != std::string_view::npos) {
        return fail("an endpoint is a host and an optional port, without a path or query");
    }
    if (rest.find('@') != std::string_view::npos) {
        return fail("user info is not allowed in an endpoint");
    }
    std::string reason;
    auto host_port = detail::parse_host_port(rest, reason);
    if (!host_port)
        return fail(reason);
    endpoint.host = std::move(host_port->host);
    endpoint.port = host_port->port.value_or(0);
    return endpoint;
}

}  // namespace eci
