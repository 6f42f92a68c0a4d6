// SPDX-License-Identifier: Apache-2.0
// IdSource: the emulator's random identifiers (RequestIds, names of generated resources),
// drawn from one seeded generator so a seed gives the same ids run after run.
#pragma once

#include <cstddef>
#include <cstdint>
#include <random>
#include <string>

namespace eci::emulator {

class IdSource {
  public:
    explicit IdSource(std::uint64_t seed);

    /// UUID-shaped, upper-case hex, like the service's RequestIds.
    std::string request_id();

    /// `n` characters of [0-9a-z], as in the service's resource ids ("eci-" + 20 of them).
    std::string alnum(std::size_t n);

  private:
    std::mt19937_64 random_;
};

}  // namespace eci::emulator
