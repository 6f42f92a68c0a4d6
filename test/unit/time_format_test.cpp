// SPDX-License-Identifier: Apache-2.0
#include "core/time_format.hpp"

#include <catch2/catch.hpp>

using namespace eci::detail;
using namespace std::chrono;

TEST_CASE("time_format: formats UTC with whole seconds", "[time_format]") {
    const sys_seconds when{seconds{1774545563}};
    CHECK(format_utc_timestamp(when) == "2026-03-26T17:19:23Z");
    CHECK(format_utc_timestamp(system_clock::time_point{}) == "1970-01-01T00:00:00Z");
    // Fractions are cut toward the past, never rounded up into the next second.
    CHECK(format_utc_timestamp(when + milliseconds(999)) == "2026-03-26T17:19:23Z");
    CHECK(format_utc_timestamp(sys_seconds{seconds{1709251199}}) == "2024-02-29T23:59:59Z");
    CHECK(format_utc_timestamp(sys_days{year{1969} / 12 / 31} + hours(23) + minutes(59) +
                               seconds(59) + milliseconds(500)) == "1969-12-31T23:59:59Z");
}

TEST_CASE("time_format: parses exactly what it formats", "[time_format]") {
    const auto parsed = parse_utc_timestamp("2026-03-26T17:19:23Z");
    REQUIRE(parsed);
    CHECK(parsed->time_since_epoch().count() == 1774545563);
    const auto leap_day = parse_utc_timestamp("2024-02-29T23:59:59Z");
    REQUIRE(leap_day);
    CHECK(leap_day->time_since_epoch().count() == 1709251199);

    const auto now = floor<seconds>(system_clock::now());
    CHECK(parse_utc_timestamp(format_utc_timestamp(now)) == now);
}

TEST_CASE("time_format: refuses fractions, offsets and impossible dates", "[time_format]") {
    for (const char* bad : {
             "2026-03-26T17:19:23.123Z",   // fractional seconds
             "2026-03-26T17:19:23.0Z",     //
             "2026-03-26T17:19:23+08:00",  // offset instead of Z
             "2026-03-26T17:19:23",        // no zone
             "2026-03-26 17:19:23Z",       // space instead of T
             "2026-03-26t17:19:23z",       // lower case
             "2026-3-26T17:19:23Z",        // one-digit month
             "2026-02-29T00:00:00Z",       // not a leap year
             "2026-13-01T00:00:00Z",       // month 13
             "2026-00-10T00:00:00Z",       // month 0
             "2026-04-31T00:00:00Z",       // April 31
             "2026-03-26T24:00:00Z",       // hour 24
             "2026-03-26T17:60:00Z",       // minute 60
             "2026-03-26T17:19:60Z",       // leap second
             "+026-03-26T17:19:23Z",       // sign in the year
             " 2026-03-26T17:19:23Z",      // leading space
             "2026-03-26T17:19:23Z ",      // trailing space
             "",
         }) {
        INFO(bad);
        CHECK_FALSE(parse_utc_timestamp(bad).has_value());
    }
}
