// SPDX-License-Identifier: Apache-2.0
#include "core/flatten.hpp"

#include <boost/json/value.hpp>

#include <charconv>
#include <cmath>
#include <cstdlib>

namespace eci::detail {

std::string js_number_string(double number) {
    if (std::isnan(number))
        return "NaN";
    if (std::isinf(number))
        return number > 0 ? "Infinity" : "-Infinity";
    if (number == 0)
        return "0";  // also -0, as JavaScript prints it

    // Shortest round-trip digits and the decimal exponent, from "d.ddde+XX".
    char buffer[64];
    const auto result =
        std::to_chars(buffer, buffer + sizeof buffer, number, std::chars_format::scientific);
    const std::string_view text(buffer, static_cast<std::size_t>(result.ptr - buffer));
    const std::size_t e = text.find('e');
    std::string_view mantissa = text.substr(0, e);
    const bool negative = mantissa.front() == '-';
    if (negative) mantissa.remove_prefix(1);
    std::string digits;
    for (const char c : mantissa) {
        if (c != '.')
            digits += c;
    }
    const int exponent = std::atoi(std::string(text.substr(e + 1)).c_str());

    // ECMA-262 Number::toString with k digits and decimal point position n.
    const int k = static_cast<int>(digits.size());
    const int n = exponent + 1;
    std::string out;
    if (negative) out += '-';
    if (k <= n && n <= 21) {
        out += digits;
        out.append(static_cast<std::size_t>(n - k), '0');
    } else if (0 < n && n <= 21) {
        out += digits.substr(0, static_cast<std::size_t>(n));
        out += '.';
        out += digits.substr(static_cast<std::size_t>(n));
    } else if (-6 < n && n <= 0) {
        out += "0.";
        out.append(static_cast<std::size_t>(-n), '0');
        out += digits;
    } else {
        out += digits.front();
        if (k > 1) {
            out += '.';
            out += digits.substr(1);
        }
        out += 'e';
        out += n - 1 >= 0 ? '+' : '-';
        out += std::to_string(std::abs(n - 1));
    }
    return out;
}

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

}  // namespace eci::detail
