// SPDX-License-Identifier: Apache-2.0
// run_emulator_main: the whole life of a command-line emulator (parse the flags, start, print
// the ready line, serve until SIGINT/SIGTERM, stop), shared by `eci-emulator` and
// `eci-sandbox emulator` so both take exactly the same flags.
#pragma once

#include <string_view>
#include <vector>

namespace eci::emulator {

/// Runs the emulator as a program would: `args` are its flags (see usage_text()), messages
/// go to stderr prefixed by `program_name`, `--help` prints the usage on stdout. Once
/// listening, prints exactly one JSON line (ReadyInfo::to_json_line) on stdout and flushes
/// it, then serves until SIGINT or SIGTERM and stops cleanly (every sandbox removed).
/// Returns the process exit status: 0 after a clean stop or --help, 2 for bad flags, 1 when
/// the emulator cannot start. Blocks the calling thread; call it at most once at a time per
/// process (it installs signal handlers).
int run_emulator_main(const std::vector<std::string_view>& args, std::string_view program_name);

}  // namespace eci::emulator
