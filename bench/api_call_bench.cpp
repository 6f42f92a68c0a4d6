// SPDX-License-Identifier: Apache-2.0
// eci-bench-api: client CPU per signed DescribeContainerGroups call, over a warm keep-alive TLS
// connection and with a fresh TLS connection per call, against eci-emulator in its own process
// (so getrusage of this process is the client's cost alone).
//
//   eci-bench-api [--emulator PATH | --emulator-ready FILE] [--calls N] [--rounds N]
//                 [--fresh-calls N] [--json]
//
// --rounds N measures the warm calls N times (N windows of --calls calls each) and reports the
// median window: on a shared virtual machine one window can be several microseconds off when
// a neighbour is busy, and the median of a few is what a second run reproduces.
#include <eci/openapi_client.hpp>

#include "emulator_process.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace asio = boost::asio;
using namespace std::chrono;

namespace {

// User and kernel CPU seconds of this process so far.
struct CpuTimes {
    double user = 0;
    double system = 0;
};

CpuTimes cpu_times() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
    return {seconds(usage.ru_utime), seconds(usage.ru_stime)};
}

struct Measurement {
    int calls = 0;
    int failures = 0;
    double cpu_us_per_call = 0;
    double user_us_per_call = 0;    // of which in user space
    double system_us_per_call = 0;  // and in the kernel (syscalls, loopback TCP)
    double wall_us_per_call = 0;
    std::uint64_t tls_handshakes = 0;
};

// Runs `calls` sequential DescribeContainerGroups by id on `client`, after one warm-up call.
Measurement measure(asio::io_context& io, eci::OpenApiClient client, std::string sandbox_id,
                    int calls) {
    Measurement result;
    result.calls = calls;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            eci::DescribeContainerGroupsRequest request;
            request.container_group_ids = {sandbox_id};
            (void)co_await client.describe_container_groups(request);  // warm-up
            const auto handshakes_before = client.stats().tls_handshakes;
            const CpuTimes cpu_before = cpu_times();
            const auto wall_before = steady_clock::now();
            for (int i = 0; i < calls; ++i) {
                auto reply = co_await client.describe_container_groups(request);
                if (!reply.ok() || reply->container_groups.size() != 1)
                    ++result.failures;
            }
            const CpuTimes cpu_after = cpu_times();
            const double user = cpu_after.user - cpu_before.user;
            const double system = cpu_after.system - cpu_before.system;
            const double cpu = user + system;
            const double wall = duration<double>(steady_clock::now() - wall_before).count();
            const double per_call = calls > 0 ? 1e6 / calls : 0;  // --fresh-calls 0: no NaN
            result.cpu_us_per_call = cpu * per_call;
            result.user_us_per_call = user * per_call;
            result.system_us_per_call = system * per_call;
            result.wall_us_per_call = wall * per_call;
            result.tls_handshakes = client.stats().tls_handshakes - handshakes_before;
            // Ends the phase here, whatever else may still be queued (a TLS close_notify).
            io.stop();
        },
        asio::detached);
    io.restart();
    io.run();
    return result;
}

}  // namespace

