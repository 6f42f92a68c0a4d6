// SPDX-License-Identifier: Apache-2.0
// tmux start|poll|wait|kill|list: long-running jobs in tmux sessions inside a sandbox.
#include "cli/commands.hpp"
#include "cli/json_output.hpp"
#include "cli/terminal_text.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <fmt/format.h>

#include <unistd.h>

namespace eci::cli {

namespace {

namespace json = boost::json;

constexpr OptionSpec start_options[] = {
    {"session", true, false, "ID", "session id (default: eci_cmd_<random>)"},
    {"workdir", true, false, "DIR", "run the command in this directory"},
    {"history-limit", true, false, "LINES", "tmux history-limit (default 50000)"},
    {"container", true, false, "NAME", "container (default: the first)"},
};

constexpr OptionSpec poll_options[] = {
    {"tail", true, false, "LINES", "lines of output to capture (default 10000)"},
    {"container", true, false, "NAME", "container (default: the first)"},
};

constexpr OptionSpec wait_options[] = {
    {"timeout", true, false, "SECONDS", "overall deadline (default 600)"},
    {"tail", true, false, "LINES", "lines of output to capture (default 10000)"},
    {"keep", false, false, "", "keep the session after it completed (default: kill it)"},
    {"container", true, false, "NAME", "container (default: the first)"},
};

json::value poll_json(const TmuxPollResult& result) {
    return json::object{
        {"session_id", result.session_id},
        {"status", to_string(result.status)},
        {"exit_code", optional_int(result.exit_code)},
        {"output", result.output},
        {"output_truncated", result.output_truncated},
        {"request_id", result.request_id},
    };
}

/// `--tail` into `tail_lines`; false after a usage error.
bool tail_option(Invocation& invocation, int& tail_lines) {
    auto text = invocation.args.value("tail");
    if (!text)
        return true;
    auto lines = parse_integer("--tail", *text, 1, 1000000);
    if (!lines) {
        usage_error(invocation, lines.error().message);
        return false;
    }
    tail_lines = static_cast<int>(*lines);
    return true;
}

/// Prints a poll's output (and with a trailing newline when it lacks one).
void print_output(const std::string& output) {
    if (output.empty())
        return;
    write_fd(STDOUT_FILENO, output);
    if (output.back() != '\n')
        write_fd(STDOUT_FILENO, "\n");
}

int run_start(Invocation& invocation) {
    if (!invocation.expect_positionals({"ID", "COMMAND"}))
        return exit_code::usage;
    TmuxStartOptions options;
    options.session_id = invocation.args.value("session").value_or("");
    options.exec_dir = invocation.args.value("workdir").value_or("");
    options.container_name = invocation.args.value("container").value_or("");
    if (auto text = invocation.args.value("history-limit")) {
        auto limit = parse_integer("--history-limit", *text, 1, 10000000);
        if (!limit)
            return usage_error(invocation, limit.error().message);
        options.history_limit = static_cast<int>(*limit);
    }
    auto* client = invocation.client();
    if (client == nullptr)
        return exit_code::error;
    auto session = client->tmux_start(invocation.args.positionals[0],
                                      invocation.args.positionals[1], std::move(options));
    if (!session)
        return report_error(session.error());
    if (invocation.json)
        print_json(json::object{{"session_id", *session}});
    else
        print_line(*session);
    return exit_code::ok;
}

int run_poll(Invocation& invocation) {
    if (!invocation.expect_positionals({"ID", "SESSION"}))
        return exit_code::usage;
    TmuxPollOptions options;
    options.container_name = invocation.args.value("container").value_or("");
    if (!tail_option(invocation, options.tail_lines))
        return exit_code::usage;
    auto* client = invocation.client();
    if (client == nullptr)
        return exit_code::error;
    auto poll = client->tmux_poll(invocation.args.positionals[0], invocation.args.positionals[1],
                                  std::move(options));
    if (!poll)
        return report_error(poll.error());
    if (invocation.json) {
        print_json(poll_json(*poll));
        return exit_code::ok;
    }
    print_output(poll->output);
    if (poll->exit_code)
        fmt::print(stderr, "{}: {} (exit code {})\n", terminal_safe(poll->session_id),
                   to_string(poll->status), *poll->exit_code);
    else
        fmt::print(stderr, "{}: {}\n", terminal_safe(poll->session_id), to_string(poll->status));
    return exit_code::ok;
}

int run_wait(Invocation& invocation) {
    if (!invocation.expect_positionals({"ID", "SESSION"}))
        return exit_code::usage;
    TmuxWaitOptions options;
    options.container_name = invocation.args.value("container").value_or("");
    options.cleanup = !invocation.args.has("keep");
    auto timeout = seconds_option(invocation, "timeout", options.timeout);
    if (!timeout)
        return exit_code::usage;
    options.timeout = *timeout;
    if (!tail_option(invocation, options.tail_lines))
        return exit_code::usage;
    auto* client = invocation.client();
    if (client == nullptr)
        return exit_code::error;
    const auto& session_id = invocation.args.positionals[1];
    Result<TmuxPollResult> waited = [&] {
        Progress progress(fmt::format("waiting for tmux session {}", session_id));
        return client->tmux_wait(invocation.args.positionals[0], session_id, std::move(options));
    }();
    if (!waited) {
        if (!invocation.json && waited.error().partial)
            print_output(waited.error().partial->stdout_text);
        return report_error(waited.error());
    }
    if (invocation.json)
        print_json(poll_json(*waited));
    else
        print_output(waited->output);
    if (waited->status == TmuxStatus::not_found) {
        fmt::print(stderr, "eci-sandbox: error: no tmux session {}\n", terminal_safe(session_id));
        return exit_code::error;
    }
    if (!waited->exit_code) {
        fmt::print(stderr, "eci-sandbox: error: the job ended but its exit code is unknown\n");
        return exit_code::error;
    }
    return *waited->exit_code;
}

int run_kill(Invocation& invocation) {
    if (!invocation.expect_positionals({"ID", "SESSION"}))
        return exit_code::usage;
    auto* client = invocation.client();
    if (client == nullptr)
        return exit_code::error;
    const auto& session_id = invocation.args.positionals[1];
    auto killed = client->tmux_kill(invocation.args.positionals[0], session_id);
    if (!killed)
        return report_error(killed.error());
    if (invocation.json)
        print_json(json::object{{"session_id", session_id}, {"killed", *killed}});
    else
        print_line(fmt::format("{} {}", *killed ? "killed" : "no session", session_id));
    return exit_code::ok;
}

int run_list(Invocation& invocation) {
    if (!invocation.expect_positionals({"ID"}))
        return exit_code::usage;
    auto* client = invocation.client();
    if (client == nullptr)
        return exit_code::error;
    auto sessions = client->tmux_list(invocation.args.positionals[0]);
    if (!sessions)
        return report_error(sessions.error());
    if (invocation.json) {
        json::array array;
        for (const auto& session : *sessions)
            array.push_back(json::object{{"session_id", session.session_id},
                                         {"created", session.created},
                                         {"attached", session.attached}});
        print_json(array);
        return exit_code::ok;
    }
    for (const auto& session : *sessions)
        print_line(fmt::format("{:<32} created {} attached {}", session.session_id, session.created,
                               session.attached));
    return exit_code::ok;
}

const Command commands[] = {
    {"tmux start", "ID 'COMMAND' [options]", "start a job in a new tmux session, print its id",
     start_options, "", run_start},
    {"tmux poll", "ID SESSION [--tail N]", "print a job's output; its status goes to stderr",
     poll_options,
     "Exits 0 whatever the job's state; with --json prints {session_id, status, exit_code,\n"
     "output, output_truncated, request_id} (status: running, completed or not_found).\n",
     run_poll},
    {"tmux wait", "ID SESSION [options]", "wait for a job, print its output, exit with its code",
     wait_options,
     "Polls with back-off until the job completes, then kills its session (unless --keep).\n"
     "Exits with the job's exit code; 124 when --timeout passes first.\n",
     run_wait},
    {"tmux kill", "ID SESSION", "kill a tmux session", {}, "", run_kill},
    {"tmux list", "ID", "list the tmux sessions of a sandbox", {}, "", run_list},
};

}  // namespace

std::span<const Command> tmux_commands() {
    return commands;
}

}  // namespace eci::cli
