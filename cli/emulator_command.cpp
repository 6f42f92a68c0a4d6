// SPDX-License-Identifier: Apache-2.0
// emulator: the bundled ECI emulator, exactly as `eci-emulator` runs it.
#include "cli/commands.hpp"

#include "emulator/run.hpp"

namespace eci::cli {

namespace {

int run_emulator(Invocation& invocation) {
    const std::vector<std::string_view> args(invocation.args.rest.begin(),
                                             invocation.args.rest.end());
    return emulator::run_emulator_main(args, "eci-sandbox emulator");
}

const Command commands[] = {
    {"emulator",
     "[emulator options]",
     "run the bundled ECI emulator (as eci-emulator)",
     {},
     "Takes every eci-emulator option (see `eci-sandbox emulator --help`), prints one JSON\n"
     "ready line and serves until SIGINT/SIGTERM.\n",
     run_emulator,
     true},
};

}  // namespace

std::span<const Command> emulator_commands() {
    return commands;
}

}  // namespace eci::cli
