// SPDX-License-Identifier: Apache-2.0
// shell: an interactive terminal in a sandbox. The local terminal in raw mode relays every
// byte to a TTY exec (eci::InteractiveExec), its size follows SIGWINCH, and the process exits
// with the remote shell's exit code, the terminal restored on every way out.
#include "cli/commands.hpp"
#include "cli/local_terminal.hpp"

#include <eci/async_sandbox.hpp>
#include <eci/interactive_exec.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>

#include <signal.h>
#include <unistd.h>

#include <array>
#include <csignal>
#include <exception>
#include <optional>
#include <variant>

namespace eci::cli {

namespace {

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;
constexpr auto as_tuple_awaitable = asio::as_tuple(asio::use_awaitable);

/// Without a command: bash when the image has it, else sh.
const std::vector<std::string> default_shell = {
    "/bin/sh", "-c", "command -v bash >/dev/null 2>&1 && exec bash || exec sh"};

constexpr OptionSpec shell_options[] = {
    {"container", true, false, "NAME", "container to run in (default: the first)"},
    {"tty", false, false, "", "allocate a remote TTY even when stdin is not a terminal"},
    {"no-tty", false, false, "", "no remote TTY even when stdin is a terminal"},
    {"raw-argv", false, false, "",
     "send the command bare, without the /bin/sh exit-status wrapper"},
};

/// How the relay ended, when it was not the remote side.
struct StoppedBySignal {
    int number = 0;
};

asio::awaitable<StoppedBySignal> wait_for_stop(asio::signal_set& stop) {
    // An error here is a cancellation: the race was already decided by another side.
    auto [ec, number] = co_await stop.async_wait(as_tuple_awaitable);
    (void)ec;
    co_return StoppedBySignal{number};
}

/// Remote output to the local stdout/stderr until the remote side ends.
asio::awaitable<Result<InteractiveExit>> relay_output(InteractiveExec stream) {
    for (;;) {
        auto event = co_await stream.read();
        if (!event)
            co_return std::move(event).error();
        if (auto* exit = std::get_if<InteractiveExit>(&*event))
            co_return std::move(*exit);
        const auto& output = std::get<InteractiveOutput>(*event);
        write_fd(output.stream == OutputStream::standard_error ? STDERR_FILENO : STDOUT_FILENO,
                 output.bytes);
    }
}

/// Parks until cancelled (a relay whose side has nothing more to do must not end the race).
asio::awaitable<void> park() {
    asio::steady_timer forever(co_await asio::this_coro::executor,
                               asio::steady_timer::time_point::max());
    co_await forever.async_wait(as_tuple_awaitable);
}

/// Local stdin to the remote stdin. At the end of a non-terminal stdin, one empty stdin frame
/// says so (without a remote TTY; the emulator then closes the command's stdin: docs/cli.md,
/// "shell") and the relay waits for the remote side to end. A terminal's stdin does not end
/// while it exists: EOF or an error there means it is gone, and the session is closed.
asio::awaitable<void> relay_input(InteractiveExec stream, asio::posix::stream_descriptor& input,
                                  bool local_terminal) {
    std::array<char, 4096> buffer{};
    for (;;) {
        auto [ec, n] = co_await input.async_read_some(asio::buffer(buffer), as_tuple_awaitable);
        if (ec) {
            if (local_terminal)
                (void)co_await stream.close();
            else
                (void)co_await stream.write_eof();
            co_await park();
            co_return;
        }
        auto written = co_await stream.write(std::string(buffer.data(), n));
        if (!written) {
            co_await park();  // the output relay reports why the connection ended
            co_return;
        }
    }
}

/// Every SIGWINCH: the local terminal's new size to the remote one.
asio::awaitable<void> relay_resizes(InteractiveExec stream, asio::signal_set& winch) {
    for (;;) {
        auto [ec, number] = co_await winch.async_wait(as_tuple_awaitable);
        (void)number;
        if (ec)
            co_return;
        if (auto size = LocalTerminal::size())
            (void)co_await stream.resize(*size);
    }
}

struct ShellPlan {
    std::string sandbox_id;
    std::vector<std::string> argv;
    InteractiveExecOptions options;
};

/// The whole session; returns the process exit code. Every message is printed after the
/// terminal was restored.
asio::awaitable<int> run_session(AsyncEciSandbox client, ShellPlan plan, LocalTerminal& terminal,
                                 asio::signal_set& stop) {
    auto executor = co_await asio::this_coro::executor;
    // SIGWINCH is watched from before the first size is taken: a resize in between is sent.
    asio::signal_set winch(executor, SIGWINCH);
    const bool remote_tty = plan.options.tty;
    if (remote_tty)
        plan.options.terminal_size = LocalTerminal::size();
    AsyncSandbox sandbox(client, plan.sandbox_id, "");
    auto opened =
        co_await (InteractiveExec::open(sandbox, std::move(plan.argv), std::move(plan.options)) ||
                  wait_for_stop(stop));
    if (opened.index() == 1) {
        fmt::print(stderr, "eci-sandbox: shell: interrupted by signal {} while connecting\n",
                   std::get<1>(opened).number);
        co_return 128 + std::get<1>(opened).number;
    }
    auto& started = std::get<0>(opened);
    if (!started)
        co_return report_error(started.error());
    InteractiveExec stream = std::move(started).value();

    asio::posix::stream_descriptor input(executor);
    const int input_fd = terminal.take_input();
    if (input_fd < 0) {
        fmt::print(stderr, "eci-sandbox: shell: cannot read stdin\n");
        co_return exit_code::error;
    }
    input.assign(input_fd);
    // Raw only for a remote terminal: without one (--no-tty) the local line discipline edits
    // and echoes the lines, as ssh -T leaves it.
    if (remote_tty && !terminal.enter_raw_mode()) {
        fmt::print(stderr, "eci-sandbox: shell: cannot put the terminal into raw mode\n");
        co_return exit_code::error;
    }

    auto ended =
        co_await (relay_output(stream) || relay_input(stream, input, terminal.is_terminal()) ||
                  relay_resizes(stream, winch) || wait_for_stop(stop));
    terminal.restore();
    if (ended.index() == 3) {
        // The relays were cancelled, which closed the connection: the service ends the shell.
        const int number = std::get<3>(ended).number;
        fmt::print(stderr, "\r\neci-sandbox: shell: ended by signal {}\n", number);
        co_return 128 + number;
    }
    if (ended.index() != 0) {
        fmt::print(stderr, "eci-sandbox: shell: the session ended unexpectedly\n");
        co_return exit_code::error;
    }
    auto& result = std::get<0>(ended);
    if (!result) {
        Error error = std::move(result).error();
        error.message = fmt::format("the shell's connection was lost: {}", error.message);
        co_return report_error(error);
    }
    if (result->exit_code && *result->exit_code >= 0 && *result->exit_code <= 255)
        co_return *result->exit_code;
    fmt::print(stderr,
               "eci-sandbox: error: the shell ended but its exit code is unknown (close code "
               "{})\n",
               result->close_code);
    co_return exit_code::error;
}

int run_shell(Invocation& invocation) {
    const auto& positionals = invocation.args.positionals;
    if (positionals.size() != 1)
        return usage_error(
            invocation, positionals.empty() ? "missing argument ID" : "put the command after '--'");
    if (invocation.args.has("tty") && invocation.args.has("no-tty"))
        return usage_error(invocation, "--tty and --no-tty exclude each other");
    if (invocation.json)
        return usage_error(invocation, "--json does not apply to an interactive shell");

    ShellPlan plan;
    plan.sandbox_id = positionals[0];
    plan.argv = invocation.args.rest.empty() ? default_shell : invocation.args.rest;
    plan.options.container_name = invocation.args.value("container").value_or("");
    plan.options.raw_argv = invocation.args.has("raw-argv");

    // Before anything can fail, so no signal ends the process with the terminal raw.
    std::signal(SIGPIPE, SIG_IGN);
    asio::io_context io;
    asio::signal_set stop(io, SIGINT, SIGTERM, SIGHUP);
    LocalTerminal terminal;
    plan.options.tty =
        invocation.args.has("tty") || (terminal.is_terminal() && !invocation.args.has("no-tty"));

    auto client =
        AsyncEciSandbox::from_config(io.get_executor(), config_overrides(invocation.args));
    if (!client)
        return report_error(client.error());
    int code = exit_code::error;
    asio::co_spawn(io, run_session(std::move(*client), std::move(plan), terminal, stop),
                   [&](std::exception_ptr failure, int result) {
                       terminal.restore();
                       code = result;
                       if (failure) {
                           code = exit_code::error;
                           try {
                               std::rethrow_exception(failure);
                           } catch (const std::exception& e) {
                               fmt::print(stderr, "eci-sandbox: shell: internal error: {}\n",
                                          e.what());
                           } catch (...) {
                               fmt::print(stderr, "eci-sandbox: shell: internal error\n");
                           }
                       }
                       io.stop();
                   });
    io.run();
    terminal.restore();
    return code;
}

const Command commands[] = {
    {"shell", "ID [options] [-- COMMAND...]", "open an interactive terminal in a sandbox",
     shell_options,
     "Runs COMMAND (default: bash if the image has it, else sh) on a remote TTY and relays\n"
     "the local terminal to it in raw mode: every key (Ctrl-C, Ctrl-D, Ctrl-Z included) goes\n"
     "to the remote terminal, and its size follows the local one. The process exits with the\n"
     "remote command's exit code; the terminal is restored on every way out (remote exit,\n"
     "lost connection: exit 1 with one line, SIGINT/SIGTERM/SIGHUP: exit 128+N).\n"
     "When stdin is not a terminal there is no raw mode and no remote TTY (unless --tty):\n"
     "stdin is relayed as it is, and its end is sent as an end-of-input frame.\n",
     run_shell},
};

}  // namespace

std::span<const Command> shell_commands() {
    return commands;
}

}  // namespace eci::cli
