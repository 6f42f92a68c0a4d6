// SPDX-License-Identifier: Apache-2.0
#include "emulator/run.hpp"

#include "emulator/emulator.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/core.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>

namespace eci::emulator {

namespace asio = boost::asio;

namespace {

// Reads a secret from the environment, then removes it: the value is overwritten where the
// kernel shows it (/proc/PID/environ is the original environment block) and unset, so
// nothing this process starts inherits it.
std::optional<std::string> take_secret_from_environment(std::string_view name) {
    const std::string key(name);
    char* value = std::getenv(key.c_str());
    if (value == nullptr)
        return std::nullopt;
    std::string secret(value);
    std::memset(value, 'x', secret.size());
    ::unsetenv(key.c_str());
    if (secret.empty())
        return std::nullopt;
    return secret;
}

}  // namespace

int run_emulator_main(const std::vector<std::string_view>& args, std::string_view program_name) {
    auto command_line = parse_command_line(args, take_secret_from_environment);
    if (!command_line) {
        fmt::print(stderr, "{}: {}\n", program_name, command_line.error().message);
        return 2;
    }
    if (command_line->help) {
        fmt::print("{}", usage_text());
        return 0;
    }

    asio::io_context io;
    // Installed first, so a signal that arrives while starting is not lost (a shell's
    // background job inherits SIGINT ignored until a handler is installed).
    asio::signal_set signals(io, SIGINT, SIGTERM);
    auto emulator = Emulator::start(io.get_executor(), command_line->options);
    if (!emulator) {
        fmt::print(stderr, "{}: {}\n", program_name, emulator.error().message);
        return 1;
    }
    // Exactly one line on stdout, flushed, so a parent can read it and connect.
    fmt::print("{}\n", (*emulator)->ready().to_json_line());
    std::fflush(stdout);

    signals.async_wait([&](boost::system::error_code ec, int) {
        if (ec)
            return;
        asio::co_spawn(
            io,
            [&]() -> asio::awaitable<void> {
                co_await (*emulator)->stop();
                io.stop();
            },
            asio::detached);
    });
    io.run();
    emulator->reset();
    return 0;
}

}  // namespace eci::emulator