int main(int argc, char** argv) {
    std::string emulator_binary = ECI_EMULATOR_PATH;
    std::string ready_file;
    int calls = 2000;
    int fresh_calls = 200;
    int rounds = 1;
    bool json = false;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : std::string(); };
        if (arg == "--emulator")
            emulator_binary = next();
        else if (arg == "--emulator-ready")
            ready_file = next();
        else if (arg == "--calls")
            calls = std::stoi(next());
        else if (arg == "--rounds")
            rounds = std::max(1, std::stoi(next()));
        else if (arg == "--fresh-calls")
            fresh_calls = std::stoi(next());
        else if (arg == "--json")
            json = true;
        else {
            fmt::print(stderr,
                       "usage: eci-bench-api [--emulator PATH | --emulator-ready FILE] "
                       "[--calls N] [--rounds N] [--fresh-calls N] [--json]\n");
            return arg == "--help" ? 0 : 2;
        }
    }

    std::optional<eci::bench::EmulatorProcess> emulator;
    eci::bench::EmulatorEndpoint endpoint;
    if (!ready_file.empty()) {
        auto parsed = eci::bench::read_ready_file(ready_file);
        if (!parsed.ok())
            return fmt::print(stderr, "{}\n", parsed.error()), 1;
        endpoint = std::move(parsed).value();
    } else {
        auto started = eci::bench::EmulatorProcess::start(
            emulator_binary, {"--listen", "127.0.0.1:0", "--start-delay-ms", "0"});
        if (!started.ok())
            return fmt::print(stderr, "{}\n", started.error()), 1;
        emulator.emplace(std::move(started).value());
        endpoint = emulator->endpoint();
    }

    asio::io_context io;
    auto config = endpoint.client_config();  // the rate limiter off: measure the call, not pacing
    auto warm_client = eci::OpenApiClient::create(io.get_executor(), config);
    if (!warm_client.ok())
        return fmt::print(stderr, "{}\n", warm_client.error()), 1;

    // One sandbox to describe, so each reply carries a realistic ContainerGroup.
    std::string sandbox_id;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            eci::CreateContainerGroupRequest request;
            request.container_group_name = "bench-api";
            eci::ContainerSpec container;
            container.name = "sandbox";
            container.image = "ubuntu:22.04";
            request.containers.push_back(container);
            request.tags.push_back({"bench", "api"});
            auto created = co_await warm_client->create_container_group(request);
            if (created.ok())
                sandbox_id = created->container_group_id;
            else
                fmt::print(stderr, "create failed: {}\n", created.error());
            io.stop();
        },
        asio::detached);
    io.run();
    if (sandbox_id.empty())
        return 1;

    std::vector<Measurement> windows;
    for (int round = 0; round < rounds; ++round)
        windows.push_back(measure(io, *warm_client, sandbox_id, calls));
    std::vector<double> window_cpu;
    int warm_failures = 0;
    for (const auto& window : windows) {
        window_cpu.push_back(window.cpu_us_per_call);
        warm_failures += window.failures;
    }
    std::sort(windows.begin(), windows.end(), [](const Measurement& a, const Measurement& b) {
        return a.cpu_us_per_call < b.cpu_us_per_call;
    });
    Measurement warm = windows[windows.size() / 2];  // the median window
    warm.failures = warm_failures;
    config.pool.idle_timeout = std::chrono::milliseconds(0);  // never reuse: a handshake per call
    auto fresh_client = eci::OpenApiClient::create(io.get_executor(), config);
    if (!fresh_client.ok())
        return fmt::print(stderr, "{}\n", fresh_client.error()), 1;
    const Measurement fresh = measure(io, *fresh_client, sandbox_id, fresh_calls);

    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            eci::DeleteContainerGroupRequest request;
            request.container_group_id = sandbox_id;
            (void)co_await warm_client->delete_container_group(request);
            io.stop();
        },
        asio::detached);
    io.restart();
    io.run();

    if (json) {
        fmt::print(
            "{{\"warm\":{{\"calls\":{},\"failures\":{},\"client_cpu_us_per_call\":{:.2f},"
            "\"user_us_per_call\":{:.2f},\"system_us_per_call\":{:.2f},"
            "\"wall_us_per_call\":{:.2f},\"tls_handshakes\":{},\"rounds_cpu_us_per_call\":[{:.2f}]}"
            "},"
            "\"fresh\":{{\"calls\":{},\"failures\":{},\"client_cpu_us_per_call\":{:.2f},"
            "\"user_us_per_call\":{:.2f},\"system_us_per_call\":{:.2f},"
            "\"wall_us_per_call\":{:.2f},\"tls_handshakes\":{}}}}}\n",
            warm.calls, warm.failures, warm.cpu_us_per_call, warm.user_us_per_call,
            warm.system_us_per_call, warm.wall_us_per_call, warm.tls_handshakes,
            fmt::join(window_cpu, ","), fresh.calls, fresh.failures, fresh.cpu_us_per_call,
            fresh.user_us_per_call, fresh.system_us_per_call, fresh.wall_us_per_call,
            fresh.tls_handshakes);
    } else {
        fmt::print("signed DescribeContainerGroups, client CPU per call (this process only):\n");
        fmt::print(
            "  warm keep-alive TLS : {:8.2f} us CPU ({:.2f} user + {:.2f} kernel), {:8.2f} us "
            "wall, "
            "{} calls, {} handshakes, {} failures\n",
            warm.cpu_us_per_call, warm.user_us_per_call, warm.system_us_per_call,
            warm.wall_us_per_call, warm.calls, warm.tls_handshakes, warm.failures);
        if (rounds > 1)
            fmt::print("  warm windows (median above): {:.2f} us\n", fmt::join(window_cpu, ", "));
        fmt::print(
            "  fresh TLS each call : {:8.2f} us CPU ({:.2f} user + {:.2f} kernel), {:8.2f} us "
            "wall, "
            "{} calls, {} handshakes, {} failures\n",
            fresh.cpu_us_per_call, fresh.user_us_per_call, fresh.system_us_per_call,
            fresh.wall_us_per_call, fresh.calls, fresh.tls_handshakes, fresh.failures);
    }
    return warm.failures + fresh.failures == 0 ? 0 : 1;
}
