// SPDX-License-Identifier: Apache-2.0
// A client in the middle of a fan-out, to be SIGKILLed: the reap CLI test kills it and checks
// that `eci-sandbox reap --orphans` cleans up everything it left in the emulator.
//
// Usage: eci-fanout-crash-child PORT CA_FILE KEY_ID KEY_SECRET REGION OWNER COUNT
// Starts COUNT lifecycles at once on one io_context, all with the default lease (`never`):
// create and wait until Running, start a background process, print "started ID", then run a
// command every few milliseconds until killed. Never deletes anything. Exits 2 on a usage or
// client error; a failed lifecycle prints "failed ..." on stderr and the others go on.
#include "emulator_client_args.hpp"

#include <eci/async_sandbox.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace asio = boost::asio;

namespace {

asio::awaitable<void> lifecycle(eci::AsyncEciSandbox client) {
    eci::CreateOptions options;
    options.image = "registry.example/ubuntu:22.04";
    options.wait_until_running = true;
    options.wait_timeout = std::chrono::seconds(120);
    auto created = co_await client.create(options);
    if (!created) {
        std::fprintf(stderr, "failed create: %s\n", created.error().to_string().c_str());
        co_return;
    }
    // A process that outlives this client: the reap must end it with its sandbox.
    auto started = co_await created->bash("nohup sleep 600 >/dev/null 2>&1 &");
    if (!started) {
        std::fprintf(stderr, "failed start: %s\n", started.error().to_string().c_str());
        co_return;
    }
    std::printf("started %s\n", created->id().c_str());
    std::fflush(stdout);
    asio::steady_timer pause(co_await asio::this_coro::executor);
    for (;;) {
        (void)co_await created->bash("echo working");
        pause.expires_after(std::chrono::milliseconds(50));
        co_await pause.async_wait(asio::use_awaitable);
    }
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 8) {
        std::fprintf(stderr, "usage: %s PORT CA KEY_ID SECRET REGION OWNER COUNT\n", argv[0]);
        return 2;
    }
    auto config = emulator_client_config(argv);
    config.rate_limit.enabled = false;
    const int count = std::atoi(argv[7]);

    asio::io_context io;
    auto client = eci::AsyncEciSandbox::from_config(io.get_executor(), config);
    if (!client) {
        std::fprintf(stderr, "client: %s\n", client.error().to_string().c_str());
        return 2;
    }
    for (int i = 0; i < count; ++i)
        asio::co_spawn(io, lifecycle(*client), asio::detached);
    io.run();
    return 0;
}
