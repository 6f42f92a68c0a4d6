// SPDX-License-Identifier: Apache-2.0
// Runs a command as a local child process with stdin data, capturing stdout and stderr apart,
// under a hard deadline: the tests of the sans-io shell scripts run them with the real local
// shell and tmux, with only the exec transport replaced.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace eci::test {

struct LocalRun {
    int exit_code = -1;  ///< the exit status, or -1 when killed by a signal or the deadline
    bool timed_out = false;
    std::string out;
    std::string err;
};

struct LocalRunOptions {
    /// Environment changes in the child: a value sets the variable, nullopt removes it.
    std::vector<std::pair<std::string, std::optional<std::string>>> env;
    /// Keep stdin open after the data was written (as an exec stream that cannot half-close
    /// it); the child must finish on its own.
    bool keep_stdin_open = false;
    std::chrono::milliseconds deadline{10000};
};

/// Runs `argv` (argv[0] looked up in PATH) in its own process group, writes `stdin_data`,
/// and collects its output until it exits and both pipes close, or the deadline passes (then
/// the process group is killed and `timed_out` is set).
LocalRun run_local(const std::vector<std::string>& argv, std::string_view stdin_data,
                   const LocalRunOptions& options = {});

}  // namespace eci::test
