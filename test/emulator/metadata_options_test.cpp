// SPDX-License-Identifier: Apache-2.0
// The metadata service's flags (--metadata-listen and friends).
#include "emulator/options.hpp"

#include <catch2/catch.hpp>

TEST_CASE("emulator options: --metadata-listen turns the metadata service on", "[emulator]") {
    auto parsed = eci::emulator::parse_command_line(
        {"--metadata-listen", "127.0.0.1:0", "--metadata-role", "runner",
         "--metadata-credential-ttl", "5", "--metadata-imdsv2-only"});
    REQUIRE(parsed.ok());
    const auto& metadata = parsed->options.metadata;
    CHECK(metadata.enabled);
    CHECK(metadata.listen_host == "127.0.0.1");
    CHECK(metadata.listen_port == 0);
    CHECK(metadata.role_name == "runner");
    CHECK(metadata.credential_ttl == std::chrono::seconds(5));
    CHECK(metadata.require_token);

    auto off = eci::emulator::parse_command_line({});
    REQUIRE(off.ok());
    CHECK_FALSE(off->options.metadata.enabled);

    for (const auto& bad :
         std::vector<std::vector<std::string_view>>{{"--metadata-listen", "10.1.2.3:80"},
                                                    {"--metadata-listen", "nocolon"},
                                                    {"--metadata-role", "../x"},
                                                    {"--metadata-credential-ttl", "0"}}) {
        auto refused = eci::emulator::parse_command_line(bad);
        REQUIRE_FALSE(refused.ok());
        CHECK(refused.error().message.find(std::string(bad[0])) != std::string::npos);
    }
}
