// SPDX-License-Identifier: Apache-2.0
// The schedule of the shared wait for Running: each waiting sandbox keeps its own backoff
// (100 ms growing x1.5 up to 5 s, as a lone wait_until_running), and one
// DescribeContainerGroups of up to 20 ids serves every sandbox that is due. Sans-io: the
// runner in lib/sandbox carries the decisions out.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace eci::detail {

/// One sandbox's place in the shared poll schedule.
struct PollEntry {
    std::chrono::steady_clock::time_point next_due;
    std::chrono::milliseconds delay{100};  ///< the pause after the next poll
    bool in_flight = false;                ///< its id is in a describe now
};

using PollSchedule = std::map<std::string, PollEntry, std::less<>>;

/// The ids to describe together now, at most `max_ids` (the service takes 20): every entry
/// that is due, then, to fill the call, entries due within half their own pause (polling one
/// early costs nothing, and saves it a call of its own). Picked entries are marked in flight.
std::vector<std::string> pick_poll_batch(PollSchedule& entries,
                                         std::chrono::steady_clock::time_point now,
                                         std::size_t max_ids = 20);

/// After a poll that found the sandbox not yet Running: due again after its pause, which then
/// grows x1.5 up to `max_delay`.
void reschedule_poll(PollEntry& entry, std::chrono::steady_clock::time_point now,
                     std::chrono::milliseconds max_delay = std::chrono::milliseconds(5000));

/// When the next entry not in flight falls due; nullopt when none is waiting.
std::optional<std::chrono::steady_clock::time_point> next_poll_due(const PollSchedule& entries);

}  // namespace eci::detail
