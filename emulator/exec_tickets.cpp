// SPDX-License-Identifier: Apache-2.0
#include "emulator/exec_tickets.hpp"

#include "core/crypto.hpp"

namespace eci::emulator {

std::optional<std::string> ExecTickets::grant(ExecTicket ticket, Clock::time_point now) {
    std::erase_if(tickets_, [&](const auto& item) { return item.second.expires <= now; });
    auto token = eci::detail::random_hex(24);
    if (!token)
        return std::nullopt;
    tickets_[*token] = std::move(ticket);
    return *token;
}

std::optional<ExecTicket> ExecTickets::redeem(std::string_view token) {
    auto found = tickets_.find(token);
    if (token.empty() || found == tickets_.end())
        return std::nullopt;
    ExecTicket ticket = std::move(found->second);
    tickets_.erase(found);
    return ticket;
}

}  // namespace eci::emulator
