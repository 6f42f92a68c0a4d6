// SPDX-License-Identifier: Apache-2.0
// ExecTickets: single use, expired tickets forgotten on the next grant, clear() forgets all.
#include "emulator/exec_tickets.hpp"

#include <catch2/catch.hpp>

using eci::emulator::ExecTicket;
using eci::emulator::ExecTickets;
using namespace std::chrono_literals;

namespace {

ExecTicket ticket_until(ExecTickets::Clock::time_point expires) {
    ExecTicket ticket;
    ticket.container_group_id = "eci-test";
    ticket.container_name = "main";
    ticket.command = {"true"};
    ticket.expires = expires;
    return ticket;
}

}  // namespace

TEST_CASE("emulator: an exec ticket is redeemed once, expired ones are pruned, clear empties",
          "[emulator][exec]") {
    ExecTickets tickets;
    const auto t0 = ExecTickets::Clock::now();
    auto first = tickets.grant(ticket_until(t0 + 30s), t0);
    REQUIRE(first);
    CHECK(first->size() == 48);  // 24 random bytes, hex
    auto second = tickets.grant(ticket_until(t0 + 1s), t0);
    REQUIRE(second);
    CHECK(*second != *first);
    CHECK(tickets.size() == 2);

    auto redeemed = tickets.redeem(*first);
    REQUIRE(redeemed);
    CHECK(redeemed->container_group_id == "eci-test");
    CHECK_FALSE(tickets.redeem(*first));  // single use
    CHECK_FALSE(tickets.redeem(""));
    CHECK_FALSE(tickets.redeem("unknown"));

    // A grant after the second expired forgets it.
    auto third = tickets.grant(ticket_until(t0 + 60s), t0 + 2s);
    REQUIRE(third);
    CHECK(tickets.size() == 1);
    CHECK_FALSE(tickets.redeem(*second));

    tickets.clear();
    CHECK(tickets.size() == 0);
    CHECK_FALSE(tickets.redeem(*third));
}
