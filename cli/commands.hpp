// SPDX-License-Identifier: Apache-2.0
// The command table of `eci-sandbox`: every command, in help order. Each group of commands
// lives in its own file and contributes its entries here.
#pragma once

#include "cli/app.hpp"

#include <span>
#include <vector>

namespace eci::cli {

/// create, list, info, restart, delete.
std::span<const Command> sandbox_commands();
/// exec, bash.
std::span<const Command> exec_commands();
/// shell.
std::span<const Command> shell_commands();
/// write, read.
std::span<const Command> file_commands();
/// tmux start|poll|wait|kill|list.
std::span<const Command> tmux_commands();
/// reap.
std::span<const Command> reap_commands();
/// mcp.
std::span<const Command> mcp_commands();
/// emulator (when the emulator is built).
std::span<const Command> emulator_commands();
/// completion bash|zsh.
std::span<const Command> completion_commands();

/// Every command, in help order (the groups above; defined in main.cpp).
std::vector<Command> all_commands();

}  // namespace eci::cli
