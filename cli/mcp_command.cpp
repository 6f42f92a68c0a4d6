// SPDX-License-Identifier: Apache-2.0
// mcp: a Model Context Protocol server on stdio for agent hosts (docs/agents.md).
#include "cli/commands.hpp"
#include "cli/mcp/server.hpp"

#include <eci/logger.hpp>

namespace eci::cli {

namespace {

constexpr OptionSpec mcp_options[] = {
    {"lease", true, false, "SECONDS",
     "lease of each sandbox it creates: the service ends it then (default 1800, at most 86400)"},
    {"keep-sandboxes", false, false, "",
     "leave the sandboxes it created running at exit (default: delete them)"},
};

int run_mcp(Invocation& invocation) {
    if (!invocation.expect_positionals({}))
        return exit_code::usage;
    if (invocation.json)
        return usage_error(invocation, "--json does not apply: stdout carries the protocol");
    mcp::ServerOptions options;
    if (auto text = invocation.args.value("lease")) {
        auto seconds = parse_integer("--lease", *text, 1, 86400);
        if (!seconds)
            return usage_error(invocation, seconds.error().message);
        options.lease = std::chrono::seconds(*seconds);
    }
    options.keep_sandboxes = invocation.args.has("keep-sandboxes");
    options.logger =
        make_stderr_logger(invocation.args.has("verbose") ? LogLevel::info : LogLevel::warn);
    auto served = mcp::serve_stdio(config_overrides(invocation.args), std::move(options));
    return served ? *served : report_error(served.error());
}

const Command commands[] = {
    {"mcp", "[--lease SECONDS] [--keep-sandboxes]",
     "serve the Model Context Protocol on stdio (for agent hosts)", mcp_options,
     "JSON-RPC 2.0, one message per line (lines up to 4 MiB), on stdin/stdout; logs go to\n"
     "stderr. Tools: create_sandbox, list_sandboxes, delete_sandbox, run_command,\n"
     "start_job, poll_job, wait_job, kill_job, read_file, write_file (docs/agents.md).\n"
     "Sandboxes it creates carry the lease and are deleted when stdin closes (after the\n"
     "calls in flight end) or on SIGTERM/SIGINT (calls in flight are cancelled).\n",
     run_mcp},
};

}  // namespace

std::span<const Command> mcp_commands() {
    return commands;
}

}  // namespace eci::cli
