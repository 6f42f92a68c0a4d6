// SPDX-License-Identifier: Apache-2.0
// Request parameters as name/value pairs in wire order.
#pragma once

#include <algorithm>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace eci::detail {

/// One request parameter (query or form field), decoded: `name` and `value` hold raw bytes,
/// never percent-encoding.
using Param = std::pair<std::string, std::string>;

/// Parameters in the order they are (or were) put on the wire. Names may repeat; signing
/// sorts a copy, so the order here never changes a signature.
using Params = std::vector<Param>;

/// The value of the first parameter called `name` (exact, case-sensitive match), or nullopt.
/// The view points into `params` and lives as long as that element does.
inline std::optional<std::string_view> find_param(const Params& params, std::string_view name) {
    const auto it = std::find_if(params.begin(), params.end(),
                                 [name](const Param& param) { return param.first == name; });
    if (it == params.end())
        return std::nullopt;
    return std::string_view(it->second);
}

/// Whether a parameter called `name` is present (even with an empty value).
inline bool has_param(const Params& params, std::string_view name) {
    return find_param(params, name).has_value();
}

/// Replaces the value of the first parameter called `name`, or appends it when absent.
inline void set_param(Params& params, std::string_view name, std::string value) {
    const auto it = std::find_if(params.begin(), params.end(),
                                 [name](const Param& param) { return param.first == name; });
    if (it == params.end()) {
        params.emplace_back(std::string(name), std::move(value));
    } else {
        it->second = std::move(value);
    }
}

}  // namespace eci::detail
