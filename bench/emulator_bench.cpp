// SPDX-License-Identifier: Apache-2.0
// eci-bench-emulator: what one emulator core serves. Starts eci-emulator (pinned to CPU K
// with --core K, this process then running on the others), then measures
//   1. DescribeContainerGroups by id: calls/s over keep-alive TLS from `--connections`
//      concurrent callers, and the emulator's own CPU per call (from /proc/<pid>/stat), which
//      gives the calls/s one saturated core would serve even when the client is the bottleneck;
//   2. `--sandboxes N` idle sandboxes: time to create them all, the emulator's RSS with them
//      alive, the same describe figures with them present, and the time to delete them all.
//
//   eci-bench-emulator [--emulator PATH] [--sandboxes N] [--calls N] [--connections N]
//                      [--core K] [--json]
#include <eci/openapi_client.hpp>

#include "emulator_process.hpp"

#include <fmt/format.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace asio = boost::asio;
using namespace std::chrono;

namespace {

double own_cpu_seconds() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
    return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// utime + stime of `pid` (all its threads), from /proc/<pid>/stat.
double process_cpu_seconds(pid_t pid) {
    std::ifstream in(fmt::format("/proc/{}/stat", pid));
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
    const auto close = text.rfind(')');
    if (close == std::string::npos)
        return 0;
    std::istringstream fields(text.substr(close + 2));
    std::string field;
    double ticks = 0;
    for (int index = 3; fields >> field; ++index) {
        if (index == 14 || index == 15)
            ticks += std::stod(field);
        if (index == 15)
            break;
    }
    return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// VmRSS of `pid` in KiB, from /proc/<pid>/status.
long resident_kib(pid_t pid) {
    std::ifstream in(fmt::format("/proc/{}/status", pid));
    std::string line;
    while (std::getline(in, line)) {
        if (line.starts_with("VmRSS:"))
            return std::stol(line.substr(6));
    }
    return -1;
}

struct Throughput {
    int calls = 0;
    int failures = 0;
    double wall_seconds = 0;
    double calls_per_second = 0;
    double emulator_cpu_us_per_call = 0;
    double emulator_core_busy = 0;         // emulator CPU seconds / wall seconds (1 = saturated)
    double capacity_calls_per_second = 0;  // 1e6 / emulator_cpu_us_per_call
    double client_cpu_us_per_call = 0;
};

// Runs `body(i)` for i in [0, count) on `connections` concurrent coroutines. Returns when the
// last one is done, not when the io_context runs out of work (an earlier version waited out
// the client pool's idle timer, 30 s, and counted it as wall time).
template <class Body>
void run_concurrently(asio::io_context& io, int count, int connections, Body body) {
    int next = 0;
    int running = connections;
    for (int worker = 0; worker < connections; ++worker) {
        asio::co_spawn(
            io,
            [&]() -> asio::awaitable<void> {
                while (next < count) {
                    const int index = next++;
                    co_await body(index);
                }
                if (--running == 0)
                    io.stop();
            },
            asio::detached);
    }
    io.restart();
    io.run();
}

Throughput measure_describe(asio::io_context& io, eci::OpenApiClient& client, pid_t emulator,
                            const std::string& sandbox_id, int calls, int connections) {
    Throughput result;
    result.calls = calls;
    eci::DescribeContainerGroupsRequest request;
    request.container_group_ids = {sandbox_id};
    auto describe = [&](int) -> asio::awaitable<void> {
        auto copy = request;
        auto reply = co_await client.describe_container_groups(std::move(copy));
        if (!reply.ok() || reply->container_groups.size() != 1)
            ++result.failures;
    };
    run_concurrently(io, connections * 4, connections, describe);  // warm every connection
    result.failures = 0;

    const double emulator_before = process_cpu_seconds(emulator);
    const double client_before = own_cpu_seconds();
    const auto wall_before = steady_clock::now();
    run_concurrently(io, calls, connections, describe);
    result.wall_seconds = duration<double>(steady_clock::now() - wall_before).count();
    const double emulator_cpu = process_cpu_seconds(emulator) - emulator_before;
    const double client_cpu = own_cpu_seconds() - client_before;
    result.calls_per_second = calls / result.wall_seconds;
    result.emulator_cpu_us_per_call = emulator_cpu * 1e6 / calls;
    result.emulator_core_busy = emulator_cpu / result.wall_seconds;
    result.capacity_calls_per_second = emulator_cpu > 0 ? 1e6 / result.emulator_cpu_us_per_call : 0;
    result.client_cpu_us_per_call = client_cpu * 1e6 / calls;
    return result;
}

std::string throughput_json(const Throughput& t) {
    return fmt::format(
        "{{\"calls\":{},\"failures\":{},\"calls_per_second\":{:.0f},"
        "\"emulator_cpu_us_per_call\":{:.1f},\"emulator_core_busy\":{:.2f},"
        "\"capacity_calls_per_second\":{:.0f},\"client_cpu_us_per_call\":{:.1f}}}",
        t.calls, t.failures, t.calls_per_second, t.emulator_cpu_us_per_call, t.emulator_core_busy,
        t.capacity_calls_per_second, t.client_cpu_us_per_call);
}

void print_throughput(const char* label, const Throughput& t) {
    fmt::print(
        "  {}: {:8.0f} calls/s ({} calls, {} failures); emulator {:.1f} us CPU/call, core "
        "{:.0f}% busy -> {:.0f} calls/s when saturated; client {:.1f} us CPU/call\n",
        label, t.calls_per_second, t.calls, t.failures, t.emulator_cpu_us_per_call,
        t.emulator_core_busy * 100, t.capacity_calls_per_second, t.client_cpu_us_per_call);
}

}  // namespace

int main(int argc, char** argv) {
    std::string emulator_binary = ECI_EMULATOR_PATH;
    int sandboxes = 1000;
    int calls = 20000;
    int connections = 8;
    int core = -1;
    bool json = false;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : std::string(); };
        if (arg == "--emulator")
            emulator_binary = next();
        else if (arg == "--sandboxes")
            sandboxes = std::stoi(next());
        else if (arg == "--calls")
            calls = std::stoi(next());
        else if (arg == "--connections")
            connections = std::max(1, std::stoi(next()));
        else if (arg == "--core")
            core = std::stoi(next());
        else if (arg == "--json")
            json = true;
        else {
            fmt::print(stderr,
                       "usage: eci-bench-emulator [--emulator PATH] [--sandboxes N (1000)] "
                       "[--calls N (20000)] [--connections N (8)] [--core K] [--json]\n"
                       "Starts eci-emulator (pinned to CPU K when given; this process then "
                       "uses the other CPUs) and measures describe calls/s, the emulator's CPU "
                       "per call and N idle sandboxes.\n");
            return arg == "--help" ? 0 : 2;
        }
    }

    // The child inherits the affinity it is spawned with: pin, spawn, then move this process
    // to the remaining CPUs (when there are any) so client and emulator do not share a core.
    // Without --core nothing is pinned: the emulator's CPU per call (from /proc) still gives
    // what one saturated core serves.
    cpu_set_t original;
    CPU_ZERO(&original);
    sched_getaffinity(0, sizeof original, &original);
    if (core >= 0) {
        cpu_set_t emulator_cpus;
        CPU_ZERO(&emulator_cpus);
        CPU_SET(core, &emulator_cpus);
        if (sched_setaffinity(0, sizeof emulator_cpus, &emulator_cpus) != 0)
            return fmt::print(stderr, "cannot pin to CPU {}\n", core), 1;
    }
    auto started = eci::bench::EmulatorProcess::start(
        emulator_binary, {"--listen", "127.0.0.1:0", "--start-delay-ms", "0"});
    if (core >= 0) {
        cpu_set_t client_cpus = original;
        CPU_CLR(core, &client_cpus);
        sched_setaffinity(0, sizeof(cpu_set_t),
                          CPU_COUNT(&client_cpus) > 0 ? &client_cpus : &original);
    }
    if (!started.ok())
        return fmt::print(stderr, "{}\n", started.error()), 1;
    eci::bench::EmulatorProcess emulator = std::move(started).value();

    asio::io_context io;
    auto config = emulator.endpoint().client_config();
    config.pool.max_connections_per_endpoint = static_cast<std::size_t>(connections);
    config.timeouts.read = std::chrono::seconds(120);
    auto client = eci::OpenApiClient::create(io.get_executor(), config);
    if (!client.ok())
        return fmt::print(stderr, "{}\n", client.error()), 1;

    std::vector<std::string> ids(static_cast<std::size_t>(sandboxes) + 1);
    int create_failures = 0;
    auto create = [&](int index) -> asio::awaitable<void> {
        eci::CreateContainerGroupRequest request;
        request.container_group_name = fmt::format("bench-{}", index);
        eci::ContainerSpec container;
        container.name = "sandbox";
        container.image = "ubuntu:22.04";
        request.containers.push_back(container);
        auto created = co_await client->create_container_group(std::move(request));
        if (created.ok())
            ids[static_cast<std::size_t>(index)] = created->container_group_id;
        else if (++create_failures == 1)
            fmt::print(stderr, "create failed: {}\n", created.error());
    };
    run_concurrently(io, 1, 1, create);  // the sandbox the throughput phase describes
    if (ids[0].empty())
        return 1;
    const long rss_one = resident_kib(emulator.pid());
    const Throughput idle =
        measure_describe(io, *client, emulator.pid(), ids[0], calls, connections);

    auto create_from_one = [&](int index) { return create(index + 1); };
    const auto create_started = steady_clock::now();
    const double create_cpu_before = process_cpu_seconds(emulator.pid());
    run_concurrently(io, sandboxes, connections, create_from_one);
    const double create_seconds = duration<double>(steady_clock::now() - create_started).count();
    const double create_cpu = process_cpu_seconds(emulator.pid()) - create_cpu_before;
    const long rss_many = resident_kib(emulator.pid());
    const Throughput loaded =
        measure_describe(io, *client, emulator.pid(), ids[0], calls, connections);

    int delete_failures = 0;
    auto remove = [&](int index) -> asio::awaitable<void> {
        const std::string& id = ids[static_cast<std::size_t>(index)];
        if (id.empty())
            co_return;
        eci::DeleteContainerGroupRequest request;
        request.container_group_id = id;
        auto deleted = co_await client->delete_container_group(std::move(request));
        if (!deleted.ok() && ++delete_failures == 1)
            fmt::print(stderr, "delete failed: {}\n", deleted.error());
    };
    const auto delete_started = steady_clock::now();
    run_concurrently(io, sandboxes + 1, connections, remove);
    const double delete_seconds = duration<double>(steady_clock::now() - delete_started).count();
    const long rss_after = resident_kib(emulator.pid());

    if (json) {
        fmt::print(
            "{{\"core\":{},\"connections\":{},\"describe_one_sandbox\":{},"
            "\"describe_with_sandboxes\":{},\"sandboxes\":{},\"create_failures\":{},"
            "\"create_seconds\":{:.2f},\"create_ms_per_sandbox\":{:.2f},"
            "\"emulator_cpu_ms_per_create\":{:.2f},\"rss_kib_one_sandbox\":{},"
            "\"rss_kib_with_sandboxes\":{},\"rss_kib_per_sandbox\":{:.1f},"
            "\"delete_failures\":{},\"delete_seconds\":{:.2f},\"rss_kib_after_delete\":{}}}\n",
            core, connections, throughput_json(idle), throughput_json(loaded), sandboxes,
            create_failures, create_seconds, create_seconds * 1e3 / std::max(1, sandboxes),
            create_cpu * 1e3 / std::max(1, sandboxes), rss_one, rss_many,
            static_cast<double>(rss_many - rss_one) / std::max(1, sandboxes), delete_failures,
            delete_seconds, rss_after);
    } else {
        if (core >= 0)
            fmt::print("eci-emulator pinned to CPU {}, ", core);
        fmt::print("{} keep-alive TLS connections:\n", connections);
        print_throughput("describe, 1 sandbox     ", idle);
        print_throughput(fmt::format("describe, {:5} sandboxes", sandboxes + 1).c_str(), loaded);
        fmt::print(
            "  {} idle sandboxes: created in {:.2f} s ({:.2f} ms each, emulator {:.2f} ms CPU "
            "each, {} failures)\n",
            sandboxes, create_seconds, create_seconds * 1e3 / std::max(1, sandboxes),
            create_cpu * 1e3 / std::max(1, sandboxes), create_failures);
        fmt::print("  emulator RSS: {} KiB with 1 sandbox, {} KiB with {} ({:.1f} KiB each)\n",
                   rss_one, rss_many, sandboxes + 1,
                   static_cast<double>(rss_many - rss_one) / std::max(1, sandboxes));
        fmt::print("  deleted in {:.2f} s ({} failures); RSS after: {} KiB\n", delete_seconds,
                   delete_failures, rss_after);
    }
    const int status = emulator.stop();
    const bool ok = idle.failures + loaded.failures + create_failures + delete_failures == 0;
    return ok && status == 0 ? 0 : 1;
}
