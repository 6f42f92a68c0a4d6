// SPDX-License-Identifier: Apache-2.0
// Counters behind GET /_emulator/stats.
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace eci::emulator {

struct Stats {
    std::map<std::string, std::uint64_t, std::less<>> api_calls;        ///< per action
    std::map<std::string, std::uint64_t, std::less<>> faults_injected;  ///< per FaultKind name
    std::map<std::string, std::uint64_t, std::less<>> api_errors;       ///< per error Code
    std::uint64_t http_requests = 0;
    std::uint64_t exec_sessions = 0;  ///< exec WebSockets accepted
    /// Exec starts dropped because their WebSocket's client had gone by the time a start slot
    /// was free (ExecSpec::requester_gone).
    std::uint64_t exec_starts_abandoned = 0;
    /// Connections closed at once because --max-connections or --max-connections-per-peer
    /// was reached.
    std::uint64_t connections_refused = 0;
};

}  // namespace eci::emulator
