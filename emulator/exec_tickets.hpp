// SPDX-License-Identifier: Apache-2.0
// ExecTickets: the exec WebSocket URLs ExecContainerCommand granted and not yet used. A
// ticket is single use and valid until it expires. Sans-io; one strand uses it.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace eci::emulator {

/// A pending exec WebSocket: what ExecContainerCommand granted.
struct ExecTicket {
    std::string container_group_id;
    std::string container_name;
    std::vector<std::string> command;
    bool stdin = true;
    bool tty = false;
    std::chrono::steady_clock::time_point expires;
};

class ExecTickets {
  public:
    using Clock = std::chrono::steady_clock;

    /// Stores `ticket` under a new random token (forgetting expired tickets first) and
    /// returns the token; nullopt when no random token could be made.
    std::optional<std::string> grant(ExecTicket ticket, Clock::time_point now);

    /// Takes the ticket of `token` out (single use), expired or not; nullopt when unknown.
    std::optional<ExecTicket> redeem(std::string_view token);

    /// Forgets every ticket (the server's teardown).
    void clear() noexcept { tickets_.clear(); }

    std::size_t size() const noexcept { return tickets_.size(); }

  private:
    std::map<std::string, ExecTicket, std::less<>> tickets_;
};

}  // namespace eci::emulator
