// SPDX-License-Identifier: Apache-2.0
// eci-bench-pool: how long `co_await pool.acquire()` takes when the pool has idle sandboxes
// (AsyncSandboxPool, docs/pool.md), against eci-emulator in its own process. The pool keeps
// `--min-idle` sandboxes Running; once they are, the bench acquires `--acquires` times, one
// after another, returning each handle before the next (with the default reuse policy that
// handle goes back to the idle set; `--on-return replace` deletes and replaces it instead).
// Each acquire includes the pool's health check (one DescribeContainerGroups) unless
// `--no-health-check`. At the end the pool shuts down and the bench lists the emulator's
// sandboxes: those of this run (names `pool-<pid>-*`) still there are `leaked`.
// `--steady-seconds S` measures instead the rate the pool sustains: for S seconds it acquires
// as fast as handles come and returns each at once, so with `--on-return replace` every
// acquire consumes a sandbox and the rate is what refills at the emulator's start delays
// allow (`steady_acquires_per_min`; start the emulator with `--profile realistic`).
//
//   eci-bench-pool [--emulator PATH | --emulator-ready FILE] [--min-idle N] [--acquires N]
//                  [--on-return reuse|replace] [--no-health-check] [--rate-limit]
//                  [--steady-seconds S] [--json]
#include <eci/sandbox.hpp>

#include "emulator_process.hpp"
#include "leak_count.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <fmt/format.h>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace asio = boost::asio;
using namespace std::chrono;

namespace {

struct Options {
    std::string emulator_binary = ECI_EMULATOR_PATH;
    std::string ready_file;
    int min_idle = 4;
    int acquires = 200;
    bool replace = false;  ///< --on-return replace
    bool health_check = true;
    bool rate_limit = false;
    bool json = false;
    int steady_seconds = 0;  ///< > 0: measure the sustained acquisition rate instead
};

struct Run {
    Run(Options run_options, eci::AsyncEciSandbox run_client)
        : options(std::move(run_options)), client(std::move(run_client)) {}

    Options options;
    eci::AsyncEciSandbox client;
    std::string prefix = fmt::format("pool-{}", ::getpid());
    std::vector<double> acquire_ms;
    int failed = 0;
    int leaked = -1;  ///< -1 = the final listing failed
    std::string first_failure;
    std::string ready_error;
    double fill_s = 0;        ///< from run() until min_idle were Running
    int steady_acquires = 0;  ///< acquires within --steady-seconds
    eci::PoolStats pool_stats;
    int shutdown_failures = 0;
};

double percentile(std::vector<double> values, double p) {
    if (values.empty())
        return 0;
    std::sort(values.begin(), values.end());
    // Nearest rank.
    const auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * values.size()));
    return values[std::min(values.size() - 1, rank == 0 ? 0 : rank - 1)];
}

asio::awaitable<void> bench(Run& run, asio::io_context& io) {
    eci::PoolOptions options;
    options.create.image = "registry.example/ubuntu:22.04";
    options.create.name = run.prefix;
    options.create.wait_timeout = seconds(60);
    options.min_idle = static_cast<std::size_t>(run.options.min_idle);
    options.max_size = static_cast<std::size_t>(run.options.min_idle) + 1;
    options.on_return =
        run.options.replace ? eci::ReturnPolicy::delete_and_replace : eci::ReturnPolicy::reuse;
    options.health_check = run.options.health_check;
    auto made = eci::AsyncSandboxPool::make(run.client, std::move(options));
    if (!made.ok()) {
        run.ready_error = made.error().to_string();
        io.stop();
        co_return;
    }
    auto pool = std::move(made).value();
    asio::steady_timer timer(co_await asio::this_coro::executor);

    const auto filling = steady_clock::now();
    pool.run();
    while (pool.stats().idle < static_cast<std::size_t>(run.options.min_idle)) {
        if (steady_clock::now() - filling > seconds(120)) {
            run.ready_error = "the pool did not reach min_idle within 120 s";
            break;
        }
        timer.expires_after(milliseconds(1));
        co_await timer.async_wait(asio::use_awaitable);
    }
    run.fill_s = duration<double>(steady_clock::now() - filling).count();

    const auto steady_until = steady_clock::now() + seconds(run.options.steady_seconds);
    while (run.ready_error.empty() && run.options.steady_seconds > 0 &&
           steady_clock::now() < steady_until) {
        // Each acquire waits as long as a refill may take: a start is 10-40 s under the profile.
        const auto begun = steady_clock::now();
        auto handle = co_await pool.acquire(seconds(120));
        if (!handle.ok()) {
            if (run.failed++ == 0)
                run.first_failure = handle.error().to_string();
            continue;
        }
        run.acquire_ms.push_back(duration<double, std::milli>(steady_clock::now() - begun).count());
        if (steady_clock::now() < steady_until)
            ++run.steady_acquires;
        handle->reset();
        co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
    }
    for (int i = 0;
         run.ready_error.empty() && run.options.steady_seconds == 0 && i < run.options.acquires;
         ++i) {
        // With `replace`, wait for the idle set to be full again: the bench measures acquires
        // that find an idle sandbox, not creates.
        while (pool.stats().idle < static_cast<std::size_t>(run.options.min_idle) &&
               pool.stats().creating > 0) {
            timer.expires_after(milliseconds(1));
            co_await timer.async_wait(asio::use_awaitable);
        }
        const auto begun = steady_clock::now();
        auto handle = co_await pool.acquire(milliseconds(10000));
        const double took = duration<double, std::milli>(steady_clock::now() - begun).count();
        if (!handle.ok()) {
            if (run.failed++ == 0)
                run.first_failure = handle.error().to_string();
            continue;
        }
        run.acquire_ms.push_back(took);
        handle->reset();
        // Let the posted return run before the next acquire.
        co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
    }
    run.pool_stats = pool.stats();
    auto report = co_await pool.shutdown();
    if (report.ok())
        run.shutdown_failures = static_cast<int>(report->failed.size());
    auto left = co_await eci::bench::count_leaked(run.client, run.prefix);
    run.leaked = left.leaked;
    io.stop();
}

