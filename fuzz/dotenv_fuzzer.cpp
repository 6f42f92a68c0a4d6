// SPDX-License-Identifier: Apache-2.0
// .env parsing: a user's file, but often copied from elsewhere. Invariants: no crash, no
// throw; an error message never quotes a value (only a line number and what was expected).
#include "fuzz_input.hpp"

#include "core/dotenv.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text = eci::fuzz::as_text(data, size);
    auto entries = eci::detail::parse_dotenv(text);
    if (!entries.ok()) {
        eci::fuzz::require(entries.error().message.starts_with("line "));
        eci::fuzz::require(entries.error().message.size() < 200);
        return 0;
    }
    for (const auto& [key, value] : *entries) {
        eci::fuzz::require(!key.empty());
        (void)value;
    }
    return 0;
}
