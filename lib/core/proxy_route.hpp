// SPDX-License-Identifier: Apache-2.0
// The proxy decision for one connection: direct, or through which CONNECT proxy. Sans-io;
// every connection the library dials (the API's and each exec WebSocket's) asks this, for
// its own target host.
#pragma once

#include <eci/config.hpp>
#include <eci/result.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace eci::detail {

/// A CONNECT proxy a connection goes through.
struct ProxyRoute {
    std::string host;  ///< the proxy's DNS name or IP literal (IPv6 without brackets)
    std::uint16_t port = 80;
    std::string authority;  ///< host_and_port(host, port): what messages name
    /// The Proxy-Authorization value ("Basic base64(user:password)"), empty without user
    /// info. A secret: never logged, never in an error.
    std::string authorization;
};

/// Whether a connection to `host`:`port` goes through `proxy.https_proxy`: not when that is
/// empty or `proxy.no_proxy` names the host (proxy_bypassed); otherwise the parsed route.
///
/// Errors: ErrorKind::invalid_argument when the proxy URL is needed and does not parse
/// (parse_proxy_url; the message never repeats the URL). A bypassed host never parses it.
/// Thread safety: a pure function.
Result<std::optional<ProxyRoute>> proxy_route_for(const ProxyConfig& proxy, std::string_view host,
                                                  std::uint16_t port);

}  // namespace eci::detail
