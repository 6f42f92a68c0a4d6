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
};

}  // namespace eci::emulator
