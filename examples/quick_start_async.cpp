// SPDX-License-Identifier: Apache-2.0
// quick_start_async: the asynchronous client (eci::AsyncEciSandbox) with C++20 coroutines on
// one io_context. Creates a sandbox and waits until it is Running, streams a command's output
// as it arrives (ExecOptions::on_output), runs bash_ws (an interactive shell fed on stdin) and
// two commands at once, then deletes the sandbox.
//
// Configured from the environment (see quick_start_sync.cpp and docs/configuration.md);
// ECI_EXAMPLE_IMAGE picks the image (default ubuntu:22.04).
#include <eci/sandbox.hpp>

#include <fmt/format.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;

namespace {

asio::awaitable<int> steps(eci::AsyncSandbox& sandbox) {
    // Streaming: each chunk is printed when it arrives, not when the command ends.
    eci::ExecOptions streaming;
    streaming.timeout = std::chrono::seconds(60);
    streaming.on_output = [](eci::OutputStream stream, std::string_view chunk) {
        fmt::print("  [{}] {}", eci::to_string(stream), chunk);
    };
    auto counted =
        co_await sandbox.bash("for i in 1 2 3; do echo count $i; sleep 0.2; done", streaming);
    if (!counted || !counted->success()) {
        fmt::print(stderr, "bash: {}\n", counted ? "non-zero exit" : counted.error().to_string());
        co_return 1;
    }

    auto interactive = co_await sandbox.bash_ws("cd /tmp && pwd && echo \"shell $0\"");
    if (!interactive || !interactive->success()) {
        fmt::print(stderr, "bash_ws: {}\n",
                   interactive ? "non-zero exit" : interactive.error().to_string());
        co_return 1;
    }
    fmt::print("bash_ws: {}", interactive->stdout_text);

    // Two commands in flight at once on the same sandbox and io_context.
    // (Named arguments, not temporaries, inside co_await: see docs/python-mapping.md.)
    std::string first = "sleep 0.3; echo first";
    std::string second = "sleep 0.3; echo second";
    auto [a, b] = co_await (sandbox.bash(std::move(first)) && sandbox.bash(std::move(second)));
    if (!a || !b) {
        fmt::print(stderr, "parallel bash failed\n");
        co_return 1;
    }
    fmt::print("together: {}{}", a->stdout_text, b->stdout_text);
    co_return 0;
}

asio::awaitable<int> quick_start(eci::AsyncEciSandbox client) {
    eci::CreateOptions options;
    const char* image = std::getenv("ECI_EXAMPLE_IMAGE");
    options.image = image ? image : "ubuntu:22.04";
    options.name = "quick-start-async";
    options.wait_until_running = true;
    auto created = co_await client.create(options);
    if (!created) {
        fmt::print(stderr, "create: {}\n", created.error());
        co_return 1;
    }
    fmt::print("sandbox {} is Running\n", created->id());
    const int code = co_await steps(*created);
    auto removed = co_await created->remove();  // deleted whatever the steps did
    if (!removed) {
        fmt::print(stderr, "delete: {}\n", removed.error());
        co_return 1;
    }
    fmt::print("deleted\n");
    co_return code;
}

}  // namespace

int main() {
    asio::io_context io;
    auto client = eci::AsyncEciSandbox::from_config(io.get_executor());
    if (!client) {
        fmt::print(stderr, "configuration: {}\n", client.error());
        return 1;
    }
    int exit_code = 1;
    // Never `asio::detached`: it drops an exception the coroutine throws. This handler
    // rethrows it, so it leaves io.run() and ends the program with its message.
    asio::co_spawn(io, quick_start(*client), [&](std::exception_ptr error, int code) {
        if (error)
            std::rethrow_exception(error);
        exit_code = code;
    });
    io.run();
    return exit_code;
}
