// SPDX-License-Identifier: Apache-2.0
#include "core/poll_batch.hpp"

#include <algorithm>

namespace eci::detail {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

std::vector<std::string> pick_poll_batch(PollSchedule& entries, steady_clock::time_point now,
                                         std::size_t max_ids) {
    // Most overdue first, so a sandbox is never starved by ids that sort before it.
    std::vector<std::pair<steady_clock::time_point, PollSchedule::iterator>> candidates;
    for (auto it = entries.begin(); it != entries.end(); ++it) {
        const auto& entry = it->second;
        if (entry.in_flight)
            continue;
        if (entry.next_due <= now || entry.next_due - entry.delay / 2 <= now)
            candidates.emplace_back(entry.next_due, it);
    }
    std::sort(candidates.begin(), candidates.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    // A call is made only for an entry that is really due; early ones only fill it.
    if (candidates.empty() || candidates.front().first > now)
        return {};
    std::vector<std::string> batch;
    for (auto& [due, it] : candidates) {
        if (batch.size() == max_ids)
            break;
        it->second.in_flight = true;
        batch.push_back(it->first);
    }
    return batch;
}

void reschedule_poll(PollEntry& entry, steady_clock::time_point now, milliseconds max_delay) {
    entry.in_flight = false;
    entry.next_due = now + entry.delay;
    entry.delay = std::min(milliseconds(static_cast<milliseconds::rep>(entry.delay.count() * 1.5)),
                           max_delay);
}

std::optional<steady_clock::time_point> next_poll_due(const PollSchedule& entries) {
    std::optional<steady_clock::time_point> first;
    for (const auto& [id, entry] : entries) {
        if (!entry.in_flight && (!first || entry.next_due < *first))
            first = entry.next_due;
    }
    return first;
}

}  // namespace eci::detail
