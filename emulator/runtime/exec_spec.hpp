// SPDX-License-Identifier: Apache-2.0
// eci::emulator::ExecSpec: one command to run inside a sandbox.
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace eci::emulator {

/// Rows and columns of a pseudo-terminal.
struct TerminalSize {
    unsigned short rows = 24;
    unsigned short columns = 80;
};

/// What SandboxProcesses::exec runs.
struct ExecSpec {
    /// The program and its arguments; argv[0] without '/' is looked up along PATH.
    std::vector<std::string> argv;
    /// Run on a pseudo-terminal (stdin, stdout and stderr all on it) instead of pipes.
    bool tty = false;
    /// Pipes mode: give the process a stdin pipe (else it reads /dev/null).
    bool open_stdin = false;
    /// Initial size of the pseudo-terminal (tty mode).
    TerminalSize terminal_size;
    /// Extra environment variables, applied after the container's.
    std::vector<std::pair<std::string, std::string>> env;
    /// Working directory; empty: the container's.
    std::string working_dir;
    /// Asked once a start slot is free, just before the process is spawned: true when whoever
    /// asked for the command has gone (the exec WebSocket's peer closed while the start was
    /// queued). The start is then dropped, so a queue of starts that nobody will read does
    /// not hold the slots that live requests wait for (issue 14). Empty: always wanted.
    std::function<bool()> requester_gone;
};

}  // namespace eci::emulator
