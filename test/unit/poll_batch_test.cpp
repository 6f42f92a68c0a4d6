// SPDX-License-Identifier: Apache-2.0
// The shared wait-for-Running schedule: which sandboxes one DescribeContainerGroups polls.
#include "core/poll_batch.hpp"

#include <catch2/catch.hpp>

#include <string>

using namespace eci::detail;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

TEST_CASE("poll batch: due sandboxes first, early ones only to fill a due call, at most 20",
          "[poll-batch]") {
    const auto now = steady_clock::now();
    PollSchedule schedule;
    // Nothing due: no call, even with entries due soon.
    schedule["soon"] = PollEntry{now + milliseconds(40), milliseconds(100), false};
    CHECK(pick_poll_batch(schedule, now).empty());
    CHECK_FALSE(schedule["soon"].in_flight);

    schedule["overdue"] = PollEntry{now - milliseconds(50), milliseconds(100), false};
    schedule["due"] = PollEntry{now, milliseconds(100), false};
    schedule["later"] = PollEntry{now + milliseconds(200), milliseconds(500), false};
    schedule["far"] = PollEntry{now + milliseconds(900), milliseconds(500), false};
    auto batch = pick_poll_batch(schedule, now);
    // "soon" is due within half of its 100 ms pause, "later" within half of its 500 ms; "far"
    // is not.
    REQUIRE(batch.size() == 4);
    CHECK(batch[0] == "overdue");
    CHECK(batch[1] == "due");
    CHECK(batch[2] == "soon");
    CHECK(batch[3] == "later");
    CHECK(schedule["overdue"].in_flight);
    CHECK_FALSE(schedule["far"].in_flight);
    // In flight: not picked again, and not what the runner waits for.
    CHECK(pick_poll_batch(schedule, now).empty());
    REQUIRE(next_poll_due(schedule).has_value());
    CHECK(*next_poll_due(schedule) == now + milliseconds(900));

    PollSchedule many;
    for (int i = 0; i < 45; ++i)
        many["eci-" + std::to_string(100 + i)] =
            PollEntry{now - milliseconds(i), milliseconds(100), false};
    auto first = pick_poll_batch(many, now);
    auto second = pick_poll_batch(many, now);
    auto third = pick_poll_batch(many, now);
    CHECK(first.size() == 20);
    CHECK(second.size() == 20);
    CHECK(third.size() == 5);
    CHECK(first.front() == "eci-144");  // the most overdue, though it sorts last
    CHECK(pick_poll_batch(many, now).empty());
    CHECK_FALSE(next_poll_due(many).has_value());
}

TEST_CASE("poll batch: each sandbox keeps its own backoff, x1.5 up to 5 s", "[poll-batch]") {
    const auto now = steady_clock::now();
    PollEntry entry{now, milliseconds(100), true};
    reschedule_poll(entry, now);
    CHECK_FALSE(entry.in_flight);
    CHECK(entry.next_due == now + milliseconds(100));
    CHECK(entry.delay == milliseconds(150));
    reschedule_poll(entry, now);
    CHECK(entry.next_due == now + milliseconds(150));
    CHECK(entry.delay == milliseconds(225));
    for (int i = 0; i < 20; ++i)
        reschedule_poll(entry, now);
    CHECK(entry.delay == milliseconds(5000));
    CHECK(entry.next_due == now + milliseconds(5000));
}
