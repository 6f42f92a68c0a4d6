// SPDX-License-Identifier: Apache-2.0
// Parameter flattening (the SDK's flatMap): any JSON document flattened under a prefix, and
// JavaScript number formatting of any double. Invariants: no throw, no crash; a number's text
// reads back as the same double.
#include "fuzz_input.hpp"

#include "core/js_number.hpp"
#include "test/support/flatten_json.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/parse_options.hpp>
#include <boost/json/value.hpp>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text = eci::fuzz::as_text(data, size);

    if (size >= sizeof(double)) {
        double number = 0;
        std::memcpy(&number, data, sizeof number);
        const std::string written = eci::detail::js_number_string(number);
        if (std::isfinite(number)) {
            const double back = std::strtod(written.c_str(), nullptr);
            eci::fuzz::require(back == number);
        }
    }

    boost::json::parse_options options;
    options.max_depth = 64;
    boost::system::error_code ec;
    const boost::json::value value = boost::json::parse(text, ec, {}, options);
    if (ec)
        return 0;
    (void)eci::test::flatten_json(value, "");
    (void)eci::test::flatten_json(value, "Container");
    return 0;
}
