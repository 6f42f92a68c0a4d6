// SPDX-License-Identifier: Apache-2.0
// fan_out: many sandboxes from one io_context. Creates 50 sandboxes concurrently (each waits
// until Running), runs a command in each, deletes every one, and prints counters: created,
// commands that succeeded, deleted, failures, and the API calls spent. One thread does it all;
// every operation is a coroutine. ECI_EXAMPLE_FANOUT sets the number (default 50).
//
// Configured from the environment (see quick_start_sync.cpp); ECI_EXAMPLE_IMAGE picks the
// image (default ubuntu:22.04). On the real service mind the account's quotas (vCPU, number
// of instances) and the API rate limits: the client retries throttled calls with backoff.
#include <eci/sandbox.hpp>

#include <fmt/format.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstdlib>
#include <exception>
#include <string>

namespace asio = boost::asio;

namespace {

struct Counters {
    int created = 0;
    int succeeded = 0;
    int deleted = 0;
    int failed = 0;
};

// One sandbox's whole life: create, run, delete. Counts what happened.
asio::awaitable<void> one_sandbox(eci::AsyncEciSandbox client, std::string image, int index,
                                  Counters& counters) {
    eci::CreateOptions options;
    options.image = std::move(image);
    options.name = fmt::format("fan-out-{}", index);
    options.cpu = 0.25;
    options.memory = 0.5;
    options.wait_until_running = true;
    auto created = co_await client.create(options);
    if (!created) {
        ++counters.failed;
        fmt::print(stderr, "#{} create: {}\n", index, created.error());
        co_return;
    }
    ++counters.created;
    std::string command = fmt::format("echo sandbox {} says $((6 * 7))", index);
    auto ran = co_await created->bash(std::move(command));
    if (ran && ran->success() && ran->stdout_text == fmt::format("sandbox {} says 42\n", index)) {
        ++counters.succeeded;
    } else {
        ++counters.failed;
        fmt::print(stderr, "#{} bash: {}\n", index,
                   ran ? "unexpected output " + ran->stdout_text : ran.error().to_string());
    }
    auto removed = co_await created->remove();
    if (removed) {
        ++counters.deleted;
    } else {
        ++counters.failed;
        fmt::print(stderr, "#{} delete: {}\n", index, removed.error());
    }
}

}  // namespace

int main() {
    const char* count_text = std::getenv("ECI_EXAMPLE_FANOUT");
    const int count = count_text ? std::atoi(count_text) : 50;
    const char* image = std::getenv("ECI_EXAMPLE_IMAGE");

    asio::io_context io;
    auto client = eci::AsyncEciSandbox::from_config(io.get_executor());
    if (!client) {
        fmt::print(stderr, "configuration: {}\n", client.error());
        return 1;
    }
    Counters counters;
    const auto begun = std::chrono::steady_clock::now();
    for (int i = 0; i < count; ++i) {
        // Not `asio::detached`, which would drop an exception thrown inside: rethrown, it
        // leaves io.run() and ends the program with its message.
        asio::co_spawn(io, one_sandbox(*client, image ? image : "ubuntu:22.04", i, counters),
                       [](std::exception_ptr error) {
                           if (error)
                               std::rethrow_exception(error);
                       });
    }
    io.run();  // returns when every coroutine has finished
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - begun);

    const auto stats = client->api().stats();
    fmt::print(
        "sandboxes: {} requested, {} created, {} commands succeeded, {} deleted, "
        "{} failures\n",
        count, counters.created, counters.succeeded, counters.deleted, counters.failed);
    fmt::print("took {} ms on one thread; {} API calls ({} retries)\n", took.count(),
               stats.total_api_calls(), stats.retries);
    return counters.failed == 0 && counters.succeeded == count && counters.deleted == count ? 0 : 1;
}
