// SPDX-License-Identifier: Apache-2.0
#include "core/js_number.hpp"

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
    if (negative)
        mantissa.remove_prefix(1);
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
    if (negative)
        out += '-';
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

}  // namespace eci::detail
