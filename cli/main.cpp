// SPDX-License-Identifier: Apache-2.0
// eci-sandbox: the command-line client of eci-sandbox (docs/cli.md). Parses the command line,
// dispatches to one command, and turns every failure into one line on stderr and an exit code.
#include "cli/app.hpp"
#include "cli/commands.hpp"
#include "cli/json_output.hpp"

#include <boost/json/object.hpp>

#include <eci/version.hpp>

#ifdef ECI_CLI_HAVE_EMULATOR
#include "emulator/options.hpp"
#endif

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

std::vector<eci::cli::Command> eci::cli::all_commands() {
    std::vector<Command> commands;
    auto add = [&](std::span<const Command> group) {
        commands.insert(commands.end(), group.begin(), group.end());
    };
    add(sandbox_commands());
    add(exec_commands());
    add(shell_commands());
    add(file_commands());
    add(tmux_commands());
    add(reap_commands());
    add(mcp_commands());
#ifdef ECI_CLI_HAVE_EMULATOR
    add(emulator_commands());
#endif
    add(completion_commands());
    return commands;
}

namespace {

using namespace eci::cli;

constexpr eci::cli::OptionSpec version_option[] = {
    {"version", false, false, "", "print the version"},
};

std::string general_usage(const std::vector<Command>& commands) {
    std::string text =
        "Usage: eci-sandbox [global options] COMMAND [arguments] [options]\n"
        "\n"
        "Runs Alibaba Cloud ECI container groups as sandboxes (or the bundled emulator).\n"
        "\n"
        "Commands:\n";
    for (const auto& command : commands)
        text += fmt::format("  {:<14} {}\n", command.name, command.summary);
    text += "\nGlobal options (before or after the command):\n" + format_options(global_options()) +
            format_options(version_option) +
            "\n"
            "Credentials: ECI_SANDBOX_ACCESS_KEY_ID / ECI_SANDBOX_ACCESS_KEY_SECRET (or the\n"
            "ALIBABA_CLOUD_* names) in the environment or a .env file, else the current profile\n"
            "of ~/.aliyun/config.json (--profile NAME picks one), else the ECS RAM role named by\n"
            "ALIBABA_CLOUD_ECS_METADATA (ECI_CREDENTIALS=ecs_ram_role picks it); the secret is\n"
            "never taken from the command line. Also read: ECI_SANDBOX_REGION_ID, "
            "ECI_SANDBOX_ENDPOINT,\n"
            "ECI_SANDBOX_CA_FILE, ECI_SANDBOX_TIMEOUT_MS, ECI_SANDBOX_LOG_LEVEL\n"
            "(docs/configuration.md).\n"
            "\n"
            "Exit codes: 0 success; 1 the call failed (one line on stderr); 2 usage error;\n"
            "124 timed out; exec, bash, shell and tmux wait exit with the remote command's code.\n"
            "\n"
            "`eci-sandbox COMMAND --help` describes a command.\n";
    return text;
}

std::string command_usage(const Command& command) {
    std::string summary(command.summary);
    if (!summary.empty() && summary[0] >= 'a' && summary[0] <= 'z')
        summary[0] = static_cast<char>(summary[0] - 'a' + 'A');
    std::string text =
        fmt::format("Usage: eci-sandbox {} {}\n\n{}.\n", command.name, command.synopsis, summary);
    if (!command.details.empty())
        text += fmt::format("\n{}", command.details);
    if (!command.options.empty())
        text += "\nOptions:\n" + format_options(command.options);
    // A command's own option of the same name (exec's --timeout) replaces the global one.
    std::vector<OptionSpec> globals;
    for (const auto& spec : global_options()) {
        if (std::none_of(command.options.begin(), command.options.end(),
                         [&](const OptionSpec& own) { return own.name == spec.name; }))
            globals.push_back(spec);
    }
    text += "\nGlobal options:\n" + format_options(globals);
    return text;
}

/// "unknown command 'X'", with the closest command name when one is near (`tmux strat`
/// is compared with the sub-commands of its group).
std::string unknown_command(const std::vector<Command>& commands, const std::string& name) {
    std::vector<std::string_view> names;
    for (const auto& command : commands) {
        std::string_view candidate = command.name;
        // Top-level words only, unless the mistake is in a sub-command's word.
        if (name.find(' ') == std::string::npos)
            candidate = candidate.substr(0, candidate.find(' '));
        if (std::find(names.begin(), names.end(), candidate) == names.end())
            names.push_back(candidate);
    }
    if (auto near = closest_match(name, names))
        return fmt::format("unknown command '{}' (did you mean '{}'?)", name, *near);
    return fmt::format("unknown command '{}'", name);
}

/// Whether `--json` appears before any `--`: usage errors found before the command's own
/// parse are then printed as JSON as well.
bool json_requested = false;

int top_level_usage_error(std::string_view message) {
    if (json_requested)
        print_json(boost::json::object{
            {"error", boost::json::object{{"kind", "usage"}, {"message", message}}}});
    fmt::print(stderr, "eci-sandbox: {} (see 'eci-sandbox --help')\n", message);
    return exit_code::usage;
}

/// Adds what the options before the command said, unless the command's own part said it too.
void merge_globals(ParsedArgs& into, const ParsedArgs& globals) {
    for (const auto& [name, values] : globals.values)
        into.values.try_emplace(name, values);
    for (const auto& flag : globals.flags) {
        if (!into.has(flag))
            into.flags.push_back(flag);
    }
}

int run(const std::vector<std::string>& args) {
    const auto commands = all_commands();
    // Before parsing, so that a usage error is JSON too; corrected once the command's own
    // parse says whether `--json` was an option (`exec ID cmd --json` is the command's).
    json_requested =
        std::find(args.begin(), std::find(args.begin(), args.end(), "--"), "--json") != args.end();
    set_json_errors(json_requested);

    std::vector<OptionSpec> top_specs(global_options().begin(), global_options().end());
    top_specs.push_back(version_option[0]);
    auto top = parse_args(args, top_specs, PositionalMode::stop);
    if (!top)
        return top_level_usage_error(top.error().message);
    if (top->has("version")) {
        fmt::print("eci-sandbox {}\n", eci::version());
        return exit_code::ok;
    }
    std::vector<std::string> rest = top->rest;
    if (rest.empty()) {
        if (top->has("help")) {
            fmt::print("{}", general_usage(commands));
            return exit_code::ok;
        }
        fmt::print(stderr, "{}", general_usage(commands));
        return exit_code::usage;
    }
    std::string name = rest.front();
    rest.erase(rest.begin());
    if (name == "help") {  // `eci-sandbox help [COMMAND...]` = `eci-sandbox [COMMAND...] --help`
        if (rest.empty()) {
            fmt::print("{}", general_usage(commands));
            return exit_code::ok;
        }
        name = rest.front();
        rest.erase(rest.begin());
        rest.push_back("--help");
    }
    // Sub-commands (`tmux start`) are named with their group.
    const bool is_group = std::any_of(commands.begin(), commands.end(), [&](const Command& c) {
        return c.name.starts_with(name + " ");
    });
    if (is_group) {
        if (rest.empty() || rest.front().starts_with("-")) {
            std::string text = fmt::format("Usage: eci-sandbox {} SUBCOMMAND ...\n\n", name);
            for (const auto& command : commands) {
                if (command.name.starts_with(name + " "))
                    text += fmt::format("  {:<14} {}\n", command.name, command.summary);
            }
            const bool help = !rest.empty() && rest.front() == "--help";
            fmt::print(help ? stdout : stderr, "{}", text);
            return help ? exit_code::ok : exit_code::usage;
        }
        name += " " + rest.front();
        rest.erase(rest.begin());
    }
    auto found = std::find_if(commands.begin(), commands.end(),
                              [&](const Command& command) { return command.name == name; });
    if (found == commands.end())
        return top_level_usage_error(unknown_command(commands, name));
    const Command& command = *found;

    Invocation invocation(command);
    if (command.raw_arguments) {
        invocation.args.rest = std::move(rest);
        return command.run(invocation);
    }
    std::vector<OptionSpec> specs(command.options.begin(), command.options.end());
    specs.insert(specs.end(), global_options().begin(), global_options().end());
    auto parsed =
        parse_args(rest, specs, PositionalMode::collect, command.positionals_before_command);
    if (!parsed)
        return usage_error(invocation, parsed.error().message);
    invocation.args = std::move(*parsed);
    merge_globals(invocation.args, *top);
    if (invocation.args.has("help")) {
        fmt::print("{}", command_usage(command));
        return exit_code::ok;
    }
    invocation.json = invocation.args.has("json");
    set_json_errors(invocation.json);
    if (auto text = invocation.args.value("timeout")) {
        // Checked here for every command; exec and the like check their own bounds again.
        if (auto seconds = parse_number("--timeout", *text, 0.001, 86400); !seconds)
            return usage_error(invocation, seconds.error().message);
    }
    return command.run(invocation);
}

}  // namespace

int main(int argc, char** argv) {
    // Nothing escapes as a stack trace or an abort: every failure is one line and an exit code.
    try {
        // Parse copies: `emulator` may be given --access-key-secret / --security-token, whose
        // values every user sees in /proc/PID/cmdline (`ps`) until they are overwritten here,
        // exactly as eci-emulator does.
        const std::vector<std::string> args(argv + 1, argv + argc);
#ifdef ECI_CLI_HAVE_EMULATOR
        eci::emulator::scrub_secret_arguments(argc, argv);
#endif
        return run(args);
    } catch (const std::exception& error) {
        std::fprintf(stderr, "eci-sandbox: internal error: %s\n", error.what());
    } catch (...) {
        std::fprintf(stderr, "eci-sandbox: internal error\n");
    }
    return exit_code::error;
}
