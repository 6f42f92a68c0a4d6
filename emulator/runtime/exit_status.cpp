// SPDX-License-Identifier: Apache-2.0
#include "emulator/runtime/exit_status.hpp"

#include <fmt/core.h>
#include <sys/wait.h>

#include <cstring>

namespace eci::emulator {

std::string ExitStatus::to_string() const {
    if (signal == 0)
        return fmt::format("exit {}", exit_code);
    return fmt::format("signal {} ({})", signal, ::strsignal(signal));
}

ExitStatus ExitStatus::from_wait_status(int status) noexcept {
    ExitStatus result;
    if (WIFSIGNALED(status)) {
        result.signal = WTERMSIG(status);
    } else if (WIFEXITED(status)) {
        result.exit_code = WEXITSTATUS(status);
    }
    return result;
}

}  // namespace eci::emulator
