// SPDX-License-Identifier: Apache-2.0
// `eci-sandbox mcp`'s stdio loop: reads lines from stdin, carries out Protocol's actions,
// runs tool calls concurrently on one io_context (each with its own cancellation signal),
// writes replies to stdout (nothing else goes there), and at the end deletes the sandboxes
// it created.
#pragma once

#include <eci/config.hpp>
#include <eci/logger.hpp>
#include <eci/result.hpp>

#include <chrono>

namespace eci::cli::mcp {

struct ServerOptions {
    /// The lease of every sandbox create_sandbox makes (its ActiveDeadlineSeconds too).
    std::chrono::seconds lease{1800};
    /// Leave the sandboxes this server created running when it ends (default: delete them).
    bool keep_sandboxes = false;
    /// The library's diagnostics (stderr only).
    Logger logger;
};

/// Serves MCP on stdin/stdout until stdin ends (calls in flight are finished first) or
/// SIGTERM/SIGINT (calls in flight are cancelled); then deletes its sandboxes (bounded by
/// 60 s; a second signal abandons that, their leases remain). Returns the process exit code
/// (0, or 1 when a delete failed), or the error of configuring the client.
Result<int> serve_stdio(const ConfigOverrides& overrides, ServerOptions options);

}  // namespace eci::cli::mcp
