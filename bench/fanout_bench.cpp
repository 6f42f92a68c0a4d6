// SPDX-License-Identifier: Apache-2.0
// eci-bench-fanout: N sandbox lifecycles at once in one io_context, against eci-emulator in its
// own process (so getrusage of this process is the client's cost alone). Each lifecycle:
// create and wait until Running, M bash commands (output checked), one tmux job waited to the
// end (exit code checked), delete. By default the commands, the tmux start, its polls and its
// kill all run on ONE ShellSession per sandbox (one exec WebSocket per lifecycle);
// `--no-session` runs each as its own exec (one ExecContainerCommand and WebSocket each).
// Every failure path deletes what the lifecycle created; at the end the bench lists its own
// sandboxes (names `fanout-<seed>-*`) and reports those still there as `leaked`.
// `--fault-*` flags (and `--throttle-status`) go to the emulator it starts. `--duration S`
// turns it into a soak: lifecycles start one after another on `--concurrency` workers until S
// seconds passed, and the client's RSS and open descriptors are sampled every 5 s.
// `--profile realistic` starts the emulator with the real service's start delays and per-minute
// limits (issue 16), turns the client's rate limiter on as a user gets it, and reports the
// floor those limits and delays impose (`floor_s`, in service time) and `floor_ratio`, the
// wall time in service time divided by it. `--time-scale K` runs the emulator's profile K times
// faster and the client's limiter K times faster with it; the client's own timers (poll and
// throttle backoffs) do not scale, so a figure to quote is taken at K = 1. `--runtime lazy`
// gives the emulator's sandboxes their processes at their first exec; `--no-tmux` leaves the
// tmux job out (10,000 x 1: create, one command, delete). `host_cpu_s` and `host_busy` say how
// busy the whole host was (the emulator and its sandboxes share it with this client).
//
//   eci-bench-fanout [--emulator PATH | --emulator-ready FILE] [--sandboxes N] [--commands M]
//                    [--concurrency C] [--seed S] [--start-delay-ms D] [--no-session]
//                    [--no-tmux] [--json]
//                    [--duration S] [--fault-throttle P] [--fault-unavailable P]
//                    [--fault-reset P] [--fault-ws-drop P]
//                    [--profile realistic] [--time-scale K] [--runtime MODE]
#include <eci/sandbox.hpp>
#include <eci/shell_session.hpp>

#include "emulator_process.hpp"
#include "leak_count.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <fmt/format.h>

#include <sys/resource.h>
#include <unistd.h>

#include <eci/config.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
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
    int sandboxes = 100;
    int commands = 5;
    int concurrency = 0;  ///< 0 = all lifecycles at once
    std::uint64_t seed = 1;
    /// --start-delay-ms: one number or a range "A-B", passed to the emulator as it is.
    std::string start_delay_ms = "20";
    bool start_delay_given = false;
    std::string profile;      ///< --profile: passed to the emulator; "realistic" adds the floor
    double time_scale = 1;    ///< --time-scale: passed to the emulator, scales the limiter
    std::string runtime;      ///< --runtime: passed to the emulator
    bool use_session = true;  ///< false: --no-session, one exec per command and poll
    bool tmux_job = true;     ///< false: --no-tmux, the lifecycle runs no tmux job
    /// --rate-limit: pace at the real service's documented per-action limits. Off by default:
    /// the emulator's limits are its own flags, and pacing would hide the client's cost.
    bool rate_limit = false;
    bool json = false;
    int duration_s = 0;  ///< --duration: > 0 = soak for this long instead of --sandboxes
    std::vector<std::string> emulator_faults;  ///< --fault-* flags with their values
};

// The realistic profile's start delays when --start-delay-ms does not override them, service
// milliseconds (eci-emulator --profile realistic; docs/emulator.md).
constexpr double realistic_start_delay_min_ms = 10000;
constexpr double realistic_start_delay_max_ms = 40000;

