// SPDX-License-Identifier: Apache-2.0
// IncomingRequest / ApiReply: what the transport hands to the sans-io parts of the server
// (authentication, routing, actions) and what it gets back.
#pragma once

#include "core/params.hpp"
#include "core/signing.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace eci::emulator {

/// One received HTTP request, decoded.
struct IncomingRequest {
    std::string method;            ///< "GET", "POST", ...
    std::string path;              ///< target without the query, e.g. "/"
    eci::detail::Params query;     ///< the URL query, percent-decoded, wire order
    eci::detail::Params params;    ///< query, then x-www-form-urlencoded body fields
    eci::detail::Headers headers;  ///< as received (names in their received case)
    std::string body;              ///< raw bytes
    bool remote_is_loopback = true;

    /// The first header called `name` (case-insensitive), or nullopt.
    std::optional<std::string_view> header(std::string_view name) const;
};

}  // namespace eci::emulator