int usage(int code) {
    fmt::print(code == 0 ? stdout : stderr,
               "usage: eci-bench-pool [--emulator PATH | --emulator-ready FILE] [--min-idle N] "
               "[--acquires N]\n"
               "                      [--on-return reuse|replace] [--no-health-check] "
               "[--rate-limit] [--steady-seconds S] [--json]\n");
    return code;
}

}  // namespace

int main(int argc, char** argv) {
    Options options;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : std::string(); };
        try {
            if (arg == "--emulator")
                options.emulator_binary = next();
            else if (arg == "--emulator-ready")
                options.ready_file = next();
            else if (arg == "--min-idle")
                options.min_idle = std::stoi(next());
            else if (arg == "--acquires")
                options.acquires = std::stoi(next());
            else if (arg == "--on-return") {
                const std::string policy = next();
                if (policy != "reuse" && policy != "replace")
                    return usage(2);
                options.replace = policy == "replace";
            } else if (arg == "--no-health-check")
                options.health_check = false;
            else if (arg == "--rate-limit")
                options.rate_limit = true;
            else if (arg == "--json")
                options.json = true;
            else if (arg == "--steady-seconds")
                options.steady_seconds = std::stoi(next());
            else
                return usage(arg == "--help" ? 0 : 2);
        } catch (const std::exception&) {
            fmt::print(stderr, "{}: expected a number\n", arg);
            return 2;
        }
    }
    if (options.min_idle < 1 || options.acquires < 1 || options.steady_seconds < 0)
        return usage(2);

    std::optional<eci::bench::EmulatorProcess> emulator;
    std::vector<std::string> args{"--listen", "127.0.0.1:0", "--start-delay-ms", "20"};
    auto found = eci::bench::ready_or_start(options.ready_file, options.emulator_binary,
                                            std::move(args), emulator);
    if (!found.ok())
        return fmt::print(stderr, "{}\n", found.error()), 1;
    const eci::bench::EmulatorEndpoint endpoint = std::move(found).value();

    asio::io_context io(1);
    auto config = endpoint.client_config();
    config.rate_limit.enabled = options.rate_limit;
    auto client = eci::AsyncEciSandbox::from_config(io.get_executor(), config);
    if (!client.ok())
        return fmt::print(stderr, "{}\n", client.error()), 1;

    Run run(options, *client);
    asio::co_spawn(io, bench(run, io), asio::detached);
    io.run();
    if (!run.ready_error.empty()) {
        fmt::print(stderr, "{}\n", run.ready_error);
        run.failed += options.acquires - static_cast<int>(run.acquire_ms.size()) - run.failed;
    }

    const auto stats = run.client.api().stats();
    boost::json::object out;
    out["client"] = "eci-sandbox (C++)";
    out["min_idle"] = options.min_idle;
    out["on_return"] = options.replace ? "delete_and_replace" : "reuse";
    out["health_check"] = options.health_check;
    out["rate_limit"] = options.rate_limit;
    out["acquires"] = static_cast<std::int64_t>(run.acquire_ms.size());
    out["failed"] = run.failed;
    out["leaked"] = run.leaked;
    out["acquire_p50_ms"] = percentile(run.acquire_ms, 50);
    out["acquire_p99_ms"] = percentile(run.acquire_ms, 99);
    out["acquire_max_ms"] = percentile(run.acquire_ms, 100);
    out["fill_s"] = run.fill_s;
    if (options.steady_seconds > 0) {
        out["steady_seconds"] = options.steady_seconds;
        out["steady_acquires"] = run.steady_acquires;
        out["steady_acquires_per_min"] = run.steady_acquires * 60.0 / options.steady_seconds;
    }
    out["created"] = run.pool_stats.created;
    out["replaced_unhealthy"] = run.pool_stats.replaced_unhealthy;
    out["shutdown_delete_failures"] = run.shutdown_failures;
    boost::json::object calls;
    calls["total"] = stats.total_api_calls();
    for (const auto& [action, count] : stats.api_calls)
        calls[action] = count;
    out["api_calls"] = std::move(calls);
    if (!run.first_failure.empty())
        out["first_failure"] = run.first_failure;

    if (options.json) {
        fmt::print("{}\n", boost::json::serialize(out));
    } else {
        fmt::print(
            "{} acquires with {} idle ({}): p50 {:.3f} ms, p99 {:.3f} ms, max {:.3f} ms; "
            "{} failed, {} leaked; pool filled in {:.2f} s\n",
            run.acquire_ms.size(), options.min_idle,
            options.health_check ? "health check on" : "health check off",
            out["acquire_p50_ms"].as_double(), out["acquire_p99_ms"].as_double(),
            out["acquire_max_ms"].as_double(), run.failed, run.leaked, run.fill_s);
        if (!run.first_failure.empty())
            fmt::print("  first failure: {}\n", run.first_failure);
    }
    return run.failed == 0 && run.leaked == 0 && run.shutdown_failures == 0 ? 0 : 1;
}
