// SPDX-License-Identifier: Apache-2.0
// The frame every `eci-sandbox` command runs in: the command table entry (Command), what one
// invocation was given (Invocation), the documented exit codes, and the shared helpers for
// errors, JSON output and progress.
#pragma once

#include "cli/args.hpp"

#include <eci/blocking.hpp>
#include <eci/error.hpp>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>

namespace eci::cli {

/// The process exit codes of `eci-sandbox` (docs/cli.md). `exec`, `bash` and `tmux wait`
/// exit with the remote command's own code instead when it ran to its end.
namespace exit_code {
inline constexpr int ok = 0;
inline constexpr int error = 1;        ///< the call failed (one line on stderr says why)
inline constexpr int usage = 2;        ///< the command line was wrong
inline constexpr int timed_out = 124;  ///< a wait or a remote command ran out of time
}  // namespace exit_code

struct Invocation;

/// One command (`create`) or sub-command (`tmux start`).
struct Command {
    std::string_view name;      ///< as typed: "create", "tmux start"
    std::string_view synopsis;  ///< arguments after the name, e.g. "ID -- ARGV..."
    std::string_view summary;   ///< one line for the command list
    std::span<const OptionSpec> options;
    std::string_view details;  ///< more help text (may be empty)
    int (*run)(Invocation&);
    /// The arguments after the name are not parsed: they all go to ParsedArgs::rest (for
    /// `emulator`, whose flags are the emulator's own).
    bool raw_arguments = false;
    /// Once this many positionals were given, the next one starts a remote command line:
    /// it and everything after it go to ParsedArgs::rest unparsed (`exec ID ls -l /`, as
    /// `docker exec`). SIZE_MAX: options may come anywhere.
    std::size_t positionals_before_command = SIZE_MAX;
};

/// The options every command accepts (configuration and output).
std::span<const OptionSpec> global_options();

/// What one run of a command was given, and its client (made on first use).
struct Invocation {
    explicit Invocation(const Command& invoked) : command(invoked) {}

    const Command& command;
    ParsedArgs args;  ///< the command's and the global options, positionals, rest
    bool json = false;

    /// The blocking client configured from the global options (--endpoint, --region,
    /// --ca-file, --env-file, --access-key-id), the environment and `.env` (eci::load_config).
    /// On failure prints the error line and returns nullptr.
    EciSandbox* client();

    /// Checks that exactly `names.size()` positionals were given (or at least, when
    /// `at_least`); on mismatch prints a usage line and returns false.
    bool expect_positionals(std::initializer_list<std::string_view> names, bool at_least = false);

  private:
    std::optional<EciSandbox> client_;
};

/// The client configuration: load_config over the global options (config_overrides), which
/// follows the official credential chain: --profile, else the environment and .env, then a
/// profile of ~/.aliyun/config.json (ALIBABA_CLOUD_PROFILE or the current one), then the ECS
/// RAM role (docs/configuration.md, "Credential chain").
/// Errors: those of load_config.
Result<ClientConfig> load_client_config(const ParsedArgs& args);

/// The CLI's logger: `eci-sandbox: <level>: <message>` lines on stderr, from info up (retry
/// notices, warnings), debug with --verbose, else ECI_SANDBOX_LOG_LEVEL when set.
Logger cli_logger(const ParsedArgs& args);

/// The configuration the global options (--endpoint, --region, --ca-file, --env-file,
/// --access-key-id, --profile) give, over the environment and `.env` (eci::load_config).
ConfigOverrides config_overrides(const ParsedArgs& args);

/// Prints `eci-sandbox <command>: <message>` and a hint to --help on stderr; returns
/// exit_code::usage.
int usage_error(const Invocation& invocation, std::string_view message);

/// Prints `eci-sandbox: error: <kind> <code>: <message> [RequestId: ...]` as ONE line on
/// stderr (control characters escaped by terminal_safe(), at most max_error_line_bytes;
/// eci::Error never holds a secret) and returns exit_code::timed_out for a timeout,
/// exit_code::error otherwise. Under --json (set_json_errors) the error is also printed on
/// stdout as one error_json() line.
int report_error(const Error& error);

/// Whether errors (report_error, usage_error) are also printed as JSON on stdout: set once
/// --json is known to be given. Process-wide; the CLI runs one command per process.
void set_json_errors(bool enabled);

/// Writes `text` to stdout, control characters escaped (terminal_safe(): one record is one
/// line whatever a server put in it), followed by a newline. Unbuffered.
void print_line(std::string_view text);

/// Writes raw bytes to a file descriptor (1 or 2), retrying short writes. Never throws.
void write_fd(int fd, std::string_view bytes);

/// Everything on stdin up to its end. Errors: invalid_argument when it cannot be read.
Result<std::string> read_all_stdin();

/// Parses a `--timeout SECONDS` style option (seconds, fractions allowed, 0.001..86400).
/// Absent: `fallback`. On a bad value prints the usage error and returns nullopt.
std::optional<std::chrono::milliseconds> seconds_option(Invocation& invocation,
                                                        std::string_view name,
                                                        std::chrono::milliseconds fallback);

/// "Waiting ..." feedback on stderr while a long blocking call runs, ONLY when stderr is a
/// terminal (scripts and pipes see nothing). A thread redraws `label (Ns)` every half
/// second; the destructor stops it and clears the line.
class Progress {
  public:
    explicit Progress(std::string label);
    ~Progress();
    Progress(const Progress&) = delete;
    Progress& operator=(const Progress&) = delete;

  private:
    std::string label_;
    std::mutex mutex_;
    std::condition_variable wake_;
    bool done_ = false;
    std::thread thread_;
};

}  // namespace eci::cli
