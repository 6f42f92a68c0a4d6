// SPDX-License-Identifier: Apache-2.0
// Percent-encoding and queries: decoding hostile query strings (both '+' conventions),
// rebuilding them, base64. Invariants: encode/decode and base64 round-trip every byte string;
// a parsed query rebuilt with build_query parses back to the same parameters.
#include "fuzz_input.hpp"

#include "core/encoding.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text = eci::fuzz::as_text(data, size);
    using namespace eci::detail;

    const std::string encoded = percent_encode(text);
    const auto decoded = percent_decode(encoded, false);
    eci::fuzz::require(decoded && *decoded == text);
    (void)percent_decode(text, true);
    (void)percent_decode(text, false);

    for (bool plus_is_space : {false, true}) {
        auto params = parse_query(text, plus_is_space);
        if (!params)
            continue;
        (void)canonical_query(*params);
        const std::string rebuilt = build_query(*params);
        auto again = parse_query(rebuilt, false);
        eci::fuzz::require(again.has_value() && *again == *params);
    }

    const auto base64 = base64_decode(base64_encode(text));
    eci::fuzz::require(base64 && *base64 == text);
    (void)base64_decode(text);
    return 0;
}
