// SPDX-License-Identifier: Apache-2.0
// Runs programs as child processes for end-to-end tests of the executables: one-shot runs
// with captured stdout/stderr and a deadline (run_process), and long-running servers whose
// first stdout line is read (ChildProcess).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace eci::test {

/// What a finished child did.
struct ProcessResult {
    int exit_code = -1;      ///< the exit status; 128 + N when killed by signal N
    std::string out;         ///< everything it wrote to stdout
    std::string err;         ///< everything it wrote to stderr
    bool timed_out = false;  ///< the deadline passed: it was killed (SIGKILL)
};

/// How to run a child.
struct ProcessOptions {
    /// The whole environment of the child (`NAME=value` entries); nothing is inherited.
    std::vector<std::string> environment;
    std::string working_directory;  ///< empty = the test's current directory
    std::string input;              ///< written to its stdin, which is then closed
    std::chrono::milliseconds deadline{60000};
};

/// Runs `binary` with `args` (argv[0] is the binary) to its end or the deadline.
/// Failure to start is reported as exit_code 127 with the reason in `err`.
ProcessResult run_process(const std::string& binary, const std::vector<std::string>& args,
                          const ProcessOptions& options);

/// A long-running child whose stdout is a pipe; stderr and stdin are inherited. SIGTERM and
/// reaped (SIGKILL after 10 s) on destruction.
class ChildProcess {
  public:
    /// Starts it. On failure to start, pid() is -1.
    ChildProcess(const std::string& binary, const std::vector<std::string>& args,
                 const ProcessOptions& options);
    ~ChildProcess();
    ChildProcess(const ChildProcess&) = delete;
    ChildProcess& operator=(const ChildProcess&) = delete;

    pid_t pid() const noexcept { return pid_; }
    /// The next line of its stdout (without the newline), or nullopt at EOF or the deadline.
    std::optional<std::string> read_line(std::chrono::milliseconds deadline);
    /// SIGTERM, then waits up to `grace` (then SIGKILL). Returns the exit status as
    /// ProcessResult::exit_code does. Idempotent (later calls return the first status).
    int stop(std::chrono::milliseconds grace = std::chrono::milliseconds(10000));

  private:
    pid_t pid_ = -1;
    int stdout_fd_ = -1;
    std::string buffered_;
    int status_ = -1;
};

}  // namespace eci::test
