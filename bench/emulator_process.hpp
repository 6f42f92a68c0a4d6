// SPDX-License-Identifier: Apache-2.0
// Starts eci-emulator as a child process (or reads the ready line of one already running) so a
// benchmark measures only its own process's CPU.
#pragma once

#include <eci/config.hpp>
#include <eci/result.hpp>

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

namespace eci::bench {

/// The emulator's ready line, parsed.
struct EmulatorEndpoint {
    std::string endpoint;  ///< host:port
    std::string scheme;    ///< https or http
    std::string ca_file;
    std::string region_id;
    std::string access_key_id;
    std::string access_key_secret;

    /// A client configuration that talks to this emulator.
    ClientConfig client_config() const;
};

/// Parses one ready line: {"endpoint":..., "scheme":..., "ca_file":..., ...}.
Result<EmulatorEndpoint> parse_ready_line(const std::string& line);

/// Reads the first line of `path` (a file holding a running emulator's ready line) and parses
/// it. Errors: protocol when the file is missing or its first line is not a ready line.
Result<EmulatorEndpoint> read_ready_file(const std::string& path);

/// A child eci-emulator; SIGTERM and reaped on destruction.
class EmulatorProcess {
  public:
    /// Starts `binary` with `args` and waits (up to 30 s) for its ready line.
    static Result<EmulatorProcess> start(const std::string& binary, std::vector<std::string> args);
    EmulatorProcess(EmulatorProcess&& other) noexcept;
    EmulatorProcess& operator=(EmulatorProcess&&) = delete;
    ~EmulatorProcess();

    const EmulatorEndpoint& endpoint() const { return endpoint_; }
    pid_t pid() const { return pid_; }
    /// SIGTERM, then waits for exit. Returns the exit status (0 = clean shutdown).
    int stop();

  private:
    EmulatorProcess(pid_t pid, EmulatorEndpoint endpoint)
        : pid_(pid), endpoint_(std::move(endpoint)) {}
    pid_t pid_ = -1;
    EmulatorEndpoint endpoint_;
};

/// The emulator a benchmark talks to: the running one whose ready line is in `ready_file`
/// (`--emulator-ready`), or else a child started from `binary` with `args`, kept in `child`
/// (stopped when `child` is destroyed). Errors: those of read_ready_file and start.
Result<EmulatorEndpoint> ready_or_start(const std::string& ready_file, const std::string& binary,
                                        std::vector<std::string> args,
                                        std::optional<EmulatorProcess>& child);

}  // namespace eci::bench
