// SPDX-License-Identifier: Apache-2.0
// Each isolated sandbox in its own user namespace: root inside (uid and gid 0) is an
// unprivileged range of host ids outside, so what escapes the other namespaces still meets
// the host's file permissions as a nobody. Parent side: the id ranges and the maps the
// emulator writes for a new init; child side (async-signal-safe): waiting for the maps and
// becoming the namespace's root.
#pragma once

#include <eci/result.hpp>

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <set>

namespace eci::emulator::detail {

/// Ids each sandbox gets: 0-65535 inside, as a container image expects (nobody = 65534).
constexpr std::uint32_t userns_range = 65536;

/// Hands out one id range per live sandbox: slot n maps to [base + n * 65536, +65536).
class UsernsSlots {
  public:
    explicit UsernsSlots(std::uint32_t base = 0) : base_(base) {}

    /// The lowest free slot's first host id; nullopt when the 32-bit id space is used up.
    std::optional<std::uint32_t> acquire();
    /// Returns the range starting at `first_id` (from acquire()).
    void release(std::uint32_t first_id) noexcept;
    std::uint32_t base() const noexcept { return base_; }

  private:
    std::uint32_t base_;
    std::set<std::uint32_t> used_;  // slot numbers
};

/// Writes /proc/<pid>/uid_map and gid_map: "0 <first_id> 65536". The process must be in a
/// fresh user namespace and still waiting (child_wait_for_id_maps). Errors: service.
Result<void> write_id_maps(pid_t pid, std::uint32_t first_id);

/// Child side: blocks until the parent writes a byte to `fd` (the maps are in place).
/// False when the parent closed the pipe without writing (it could not map: give up).
bool child_wait_for_id_maps(int fd) noexcept;

/// Child side, in a user namespace whose maps are written: gid, supplementary groups and
/// uid all become the namespace's 0. Raw system calls: glibc's setresuid would try to
/// synchronise threads that only existed in the emulator. False with errno on failure.
bool child_become_namespace_root() noexcept;

}  // namespace eci::emulator::detail