// The start delay range in force, service milliseconds: {A, B} of "A-B", {N, N} of "N".
std::pair<double, double> start_delay_range_ms(const Options& options) {
    if (!options.start_delay_given && options.profile == "realistic")
        return {realistic_start_delay_min_ms, realistic_start_delay_max_ms};
    const auto& text = options.start_delay_ms;
    const auto dash = text.find('-');
    const double low = std::stod(text.substr(0, dash));
    return {low, dash == std::string::npos ? low : std::stod(text.substr(dash + 1))};
}

// The least service time `lifecycles` lifecycles can take under the documented per-minute
// limits and start delays, whatever the client does (docs/performance.md, "The floor"):
// - the slowest start: of n delays drawn uniformly from [A, B], the longest is expected at
//   A + (B - A) n / (n + 1);
// - every create must be sent at the CreateContainerGroup pace, and the last one created must
//   still start (at least A);
// - no exec is of use before the first sandbox runs (A), and then every ExecContainerCommand
//   must be sent at its pace; likewise every delete.
// Each bucket may start full: the emulator's profile holds a minute's worth of calls
// (docs/emulator.md, "The realistic profile"), so the floor allows that burst. Commands' own
// run time is left out: next to the start delays it is small at time scale 1.
double floor_service_s(const Options& options, int lifecycles) {
    const auto& limits = eci::documented_rate_limits();
    auto paced_s = [&](const char* action, double calls) {
        const auto it = limits.find(action);
        if (it == limits.end() || it->second.per_minute <= 0)
            return 0.0;
        const double rate = it->second.per_minute / 60.0;  // calls per second
        return std::max(0.0, calls - it->second.per_minute) / rate;
    };
    const double n = lifecycles;
    // A session needs one exec; without one each command, the tmux start and at least one
    // poll are an exec each.
    const double tmux_execs = options.tmux_job ? 2.0 : 0.0;
    const double execs_per_lifecycle = options.use_session ? 1.0 : options.commands + tmux_execs;
    const auto [low_ms, high_ms] = start_delay_range_ms(options);
    const double start_s = low_ms / 1000.0;
    const double slowest_start_s = (low_ms + (high_ms - low_ms) * n / (n + 1)) / 1000.0;
    return std::max({slowest_start_s, paced_s("CreateContainerGroup", n) + start_s,
                     start_s + paced_s("ExecContainerCommand", n * execs_per_lifecycle),
                     start_s + paced_s("DeleteContainerGroup", n)});
}

double cpu_seconds() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
    return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// CPU time the whole host spent busy (every process, the emulator's sandboxes included), in
// seconds, from /proc/stat: on a host that runs the emulator too, a busy share near 1 says the
// host, not the client's pace, set the wall time.
double host_busy_cpu_seconds() {
    std::ifstream stat("/proc/stat");
    std::string cpu;
    double user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
    if (!(stat >> cpu >> user >> nice >> system >> idle >> iowait >> irq >> softirq >> steal))
        return 0;
    const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
    return (user + nice + system + irq + softirq + steal) / ticks;
}

double peak_rss_mb() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return static_cast<double>(usage.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB on Linux
}

// Resident set size now (not the peak), from /proc/self/statm.
double current_rss_mb() {
    std::ifstream statm("/proc/self/statm");
    long pages = 0;
    long resident = 0;
    statm >> pages >> resident;
    return static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE)) / 1048576.0;
}

int open_descriptors() {
    std::error_code ec;
    int count = 0;
    for (auto it = std::filesystem::directory_iterator("/proc/self/fd", ec);
         !ec && it != std::filesystem::directory_iterator(); it.increment(ec))
        ++count;
    return count;
}

// One soak sample.
struct Sample {
    double at_s = 0;
    double rss_mb = 0;
    int fds = 0;
};

// Every lifecycle holds API and WebSocket connections: lift the soft descriptor limit to the
// hard one so 1000 lifecycles do not run out.
void raise_descriptor_limit() {
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        setrlimit(RLIMIT_NOFILE, &limit);
    }
}

