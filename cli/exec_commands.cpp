// SPDX-License-Identifier: Apache-2.0
// exec and bash: run a command in a sandbox, stream its output to the matching local streams
// and exit with its exit code.
#include "cli/commands.hpp"
#include "cli/json_output.hpp"

#include <eci/text.hpp>

#include <fmt/format.h>

#include <unistd.h>

#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace eci::cli {

namespace {

constexpr OptionSpec exec_options[] = {
    {"timeout", true, false, "SECONDS", "deadline of the command (default and maximum 600)"},
    {"container", true, false, "NAME", "container to run in (default: the first)"},
    {"env", true, true, "K=V", "environment variable of the command", 'e'},
    {"workdir", true, false, "DIR", "run the command in this directory", 'w'},
    {"no-stdin", false, false, "", "do not forward stdin (as ssh -n)"},
    {"tty", false, false, "", "allocate a TTY (stdout and stderr arrive merged)"},
    {"raw-argv", false, false, "",
     "send ARGV bare, without the /bin/sh exit-status wrapper (images without /bin/sh)"},
};

constexpr OptionSpec bash_options[] = {
    {"timeout", true, false, "SECONDS", "deadline of the command (default and maximum 600)"},
    {"container", true, false, "NAME", "container to run in (default: the first)"},
    {"env", true, true, "K=V", "environment variable of the command", 'e'},
    {"workdir", true, false, "DIR", "run the command in this directory", 'w'},
    {"no-stdin", false, false, "", "do not forward stdin (as ssh -n)"},
};

/// The --env pairs; nullopt after a usage error.
std::optional<std::vector<std::pair<std::string, std::string>>> env_pairs(Invocation& invocation) {
    std::vector<std::pair<std::string, std::string>> pairs;
    for (const auto& text : invocation.args.all("env")) {
        auto pair = parse_key_value("--env", text);
        if (!pair) {
            usage_error(invocation, pair.error().message);
            return std::nullopt;
        }
        // A shell variable name: it is exported by bash and given to env(1) by exec.
        const std::string& key = pair->first;
        const bool valid =
            !(key[0] >= '0' && key[0] <= '9') && std::all_of(key.begin(), key.end(), [](char c) {
                return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                       (c >= '0' && c <= '9');
            });
        if (!valid) {
            usage_error(invocation, "--env: the name must be letters, digits and _");
            return std::nullopt;
        }
        pairs.push_back(std::move(*pair));
    }
    return pairs;
}

/// What the command gets on its stdin: the local stdin when it is not a terminal (a pipe or
/// a file, as `echo hi | eci-sandbox bash ID cat`), read to its end first (the exec protocol
/// has no end-of-input, so the wrappers need the byte count); nothing with --no-stdin, from
/// a terminal, or when it is empty or closed.
std::optional<std::string> forwarded_stdin(const Invocation& invocation) {
    if (invocation.args.has("no-stdin") || ::isatty(STDIN_FILENO) != 0)
        return std::nullopt;
    auto input = read_all_stdin();
    if (!input || input->empty())
        return std::nullopt;
    return std::move(*input);
}

/// The options from the shared flags (`--tty` and `--raw-argv` are exec's only: bash has no
/// such flags, so they stay off); nullopt after a usage error.
std::optional<ExecCommandOptions> exec_options_from(Invocation& invocation) {
    ExecCommandOptions options;
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
    if (!options.exec_dir.empty() && (options.tty || options.raw_argv)) {
        usage_error(invocation, "--workdir needs the /bin/sh wrapper (not --tty or --raw-argv)");
        return std::nullopt;
    }
    options.stdin_data = forwarded_stdin(invocation);
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
    if (!result)
        return report_error(result.error());  // --json: with the output so far ("partial")
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
    // The command starts at the first word after ID (or after `--`); its own options are
    // left to it: `exec ID ls -l /`.
    std::vector<std::string> argv = invocation.args.rest;
    if (argv.empty())
        return usage_error(invocation, "missing the command to run (ID ARGV...)");
    auto env = env_pairs(invocation);
    if (!env)
        return exit_code::usage;
    if (!env->empty()) {
        // env(1) sets them for exactly this program, whatever runs it (wrapper or not).
        std::vector<std::string> prefix{"env"};
        for (const auto& [key, value] : *env)
            prefix.push_back(key + "=" + value);
        argv.insert(argv.begin(), prefix.begin(), prefix.end());
    }
    return run_remote(invocation, [&](EciSandbox& client, ExecCommandOptions options) {
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
    auto env = env_pairs(invocation);
    if (!env)
        return exit_code::usage;
    std::string exports;
    for (const auto& [key, value] : *env)
        exports += fmt::format("export {}={}\n", key, shell_quote(value));
    command = exports + command;
    return run_remote(invocation, [&](EciSandbox& client, ExecCommandOptions options) {
        // bash reads the common part (its flags cannot set tty or raw_argv).
        return client.bash(positionals[0], std::move(command), std::move(options));
    });
}

const Command commands[] = {
    {"exec", "ID [options] ARGV...", "run a program (no shell) and exit with its code",
     exec_options,
     "Options go before ARGV: everything from its first word on is the program's, as with\n"
     "`docker exec` (`exec ID ls -l /`); `ID [options] -- ARGV...` works too.\n"
     "A local stdin that is not a terminal is read to its end and forwarded; the program\n"
     "sees end-of-input after it (--no-stdin: nothing is read, as `ssh -n`).\n"
     "Remote stdout and stderr are streamed to the local stdout and stderr as they arrive.\n"
     "ARGV runs unchanged (no shell parsing of it) under a /bin/sh wrapper that reports its\n"
     "exit code, so the code is known on every service; --raw-argv sends ARGV bare (for an\n"
     "image without /bin/sh), and then the code is known only if the server reports it.\n"
     "With --json nothing is streamed: one object {exit_code, signal, outcome, stdout,\n"
     "stderr, truncated, duration_ms, request_id} is printed at the end.\n",
     run_exec, false, 1},
    {"bash", "ID [options] 'COMMAND'", "run a bash command line and exit with its code",
     bash_options,
     "Runs COMMAND with `bash -lc`; remote stdout and stderr are streamed to the local\n"
     "stdout and stderr, and the process exits with the command's exit code (128+N when a\n"
     "signal killed it). `ID -- WORDS...` joins the words with spaces.\n"
     "A local stdin that is not a terminal is read to its end and forwarded (`echo hi |\n"
     "eci-sandbox bash ID cat` prints hi); --no-stdin reads nothing.\n",
     run_bash},
};

}  // namespace

std::span<const Command> exec_commands() {
    return commands;
}

}  // namespace eci::cli
