// SPDX-License-Identifier: Apache-2.0
// The records a child (an exec relay, a sandbox init, the eci-sandbox-init program) writes
// to the emulator over a pipe. Plain types only: the init program includes this header and
// nothing else of the emulator.
#pragma once

#include <cstdint>

namespace eci::emulator::detail {

/// What a child writes to its parent over a pipe. 16 bytes: one write() is atomic.
struct ChildReport {
    std::int32_t type = 0;   ///< ReportType
    std::int32_t stage = 0;  ///< ChildStage, for `failed`
    std::int32_t value = 0;  ///< errno for `failed`, a wait status for `main_exited`
    std::int32_t reserved = 0;
};

enum ReportType : std::int32_t {
    report_failed = 1,       ///< a setup step failed; the child exits
    report_ready = 2,        ///< a sandbox init finished its setup
    report_main_exited = 3,  ///< the sandbox's main process ended (value: wait status)
};

/// Descriptors of the init program (eci-sandbox-init): 0-2 /dev/null, 3 the status pipe.
/// argv[1] is the pid of the main process (a child the init inherits) or -1.
constexpr int init_status_fd = 3;

}  // namespace eci::emulator::detail
