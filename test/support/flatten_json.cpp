// SPDX-License-Identifier: Apache-2.0
#include "support/flatten_json.hpp"

#include "core/js_number.hpp"

#include <boost/json/value.hpp>

#include <string>

namespace eci::test {

using detail::js_number_string;
using detail::Params;

void append_flattened_json(Params& out, const boost::json::value& value,
                           const std::string& prefix) {
    // A member or element name under `prefix` (no leading dot at the top level).
    const auto child = [&prefix](std::string_view name) {
        std::string key = prefix;
        if (!key.empty())
            key += '.';
        key += name;
        return key;
    };
    switch (value.kind()) {
        case boost::json::kind::null:
            return;
        case boost::json::kind::object:
            for (const auto& member : value.get_object()) {
                append_flattened_json(out, member.value(), child(std::string_view(member.key())));
            }
            return;
        case boost::json::kind::array: {
            std::size_t index = 1;
            for (const auto& element : value.get_array()) {
                append_flattened_json(out, element, child(std::to_string(index)));
                ++index;
            }
            return;
        }
        case boost::json::kind::string:
            out.emplace_back(prefix, std::string(value.get_string()));
            return;
        case boost::json::kind::bool_:
            out.emplace_back(prefix, value.get_bool() ? "true" : "false");
            return;
        case boost::json::kind::int64:
            out.emplace_back(prefix, std::to_string(value.get_int64()));
            return;
        case boost::json::kind::uint64:
            out.emplace_back(prefix, std::to_string(value.get_uint64()));
            return;
        case boost::json::kind::double_:
            out.emplace_back(prefix, js_number_string(value.get_double()));
            return;
    }
}

Params flatten_json(const boost::json::value& value, std::string prefix) {
    Params out;
    append_flattened_json(out, value, prefix);
    return out;
}

}  // namespace eci::test
