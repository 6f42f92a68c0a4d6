// SPDX-License-Identifier: Apache-2.0
// NonceCache: remembers signature nonces for a window so a replay is refused, with memory
// bounded by the window (old nonces expire) and by a hard cap.
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_set>

namespace eci::emulator {

class NonceCache {
  public:
    using Clock = std::chrono::steady_clock;

    /// `window`: how long a nonce stays remembered; `max_entries`: hard cap (the oldest is
    /// forgotten first when a burst exceeds it, so a replay older than the cap gets through).
    explicit NonceCache(Clock::duration window = std::chrono::minutes(15),
                        std::size_t max_entries = 1'000'000);

    /// Records `nonce`; false when it was already seen within the window.
    bool insert(std::string_view nonce, Clock::time_point now);

    std::size_t size() const noexcept { return seen_.size(); }

  private:
    void expire(Clock::time_point now);

    struct Entry {
        Clock::time_point at;
        std::string nonce;
    };
    Clock::duration window_;
    std::size_t max_entries_;
    std::deque<Entry> order_;
    std::unordered_set<std::string> seen_;
};

}  // namespace eci::emulator
