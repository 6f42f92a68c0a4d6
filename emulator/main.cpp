// SPDX-License-Identifier: Apache-2.0
// eci-emulator: serves the ECI OpenAPI on loopback until SIGINT/SIGTERM (see --help and
// docs/emulator.md). `eci-sandbox emulator` runs the same code.
#include "emulator/options.hpp"
#include "emulator/run.hpp"

#include <string>
#include <string_view>
#include <vector>

int main(int argc, char** argv) {
    // Parse copies, then hide the secrets' values from /proc/PID/cmdline (and `ps`).
    const std::vector<std::string> copies(argv + 1, argv + argc);
    eci::emulator::scrub_secret_arguments(argc, argv);
    const std::vector<std::string_view> args(copies.begin(), copies.end());
    return eci::emulator::run_emulator_main(args, "eci-emulator");
}
