// SPDX-License-Identifier: Apache-2.0
// eci::emulator::ExitStatus: how a process of a sandbox ended.
#pragma once

#include <string>

namespace eci::emulator {

/// How a process ended: a normal exit with a code, or death by a signal.
struct ExitStatus {
    int exit_code = 0;  ///< the code passed to exit(); meaningful when `signal` is 0
    int signal = 0;     ///< the terminating signal, 0 when the process exited normally

    bool exited() const noexcept { return signal == 0; }
    /// Exited normally with code 0.
    bool success() const noexcept { return signal == 0 && exit_code == 0; }
    /// The code a shell would report: the exit code, or 128 + signal.
    int shell_code() const noexcept { return signal == 0 ? exit_code : 128 + signal; }
    /// "exit 3" or "signal 9 (Killed)".
    std::string to_string() const;

    /// Decodes a status word of waitpid().
    static ExitStatus from_wait_status(int status) noexcept;

    friend bool operator==(const ExitStatus&, const ExitStatus&) = default;
};

}  // namespace eci::emulator
