// SPDX-License-Identifier: Apache-2.0
#include "emulator/runtime/log_ring.hpp"

#include <catch2/catch.hpp>

#include <string>

using eci::emulator::LogRing;

TEST_CASE("runtime log ring: keeps everything below capacity", "[runtime][log]") {
    LogRing ring(10);
    ring.append("abc");
    ring.append("def");
    CHECK(ring.tail(100) == "abcdef");
    CHECK(ring.tail(2) == "ef");
    CHECK(ring.size() == 6);
}

TEST_CASE("runtime log ring: drops the oldest bytes beyond capacity", "[runtime][log]") {
    LogRing ring(5);
    ring.append("abc");
    ring.append("defg");  // wraps
    CHECK(ring.tail(100) == "cdefg");
    ring.append("hi");
    CHECK(ring.tail(100) == "efghi");
    CHECK(ring.tail(3) == "ghi");
    CHECK(ring.tail(0).empty());
    ring.append("0123456789");  // larger than capacity
    CHECK(ring.tail(100) == "56789");
    CHECK(ring.total_appended() == 19);
}

TEST_CASE("runtime log ring: many small appends match a reference", "[runtime][log]") {
    LogRing ring(7);
    std::string reference;
    for (int i = 0; i < 200; ++i) {
        const std::string piece(static_cast<std::size_t>(i % 4), static_cast<char>('a' + i % 26));
        ring.append(piece);
        reference += piece;
        const std::string expected =
            reference.substr(reference.size() - std::min<std::size_t>(7, reference.size()));
        REQUIRE(ring.tail(100) == expected);
        REQUIRE(ring.tail(3) ==
                expected.substr(expected.size() - std::min<std::size_t>(3, expected.size())));
    }
    LogRing none(0);
    none.append("abc");
    CHECK(none.tail(10).empty());
}
