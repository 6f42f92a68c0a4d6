// SPDX-License-Identifier: Apache-2.0
// exec and bash: run a command in a sandbox, stream its output to the matching local streams
// and exit with its exit code.
#include "cli/commands.hpp"
#include "cli/json_output.hpp"

#include <fmt/format.h>

#include <unistd.h>

namespace eci::cli {

namespace {

constexpr OptionSpec exec_options[] = {
    {"timeout", true, false, "SECONDS", "deadline of the command (default and maximum 600)"},
    {"container", true, false, "NAME", "container to run in (default: the first)"},
    {"tty", false, false, "", "allocate a TTY (stdout and stderr arrive merged)"},
    {"raw-argv", false, false, "",
     "send ARGV bare, without the /bin/sh exit-status wrapper (images without /bin/sh)"},
};

constexpr OptionSpec bash_options[] = {
    {"timeout", true, false, "SECONDS", "deadline of the command (default and maximum 600)"},
    {"container", true, false, "NAME", "container to run in (default: the first)"},
    {"workdir", true, false, "DIR", "run the command in this directory"},
};

/// ExecOptions from the shared flags; nullopt after a usage error.
std::optional<ExecOptions> exec_options_from(Invocation& invocation) {
    ExecOptions options;
    auto timeout = seconds_option(invocation, "timeout", ExecOptions::max_timeout);
    if (!timeout)
        return std::nullopt;
    if (*timeout > ExecOptions::max_timeout) {
        usage_error(invocation, "--timeout: at most 600 seconds");
        return std::nullopt;
    }
    options.timeout = *timeout;
    options.container_name = invocation.args.value("container").value_or("");
    options.exec_dir = invocation.args.value("workdir").value_or("");
    options.tty = invocation.args.has("tty");
    options.raw_argv = invocation.args.has("raw-argv");
    if (!invocation.json) {
        // Stream as it arrives; keep nothing (the output is already on the terminal).
        options.max_output_bytes = 0;
        options.on_output = [](OutputStream stream, std::string_view bytes) {
            write_fd(stream == OutputStream::standard_output ? STDOUT_FILENO : STDERR_FILENO,
                     bytes);
        };
    }
    return options;
}

/// The process exit code for a finished remote command (and its --json line).
int finish(Invocation& invocation, const Result<CommandResult>& result) {
    if (!result) {
        if (invocation.json && result.error().partial)
            print_json(command_json(*result.error().partial));
        return report_error(result.error());
    }
    if (invocation.json)
        print_json(command_json(*result));
    switch (result->outcome) {
        case CommandOutcome::exited:
            // The library takes only 0-255 as an exit code; anything else must not reach
            // exit(), which keeps the low 8 bits (256 would exit 0: a failure as success).
            if (result->exit_code && *result->exit_code >= 0 && *result->exit_code <= 255)
                return *result->exit_code;
            if (result->exit_code) {
                fmt::print(stderr,
                           "eci-sandbox: error: the command reported exit code {}, which is "
                           "not an exit code (0-255)\n",
                           *result->exit_code);
                return exit_code::error;
            }
            fmt::print(stderr,
                       "eci-sandbox: error: the command ended but its exit code is "
                       "unknown\n");
            return exit_code::error;
        case CommandOutcome::signalled:
            return 128 + result->signal.value_or(0);
        default:
            fmt::print(stderr, "eci-sandbox: error: the command did not finish ({})\n",
                       to_string(result->outcome));
            return result->outcome == CommandOutcome::timed_out ? exit_code::timed_out
                                                                : exit_code::error;
    }
}

/// exec and bash after their own arguments were checked: options, client, call, exit code.
template <class Call>
int run_remote(Invocation& invocation, Call call) {
    auto options = exec_options_from(invocation);
    if (!options)
        return exit_code::usage;
    auto* client = invocation.client();
    if (client == nullptr)
        return exit_code::error;
    return finish(invocation, call(*client, std::move(*options)));
}

int run_exec(Invocation& invocation) {
    const auto& positionals = invocation.args.positionals;
    if (positionals.empty())
        return usage_error(invocation, "missing argument ID");
    std::vector<std::string> argv = invocation.args.rest;
    if (!invocation.args.has_separator)
        argv.assign(positionals.begin() + 1, positionals.end());
    else if (positionals.size() > 1)
        return usage_error(invocation, "put the whole command after '--'");
    if (argv.empty())
        return usage_error(invocation, "missing the command to run (ID -- ARGV...)");
    return run_remote(invocation, [&](EciSandbox& client, ExecOptions options) {
        return client.exec_command(positionals[0], std::move(argv), std::move(options));
    });
}

int run_bash(Invocation& invocation) {
    const auto& positionals = invocation.args.positionals;
    if (positionals.empty())
        return usage_error(invocation, "missing argument ID");
    std::string command;
    if (positionals.size() == 2 && !invocation.args.has_separator) {
        command = positionals[1];
    } else if (positionals.size() == 1 && !invocation.args.rest.empty()) {
        for (const auto& word : invocation.args.rest)
            command += (command.empty() ? "" : " ") + word;
    } else {
        return usage_error(invocation, "expected ID 'COMMAND' (one argument, quoted)");
    }
    return run_remote(invocation, [&](EciSandbox& client, ExecOptions options) {
        return client.bash(positionals[0], std::move(command), std::move(options));
    });
}

const Command commands[] = {
    {"exec", "ID [options] -- ARGV...", "run a program (no shell) and exit with its code",
     exec_options,
     "Remote stdout and stderr are streamed to the local stdout and stderr as they arrive.\n"
     "ARGV runs unchanged (no shell parsing of it) under a /bin/sh wrapper that reports its\n"
     "exit code, so the code is known on every service; --raw-argv sends ARGV bare (for an\n"
     "image without /bin/sh), and then the code is known only if the server reports it.\n"
     "With --json nothing is streamed: one object {exit_code, signal, outcome, stdout,\n"
     "stderr, truncated, duration_ms, request_id} is printed at the end.\n",
     run_exec},
    {"bash", "ID [options] 'COMMAND'", "run a bash command line and exit with its code",
     bash_options,
     "Runs COMMAND with `bash -lc`; remote stdout and stderr are streamed to the local\n"
     "stdout and stderr, and the process exits with the command's exit code (128+N when a\n"
     "signal killed it). `ID -- WORDS...` joins the words with spaces.\n",
     run_bash},
};

}  // namespace

std::span<const Command> exec_commands() {
    return commands;
}

}  // namespace eci::cli
