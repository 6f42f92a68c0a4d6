// eci-emulator: serves the ECI OpenAPI on loopback until SIGINT/SIGTERM (see --help and
// docs/emulator.md). `eci-sandbox emulator` runs the same code.
#include "emulator/run.hpp"

#include <string_view>
#include <vector>

int main(int argc, char** argv) {
    const std::vector<std::string_view> args(argv + 1, argv + argc);
    return eci::emulator::run_emulator_main(args, "eci-emulator");
}