// Latencies of one operation kind, in milliseconds.
struct Latencies {
    std::vector<double> samples;

    void add(steady_clock::time_point since) {
        samples.push_back(duration<double, std::milli>(steady_clock::now() - since).count());
    }
    // Nearest-rank percentile.
    double percentile(double p) {
        if (samples.empty())
            return 0;
        std::sort(samples.begin(), samples.end());
        const auto rank = static_cast<std::size_t>(p / 100.0 * static_cast<double>(samples.size()));
        return samples[std::min(rank, samples.size() - 1)];
    }
    boost::json::object summary() {
        boost::json::object out;
        out["count"] = samples.size();
        out["p50_ms"] = percentile(50);
        out["p95_ms"] = percentile(95);
        out["p99_ms"] = percentile(99);
        return out;
    }
};

struct Run {
    Run(Options run_options, eci::AsyncEciSandbox run_client)
        : options(std::move(run_options)), client(std::move(run_client)) {}

    Options options;
    eci::AsyncEciSandbox client;
    asio::io_context* io = nullptr;
    steady_clock::time_point started_at = steady_clock::now();
    int next = 0;
    int completed = 0;
    int leaked = -1;  ///< own sandboxes still listed at the end; -1 = the listing failed
    std::string leak_detail;
    std::vector<Sample> samples;
    int workers_left = 0;
    int failed = 0;
    // When the last lifecycle ended: idle pooled connections would keep io.run() going.
    steady_clock::time_point finished_at;
    double cpu_at_finish = 0;
    double host_cpu_at_finish = 0;
    std::map<std::string, int> failures_by_step;
    std::string first_failure;
    /// The first failure of each step: one sample per kind of failure, for the report.
    std::map<std::string, std::string> first_failure_by_step;
    Latencies create_wait, bash, tmux, remove;
    /// The create's wait, the session's open and the tmux wait each get this long: 300 s, plus
    /// the floor in real time under the profile, where thousands of lifecycles queue at the
    /// documented pace (10,000 execs at 500 a minute take 20 minutes).
    std::chrono::milliseconds step_timeout{300'000};

    std::string name_prefix() const { return fmt::format("fanout-{}-", options.seed); }
    bool more() const {
        if (options.duration_s > 0)
            return steady_clock::now() - started_at < seconds(options.duration_s);
        return next < options.sandboxes;
    }

    void fail(int n, const std::string& step, const std::string& detail) {
        ++failed;
        ++failures_by_step[step];
        first_failure_by_step.emplace(step, fmt::format("lifecycle {}: {}", n, detail));
        if (first_failure.empty())
            first_failure = fmt::format("lifecycle {} {}: {}", n, step, detail);
    }
};

// The steps of one lifecycle, each its own coroutine: a step's locals live only while it
// runs, so a lifecycle waiting its turn holds a small frame (at 10,000 lifecycles the client's
// memory is mostly these frames; docs/performance.md, "10,000 sandboxes").

// Creates the sandbox and waits until it runs; on failure nothing is left behind.
asio::awaitable<std::optional<eci::AsyncSandbox>> create_step(Run& run, int n) {
    const auto begun = steady_clock::now();
    eci::CreateOptions create;
    create.image = "registry.example/ubuntu:22.04";
    create.name = fmt::format("{}{}", run.name_prefix(), n);
    create.wait_until_running = true;
    create.wait_timeout = run.step_timeout;
    auto sandbox = co_await run.client.create(std::move(create));
    if (!sandbox.ok()) {
        run.fail(n, "create_wait", sandbox.error().to_string());
        // The library deletes what a failed create made; when even that failed, the error
        // names the sandbox, and the bench tries once more.
        if (!sandbox.error().sandbox_id.empty())
            (void)co_await run.client.remove(sandbox.error().sandbox_id);
        co_return std::nullopt;
    }
    run.create_wait.add(begun);
    co_return std::move(sandbox).value();
}

asio::awaitable<std::optional<eci::ShellSession>> session_step(Run& run, int n,
                                                               eci::AsyncSandbox sandbox) {
    // As generous as the create's wait: 1000 sessions opening at once queue behind the
    // client's ExecContainerCommand pace (500/min) and the exec start cap.
    auto session_options = eci::ShellSessionOptions{};
    session_options.open_timeout = run.step_timeout;
    auto opened = co_await eci::ShellSession::open(std::move(sandbox), std::move(session_options));
    if (!opened.ok()) {
        run.fail(n, "session", opened.error().to_string());
        co_return std::nullopt;
    }
    co_return std::move(opened).value();
}

// Command `i`: echoes a text of its own, which must come back.
asio::awaitable<bool> command_step(Run& run, int n, int i, eci::AsyncSandbox& sandbox,
                                   eci::ShellSession* shell) {
    const auto expected = fmt::format("{}-{}", sandbox.id(), i);
    const auto begun = steady_clock::now();
    auto command = fmt::format("echo {}", expected);
    // No co_await inside a conditional expression (GCC 12 pitfalls): one branch each.
    std::optional<eci::Result<eci::CommandResult>> result;
    if (shell != nullptr) {
        auto in_session = eci::ShellRunOptions{};
        in_session.idempotent = true;
        in_session.timeout = seconds(120);
        result.emplace(co_await shell->run(std::move(command), std::move(in_session)));
    } else {
        auto exec = eci::ExecOptions{};
        exec.idempotent = true;
        exec.timeout = seconds(120);
        result.emplace(co_await sandbox.bash(std::move(command), std::move(exec)));
    }
    auto& ran = *result;
    if (!ran.ok()) {
        run.fail(n, "bash", ran.error().to_string());
        co_return false;
    }
    if (!ran->success() || ran->stdout_text != expected + "\n") {
        run.fail(n, "bash",
                 fmt::format("exit {} stdout '{}'", ran->exit_code.value_or(-1), ran->stdout_text));
        co_return false;
    }
    run.bash.add(begun);
    co_return true;
}

// One tmux job, waited to its end: its exit code must come back.
asio::awaitable<bool> tmux_step(Run& run, int n, eci::AsyncSandbox& sandbox,
                                eci::ShellSession* shell) {
    const auto begun = steady_clock::now();
    auto start = eci::TmuxStartOptions{};
    auto job_command = fmt::format("sleep 0.2; echo job-{}; exit 7", n);
    // Through the shell session when there is one (no API call), else one exec each.
    eci::Result<std::string> job = eci::Error::make(eci::ErrorKind::cancelled, "not started");
    if (shell != nullptr)
        job = co_await shell->tmux_start(std::move(job_command), std::move(start));
    else
        job = co_await sandbox.tmux_start(std::move(job_command), std::move(start));
    if (!job.ok()) {
        run.fail(n, "tmux", job.error().to_string());
        co_return false;
    }
    auto wait = eci::TmuxWaitOptions{};
    wait.timeout = run.step_timeout;
    eci::Result<eci::TmuxPollResult> waited =
        eci::Error::make(eci::ErrorKind::cancelled, "not waited");
    if (shell != nullptr)
        waited = co_await shell->tmux_wait(*job, std::move(wait));
    else
        waited = co_await sandbox.tmux_wait(*job, std::move(wait));
    if (!waited.ok()) {
        run.fail(n, "tmux", waited.error().to_string());
        co_return false;
    }
    if (waited->status != eci::TmuxStatus::completed || waited->exit_code.value_or(-1) != 7) {
        run.fail(n, "tmux",
                 fmt::format("status {} exit {}", eci::to_string(waited->status),
                             waited->exit_code.value_or(-1)));
        co_return false;
    }
    run.tmux.add(begun);
    co_return true;
}

// Deletes the sandbox, even after a failed step, so nothing is left behind.
asio::awaitable<bool> remove_step(Run& run, int n, eci::AsyncSandbox& sandbox, bool ok) {
    const auto begun = steady_clock::now();
    auto removed = co_await sandbox.remove();
    if (!removed.ok()) {
        if (ok)
            run.fail(n, "delete", removed.error().to_string());
        (void)co_await sandbox.remove();  // one more try: a leak costs more than a call
        co_return false;
    }
    if (ok)
        run.remove.add(begun);
    co_return true;
}

// One lifecycle; a failed step is recorded in `run`.
asio::awaitable<void> lifecycle(Run& run, int n) {
    auto sandbox = co_await create_step(run, n);
    if (!sandbox)
        co_return;
    bool ok = true;
    std::optional<eci::ShellSession> session;
    if (run.options.use_session) {
        session = co_await session_step(run, n, *sandbox);
        ok = session.has_value();
    }
    eci::ShellSession* shell = session ? &*session : nullptr;
    for (int i = 0; i < run.options.commands && ok; ++i)
        ok = co_await command_step(run, n, i, *sandbox, shell);
    if (ok && run.options.tmux_job)
        ok = co_await tmux_step(run, n, *sandbox, shell);
    if (session)
        (void)co_await session->close();
    if (co_await remove_step(run, n, *sandbox, ok) && ok)
        ++run.completed;
}

// Soak: samples RSS and descriptors every 5 s while lifecycles run.
asio::awaitable<void> sampler(Run& run) {
    asio::steady_timer timer(co_await asio::this_coro::executor);
    while (run.workers_left > 0) {
        run.samples.push_back({duration<double>(steady_clock::now() - run.started_at).count(),
                               current_rss_mb(), open_descriptors()});
        timer.expires_after(seconds(5));
        co_await timer.async_wait(asio::use_awaitable);
    }
}

// Mean RSS and descriptors over the samples within [from, to) seconds.
boost::json::object window(const std::vector<Sample>& samples, double from, double to) {
    double rss = 0;
    double rss_max = 0;
    double fds = 0;
    int fds_max = 0;
    int count = 0;
    for (const auto& sample : samples) {
        if (sample.at_s < from || sample.at_s >= to)
            continue;
        rss += sample.rss_mb;
        rss_max = std::max(rss_max, sample.rss_mb);
        fds += sample.fds;
        fds_max = std::max(fds_max, sample.fds);
        ++count;
    }
    boost::json::object out;
    out["samples"] = count;
    out["rss_mb_mean"] = count ? rss / count : 0.0;
    out["rss_mb_max"] = rss_max;
    out["fds_mean"] = count ? fds / count : 0.0;
    out["fds_max"] = fds_max;
    return out;
}

// Runs lifecycles one after another until none is left: `concurrency` of these workers cap
// how many are in flight.
asio::awaitable<void> worker(Run& run) {
    while (run.more()) {
        const int n = run.next++;
        co_await lifecycle(run, n);
    }
    if (--run.workers_left == 0) {
        run.finished_at = steady_clock::now();
        run.cpu_at_finish = cpu_seconds();
        run.host_cpu_at_finish = host_busy_cpu_seconds();
        auto left = co_await eci::bench::count_leaked(run.client, run.name_prefix());
        run.leaked = left.leaked;
        run.leak_detail = std::move(left.detail);
        run.io->stop();
    }
}

int usage(int code) {
    fmt::print(code == 0 ? stdout : stderr,
               "usage: eci-bench-fanout [--emulator PATH | --emulator-ready FILE] [--sandboxes N] "
               "[--commands M]\n"
               "                        [--concurrency C] [--seed S] [--start-delay-ms D] "
               "[--no-session] [--no-tmux] [--rate-limit] [--json]\n"
               "                        [--duration S] [--fault-throttle P] "
               "[--fault-unavailable P] [--fault-reset P] [--fault-ws-drop P]\n"
               "                        [--profile realistic] [--time-scale K] [--runtime "
               "MODE]\n");
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
            else if (arg == "--sandboxes")
                options.sandboxes = std::stoi(next());
            else if (arg == "--commands")
                options.commands = std::stoi(next());
            else if (arg == "--concurrency")
                options.concurrency = std::stoi(next());
            else if (arg == "--seed")
                options.seed = std::stoull(next());
            else if (arg == "--start-delay-ms") {
                options.start_delay_ms = next();
                options.start_delay_given = true;
                (void)start_delay_range_ms(options);  // "N" or "A-B", or "expected a number"
            } else if (arg == "--profile")
                options.profile = next();
            else if (arg == "--time-scale")
                options.time_scale = std::stod(next());
            else if (arg == "--runtime")
                options.runtime = next();
            else if (arg == "--no-session")
                options.use_session = false;
            else if (arg == "--no-tmux")
                options.tmux_job = false;
            else if (arg == "--rate-limit")
                options.rate_limit = true;
            else if (arg == "--json")
                options.json = true;
            else if (arg == "--duration")
                options.duration_s = std::stoi(next());
            else if (arg.rfind("--fault-", 0) == 0 || arg == "--throttle-status") {
                const std::string value = next();
                (void)std::stod(value);  // a number, or "expected a number"; the emulator checks
                options.emulator_faults.push_back(arg);
                options.emulator_faults.push_back(value);
            } else
                return usage(arg == "--help" ? 0 : 2);
        } catch (const std::exception&) {
            fmt::print(stderr, "{}: expected a number\n", arg);
            return 2;
        }
    }
    if (options.sandboxes < 1 || options.commands < 0 || options.concurrency < 0 ||
        options.duration_s < 0 || (options.duration_s > 0 && options.concurrency == 0) ||
        !(options.time_scale > 0))
        return usage(2);  // a soak needs a bounded number of workers
    // Under the realistic profile the client paces itself, as a user's client does by default.
    if (options.profile == "realistic")
        options.rate_limit = true;
    raise_descriptor_limit();

    std::optional<eci::bench::EmulatorProcess> emulator;
    // The emulator's default --exit-status none: the real service's convention.
    std::vector<std::string> args{"--listen", "127.0.0.1:0", "--seed",
                                  std::to_string(options.seed)};
    // The profile brings its own start delays; an explicit flag still overrides them.
    if (options.start_delay_given || options.profile.empty()) {
        args.emplace_back("--start-delay-ms");
        args.push_back(options.start_delay_ms);
    }
    for (auto [flag, value] :
         {std::pair{"--profile", options.profile}, std::pair{"--runtime", options.runtime}}) {
        if (!value.empty()) {
            args.emplace_back(flag);
            args.push_back(value);
        }
    }
    if (options.time_scale != 1) {
        args.emplace_back("--time-scale");
        args.push_back(fmt::format("{}", options.time_scale));
    }
    args.insert(args.end(), options.emulator_faults.begin(), options.emulator_faults.end());
    auto found = eci::bench::ready_or_start(options.ready_file, options.emulator_binary,
                                            std::move(args), emulator);
    if (!found.ok())
        return fmt::print(stderr, "{}\n", found.error()), 1;
    const eci::bench::EmulatorEndpoint endpoint = std::move(found).value();

    asio::io_context io(1);
    auto config = endpoint.client_config();
    config.lease.tag_sandboxes = false;          // the peer does not tag either: same API payloads
    config.lease.default_lease = eci::no_lease;  // nor sets ActiveDeadlineSeconds
    config.rate_limit.enabled = options.rate_limit;
    // The emulator's windows run K times faster: so does the client's pace. Its bucket holds
    // a minute's worth and refills at N per service minute, and a bucket of N refilled at
    // N * K per real minute is exactly that model in scaled time. (A rolling window of N * K
    // calls per real minute would send K minutes' worth at once.) At K = 1 the client keeps
    // its default, the rolling minute.
    if (options.time_scale != 1) {
        for (const auto& [action, limit] : eci::documented_rate_limits()) {
            eci::ActionRateLimit scaled;
            scaled.per_minute = limit.per_minute * options.time_scale;
            scaled.burst = limit.per_minute;
            config.rate_limit.per_action[action] = scaled;
        }
    }
    auto client = eci::AsyncEciSandbox::from_config(io.get_executor(), config);
    if (!client.ok())
        return fmt::print(stderr, "{}\n", client.error()), 1;

    Run run(options, *client);
    run.io = &io;
    const int workers = options.concurrency == 0 ? options.sandboxes
                        : options.duration_s > 0 ? options.concurrency
                                                 : std::min(options.concurrency, options.sandboxes);
    if (options.profile == "realistic" && options.duration_s == 0) {
        const double floor_real_s =
            floor_service_s(options, options.sandboxes) / options.time_scale;
        run.step_timeout += duration_cast<milliseconds>(duration<double>(floor_real_s));
    }
    const double cpu_before = cpu_seconds();
    const double host_before = host_busy_cpu_seconds();
    const auto wall_before = steady_clock::now();
    run.workers_left = workers;
    run.started_at = wall_before;
    for (int w = 0; w < workers; ++w)
        asio::co_spawn(io, worker(run), asio::detached);
    if (options.duration_s > 0)
        asio::co_spawn(io, sampler(run), asio::detached);
    io.run();
    const double wall = duration<double>(run.finished_at - wall_before).count();
    const double cpu = run.cpu_at_finish - cpu_before;
    const double host_cpu = run.host_cpu_at_finish - host_before;

    const auto stats = run.client.api().stats();
    boost::json::object out;
    out["client"] = "eci-sandbox (C++)";
    out["sandboxes"] = options.duration_s > 0 ? run.next : options.sandboxes;
    out["commands"] = options.commands;
    out["concurrency"] = workers;
    out["shell_session"] = options.use_session;
    out["rate_limit"] = options.rate_limit;
    out["wall_s"] = wall;
    out["client_cpu_s"] = cpu;
    out["peak_rss_mb"] = peak_rss_mb();
    out["host_cpu_s"] = host_cpu;
    out["host_busy"] =
        wall > 0
            ? host_cpu / (wall * static_cast<double>(std::max(1L, sysconf(_SC_NPROCESSORS_ONLN))))
            : 0.0;
    out["tmux_job"] = options.tmux_job;
    boost::json::object calls;
    calls["total"] = stats.total_api_calls();
    for (const auto& [action, count] : stats.api_calls)
        calls[action] = count;
    out["api_calls"] = std::move(calls);
    out["cpu_us_per_api_call"] =
        stats.total_api_calls() ? cpu * 1e6 / static_cast<double>(stats.total_api_calls()) : 0.0;
    out["retries"] = stats.retries;
    out["throttled"] = stats.throttled;
    // Issue 16's names: Throttling replies received, and DescribeContainerGroups calls per
    // lifecycle (the bench's own final listing included).
    out["throttled_replies"] = stats.throttled;
    {
        const auto describes = stats.api_calls.find("DescribeContainerGroups");
        const auto lifecycles = run.completed + run.failed;
        out["describe_per_lifecycle"] =
            lifecycles > 0 && describes != stats.api_calls.end()
                ? static_cast<double>(describes->second) / static_cast<double>(lifecycles)
                : 0.0;
    }
    if (!options.profile.empty())
        out["profile"] = options.profile;
    out["time_scale"] = options.time_scale;
    out["wall_service_s"] = wall * options.time_scale;
    if (options.profile == "realistic" && options.duration_s == 0) {
        const double floor_s = floor_service_s(options, out["sandboxes"].to_number<int>());
        out["floor_s"] = floor_s;
        out["floor_ratio"] = floor_s > 0 ? wall * options.time_scale / floor_s : 0.0;
    }
    out["tls_handshakes"] = stats.tls_handshakes;
    out["tls_resumptions"] = stats.tls_resumptions;
    out["connections_opened"] = stats.connections_opened;
    out["ws_connections"] = stats.ws_connections;
    out["ws_tls_resumptions"] = stats.ws_tls_resumptions;
    out["exec_start_waits"] = stats.exec_start_waits;
    out["bytes_sent"] = stats.bytes_sent;
    out["bytes_received"] = stats.bytes_received;
    out["failed"] = run.failed;
    out["completed"] = run.completed;
    out["leaked"] = run.leaked;
    if (!run.leak_detail.empty())
        out["leak_detail"] = run.leak_detail;
    if (options.duration_s > 0) {
        boost::json::object soak;
        soak["duration_s"] = options.duration_s;
        soak["first_minute"] = window(run.samples, 0, 60);
        soak["last_minute"] = window(run.samples, wall - 60, wall + 1);
        out["soak"] = std::move(soak);
    }
    boost::json::object failures;
    for (const auto& [step, count] : run.failures_by_step)
        failures[step] = count;
    out["failures_by_step"] = std::move(failures);
    if (!run.first_failure.empty())
        out["first_failure"] = run.first_failure;
    boost::json::object first_by_step;
    for (const auto& [step, detail] : run.first_failure_by_step)
        first_by_step[step] = detail;
    out["first_failure_by_step"] = std::move(first_by_step);
    boost::json::object latency;
    latency["create_wait"] = run.create_wait.summary();
    latency["bash"] = run.bash.summary();
    latency["tmux"] = run.tmux.summary();
    latency["delete"] = run.remove.summary();
    out["latency_ms"] = std::move(latency);

    if (options.json) {
        fmt::print("{}\n", boost::json::serialize(out));
    } else {
        fmt::print(
            "{} sandboxes x {} commands: {:.2f} s wall, {:.3f} s client CPU, {:.1f} MB peak "
            "RSS, {} API calls ({:.1f} us CPU each), {} retries, {} TLS handshakes ({} resumed), "
            "{} "
            "WebSockets ({} resumed TLS), {} failed, {} leaked\n",
            out["sandboxes"].as_int64(), options.commands, wall, cpu, peak_rss_mb(),
            stats.total_api_calls(), out["cpu_us_per_api_call"].as_double(), stats.retries,
            stats.tls_handshakes, stats.tls_resumptions, stats.ws_connections,
            stats.ws_tls_resumptions, run.failed, run.leaked);
        for (const char* kind : {"create_wait", "bash", "tmux", "delete"}) {
            const auto& l = out["latency_ms"].as_object().at(kind).as_object();
            fmt::print("  {:<11} p50 {:8.1f} ms  p95 {:8.1f} ms  p99 {:8.1f} ms\n", kind,
                       l.at("p50_ms").as_double(), l.at("p95_ms").as_double(),
                       l.at("p99_ms").as_double());
        }
        if (out.contains("floor_s"))
            fmt::print(
                "  service time {:.1f} s against a floor of {:.1f} s: {:.2f}x, {} "
                "Throttling replies, {:.2f} DescribeContainerGroups per lifecycle\n",
                out["wall_service_s"].as_double(), out["floor_s"].as_double(),
                out["floor_ratio"].as_double(), stats.throttled,
                out["describe_per_lifecycle"].as_double());
        if (!run.first_failure.empty())
            fmt::print("  first failure: {}\n", run.first_failure);
        if (!run.leak_detail.empty())
            fmt::print("  leaked: {}\n", run.leak_detail);
        if (options.duration_s > 0) {
            for (const char* part : {"first_minute", "last_minute"}) {
                const auto& w = out["soak"].as_object().at(part).as_object();
                fmt::print("  {:<12} RSS mean {:.1f} MB (max {:.1f}), fds mean {:.1f} (max {})\n",
                           part, w.at("rss_mb_mean").as_double(), w.at("rss_mb_max").as_double(),
                           w.at("fds_mean").as_double(), w.at("fds_max").as_int64());
            }
        }
    }
    return run.failed == 0 && run.leaked == 0 ? 0 : 1;
}
