// SPDX-License-Identifier: Apache-2.0
#include "emulator/lifecycle.hpp"

#include "core/time_format.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <array>

namespace eci::emulator {

namespace asio = boost::asio;

namespace {

constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t sync_output_limit = 1024 * 1024;  // per stream; the rest is dropped

void add_event(ContainerGroup& group, std::string type, std::string reason, std::string message,
               const std::string& now) {
    // Repeated events are folded, as Kubernetes does, so the list stays short.
    for (auto& event : group.events) {
        if (event.reason == reason && event.message == message && event.type == type) {
            ++event.count;
            event.last_timestamp = now;
            return;
        }
    }
    group.events.push_back(Event{1, std::move(type), group.container_group_name, std::move(reason),
                                 std::move(message), now, now});
    if (group.events.size() > 50)
        group.events.erase(group.events.begin());
}

ContainerState terminated_state(const ContainerState& running, const ExitStatus& status,
                                const std::string& now) {
    ContainerState state;
    state.state = std::string(container_state::terminated);
    state.exit_code = status.shell_code();
    state.signal = status.signal;
    state.reason = status.success() ? "Completed" : "Error";
    state.start_time = running.start_time;
    state.finish_time = now;
    return state;
}

std::string now_rfc3339() {
    return eci::detail::format_utc_timestamp(std::chrono::system_clock::now());
}

std::string runtime_id(const SandboxEntry& entry, std::size_t index) {
    return fmt::format("{}-c{}", entry.group.container_group_id, index + 1);
}

}  // namespace

// ------------------------------------------------------------------------------------------

Lifecycle::Lifecycle(Strand strand, const EmulatorOptions& options, SandboxStore& store,
                     const bool& stopping, KeepAlive keep_alive)
    : strand_(std::move(strand)),
      options_(options),
      store_(store),
      stopping_(stopping),
      keep_alive_(std::move(keep_alive)),
      // Its own sequence: drawing delays does not shift the fault decisions of a seed.
      delay_random_(options.seed ^ 0x5eed'de1a'0000'0001ULL) {}

Lifecycle::~Lifecycle() = default;

void Lifecycle::use_runtime(std::unique_ptr<Runtime> runtime) {
    runtime_ = std::move(runtime);
}

void Lifecycle::launch(const std::shared_ptr<SandboxEntry>& entry) {
    std::uint64_t generation = ++entry->generation;
    asio::co_spawn(strand_, run_phase(entry, generation, Phase::starting), asio::detached);
    if (entry->active_deadline_seconds > 0) {
        asio::co_spawn(strand_, watch_deadline(entry), asio::detached);
    }
}

void Lifecycle::restart(const std::shared_ptr<SandboxEntry>& entry) {
    std::uint64_t generation = ++entry->generation;
    if (entry->phase_timer)
        entry->phase_timer->cancel();
    entry->group.status = std::string(status::restarting);
    add_event(entry->group, "Normal", "Restarting", "Restarting the container group",
              now_rfc3339());
    // Fresh processes (and ids free again, once these are gone): the runtime refuses a live id.
    take_processes(*entry);
    asio::co_spawn(strand_, run_phase(entry, generation, Phase::restarting), asio::detached);
}

asio::awaitable<void> Lifecycle::remove(std::shared_ptr<SandboxEntry> entry) {
    const auto hold = keep_alive_();
    // A second delete while the first is in progress succeeds: the outcome is the same.
    if (entry->group.status != status::terminating)
        begin_termination(entry);
    // Completes once no process of the sandbox is left (the server goes on serving
    // meanwhile); without a terminate delay the sandbox is then gone from the list as well.
    co_await settle_processes(entry);
    if (options_.terminate_delay.count() == 0 && !entry->removed && !stopping_ &&
        entry->group.status == status::terminating) {
        forget(*entry);
    }
}

void Lifecycle::begin_termination(const std::shared_ptr<SandboxEntry>& entry) {
    std::uint64_t generation = ++entry->generation;
    if (entry->phase_timer)
        entry->phase_timer->cancel();
    if (entry->deadline_timer)
        entry->deadline_timer->cancel();
    entry->group.status = std::string(status::terminating);
    // Processes die now (no exec reaches them once they leave the entry); the delete's reply
    // waits until they are gone, without blocking the server.
    take_processes(*entry);
    for (auto& c : entry->group.containers)
        c.ready = false;
    if (options_.terminate_delay.count() > 0)
        asio::co_spawn(strand_, run_phase(entry, generation, Phase::terminating), asio::detached);
}

void Lifecycle::take_processes(SandboxEntry& entry) {
    for (auto& processes : entry.processes) {
        if (processes)
            entry.dying.push_back(std::move(processes));
    }
    entry.processes.clear();
    entry.deferred = false;
}

void Lifecycle::remove_now(const std::shared_ptr<SandboxEntry>& entry) {
    ++entry->generation;
    entry->removed = true;  // before its processes die: their exit callbacks see it gone
    if (entry->phase_timer)
        entry->phase_timer->cancel();
    take_processes(*entry);
    for (auto& processes : entry->dying)
        (void)processes->destroy();
    entry->dying.clear();
    forget(*entry);
}

void Lifecycle::remove_all() {
    for (auto& entry : store_.all())
        remove_now(entry);
    if (runtime_)
        runtime_->shutdown();
}

void Lifecycle::forget(SandboxEntry& entry) {
    entry.removed = true;
    if (entry.deadline_timer)
        entry.deadline_timer->cancel();
    store_.erase(entry.group.container_group_id);
}

asio::awaitable<void> Lifecycle::settle_processes(std::shared_ptr<SandboxEntry> entry) {
    const auto hold = keep_alive_();
    // One being destroyed by another caller is waited for; the list may change while this
    // waits (another restart or delete adds to it, another settle prunes it), so look again
    // after each wait. destroy_async always ends destroyed, so this ends.
    for (;;) {
        auto alive = std::find_if(entry->dying.begin(), entry->dying.end(),
                                  [](const auto& processes) { return !processes->destroyed(); });
        if (alive == entry->dying.end())
            break;
        auto processes = *alive;
        (void)co_await processes->destroy_async();
    }
    while (auto under_way = entry->starting)
        co_await under_way->async_wait(tuple_awaitable);
    std::erase_if(entry->dying, [](const auto& processes) { return processes->destroyed(); });
}

std::chrono::milliseconds Lifecycle::draw_start_delay() {
    std::chrono::milliseconds delay = options_.start_delay;
    if (options_.start_delay_max > options_.start_delay) {
        delay = std::chrono::milliseconds(std::uniform_int_distribution<std::int64_t>(
            options_.start_delay.count(), options_.start_delay_max.count())(delay_random_));
    }
    auto& figures = start_delays_;
    figures.min_ms = figures.count == 0 ? delay.count() : std::min(figures.min_ms, delay.count());
    figures.max_ms = figures.count == 0 ? delay.count() : std::max(figures.max_ms, delay.count());
    figures.total_ms += delay.count();
    ++figures.count;
    return delay;
}

asio::awaitable<bool> Lifecycle::wait_phase(std::shared_ptr<SandboxEntry> entry,
                                            std::uint64_t generation,
                                            std::chrono::milliseconds service_delay) {
    // A zero delay still waits once (the phase goes on after the current handler).
    entry->phase_timer = std::make_unique<asio::steady_timer>(
        strand_, scaled_duration(service_delay, options_.time_scale));
    co_await entry->phase_timer->async_wait(tuple_awaitable);
    co_return !(entry->removed || entry->generation != generation || stopping_);
}

asio::awaitable<bool> Lifecycle::pull_images(std::shared_ptr<SandboxEntry> entry,
                                             std::uint64_t generation,
                                             std::chrono::milliseconds delay) {
    // A fifth of the start waits for the node, three fifths pull, the last fifth creates the
    // containers (docs/emulator.md, "The realistic profile").
    const auto before_pull = delay / 5;
    const auto pull = delay * 3 / 5;
    if (!co_await wait_phase(entry, generation, before_pull))
        co_return false;
    for (const auto& c : entry->group.containers) {
        add_event(entry->group, "Normal", "Pulling", fmt::format("Pulling image \"{}\"", c.image),
                  now_rfc3339());
    }
    if (!co_await wait_phase(entry, generation, pull))
        co_return false;
    for (const auto& c : entry->group.containers) {
        // The pull's duration in service time, as the kubelet words it.
        add_event(entry->group, "Normal", "Pulled",
                  fmt::format("Successfully pulled image \"{}\" in {:.3f}s", c.image,
                              std::chrono::duration<double>(pull).count()),
                  now_rfc3339());
    }
    co_return co_await wait_phase(entry, generation, delay - before_pull - pull);
}

asio::awaitable<void> Lifecycle::run_phase(std::shared_ptr<SandboxEntry> entry,
                                           std::uint64_t generation, Phase phase) {
    const auto hold = keep_alive_();
    co_await settle_processes(entry);
    if (entry->removed || entry->generation != generation || stopping_)
        co_return;
    if (phase == Phase::terminating) {
        if (co_await wait_phase(entry, generation, options_.terminate_delay))
            forget(*entry);
        co_return;
    }
    const auto delay = draw_start_delay();
    if (phase == Phase::starting && options_.image_pull_events &&
        !over_cpu_stock(entry->group.cpu)) {
        if (!co_await pull_images(entry, generation, delay))
            co_return;
    } else if (!co_await wait_phase(entry, generation, delay)) {
        co_return;
    }
    const auto kind = phase == Phase::restarting ? StartKind::restart : StartKind::create;
    if (kind == StartKind::create && over_cpu_stock(entry->group.cpu)) {
        fail_scheduling(*entry);
    } else if (options_.runtime_start == RuntimeStart::at_first_exec) {
        defer_start(*entry, kind);
    } else {
        co_await start_containers(entry, generation, kind);
    }
}

asio::awaitable<void> Lifecycle::watch_deadline(std::shared_ptr<SandboxEntry> entry) {
    const auto hold = keep_alive_();
    entry->deadline_timer = std::make_unique<asio::steady_timer>(
        strand_, std::chrono::seconds(entry->active_deadline_seconds));
    auto [ec] = co_await entry->deadline_timer->async_wait(tuple_awaitable);
    if (ec || entry->removed || stopping_)
        co_return;
    const std::string& s = entry->group.status;
    if (is_terminal_status(s) || s == status::terminating)
        co_return;
    ++entry->generation;  // a pending start or restart must not revive it
    if (entry->phase_timer)
        entry->phase_timer->cancel();
    entry->deferred = false;
    stop_processes(*entry);
    std::string now = now_rfc3339();
    for (auto& c : entry->group.containers) {
        if (c.current_state.state == container_state::terminated)
            continue;
        ContainerState killed;
        killed.state = std::string(container_state::terminated);
        killed.reason = "DeadlineExceeded";
        killed.message = "Pod was active on the node longer than the specified deadline";
        killed.exit_code = 137;
        killed.signal = 9;
        killed.start_time = c.current_state.start_time;
        killed.finish_time = now;
        c.current_state = std::move(killed);
        c.ready = false;
    }
    entry->group.status = std::string(status::failed);
    entry->group.failed_time = now;
    add_event(entry->group, "Warning", "DeadlineExceeded",
              "Pod was active on the node longer than the specified deadline", now);
}

// ------------------------------------------------------------------------------------------

void Lifecycle::fail_scheduling(SandboxEntry& entry) {
    // The service's NoStock event (docs: "Custom events of ECI", instance events); the
    // containers stay Waiting and nothing runs, so nothing is billed.
    ContainerGroup& group = entry.group;
    std::string now = now_rfc3339();
    group.status = std::string(status::schedule_failed);
    for (auto& c : group.containers)
        c.ready = false;
    add_event(group, "Warning", "NoStock",
              fmt::format("Create ECI failed because the specified instance is out of stock. "
                          "{} vCPU requested, at most {} available in {}",
                          group.cpu, options_.max_sandbox_cpu, group.zone_id),
              now);
}

void Lifecycle::begin_container(ContainerGroup& group, Container& c, StartKind kind,
                                const std::string& now) const {
    if (!c.current_state.state.empty() && c.current_state.state != container_state::waiting) {
        c.previous_state = c.current_state;
    }
    if (kind == StartKind::create && !options_.image_pull_events) {
        add_event(group, "Normal", "Pulled",
                  fmt::format("Container image \"{}\" already present on machine", c.image), now);
    }
}

void Lifecycle::container_started(ContainerGroup& group, Container& c, const std::string& now) {
    c.current_state =
        ContainerState{std::string(container_state::running), "", "", "", 0, 0, now, ""};
    c.ready = true;
    add_event(group, "Normal", "Created", fmt::format("Created container {}", c.name), now);
    add_event(group, "Normal", "Started", fmt::format("Started container {}", c.name), now);
}

void Lifecycle::defer_start(SandboxEntry& entry, StartKind kind) {
    ContainerGroup& group = entry.group;
    const std::string now = now_rfc3339();
    entry.processes.assign(group.containers.size(), nullptr);
    for (auto& c : group.containers) {
        begin_container(group, c, kind, now);
        container_started(group, c, now);
    }
    entry.deferred = true;
    group.status = std::string(status::running);
}

bool Lifecycle::start_deferred(const SandboxEntry& entry) noexcept {
    // Not started yet, or a first exec's start is under way.
    return (entry.deferred || entry.starting) && !entry.removed &&
           entry.group.status == status::running;
}

asio::awaitable<std::shared_ptr<SandboxProcesses>> Lifecycle::exec_processes(
    std::shared_ptr<SandboxEntry> entry, std::string container_name) {
    const auto hold = keep_alive_();
    // Looks again after every wait: the sandbox may be deleted, restarted or failed meanwhile.
    for (;;) {
        if (stopping_ || entry->removed || entry->group.status != status::running)
            co_return nullptr;
        if (entry->deferred) {
            // The first exec starts the processes; later ones wait on `starting` below.
            entry->deferred = false;
            ++deferred_starts_;
            co_await start_containers(entry, entry->generation, StartKind::first_exec);
            continue;
        }
        if (auto under_way = entry->starting) {
            co_await under_way->async_wait(tuple_awaitable);
            continue;
        }
        co_return container_processes(*entry, container_name);
    }
}

void Lifecycle::prestart(const std::shared_ptr<SandboxEntry>& entry) {
    if (!entry->deferred)
        return;
    asio::co_spawn(
        strand_,
        [this, entry]() -> asio::awaitable<void> { (void)co_await exec_processes(entry, {}); },
        asio::detached);
}

std::size_t Lifecycle::runtime_sandboxes() const {
    return runtime_ ? runtime_->sandbox_count() : 0;
}

asio::awaitable<void> Lifecycle::start_containers(std::shared_ptr<SandboxEntry> entry_ptr,
                                                  std::uint64_t generation, StartKind kind) {
    const auto hold = keep_alive_();
    SandboxEntry& entry = *entry_ptr;
    ContainerGroup& group = entry.group;
    std::string now = now_rfc3339();
    entry.processes.assign(group.containers.size(), nullptr);
    // A restart or delete that arrives meanwhile waits for this start to end (the ids).
    auto under_way =
        std::make_shared<asio::steady_timer>(strand_, asio::steady_timer::time_point::max());
    entry.starting = under_way;
    struct Done {
        SandboxEntry& entry;
        std::shared_ptr<asio::steady_timer> under_way;
        ~Done() {
            if (entry.starting == under_way)
                entry.starting.reset();
            under_way->cancel();
        }
    } done{entry, under_way};
    bool failed = false;
    for (std::size_t i = 0; i < group.containers.size(); ++i) {
        Container& c = group.containers[i];
        SandboxSpec spec;
        spec.id = runtime_id(entry, i);
        spec.command = c.commands;
        spec.command.insert(spec.command.end(), c.args.begin(), c.args.end());
        for (const auto& variable : c.environment_vars)
            spec.env.emplace_back(variable.key, variable.value);
        spec.working_dir = c.working_dir;
        // A container without its own Cpu/Memory gets the group's (one container per group
        // is what the emulator runs in practice).
        spec.cpu = c.cpu > 0 ? c.cpu : group.cpu;
        spec.memory_gib = c.memory > 0 ? c.memory : group.memory;
        // The runtime calls this later, perhaps after the server is gone.
        std::weak_ptr<const void> alive = keep_alive_();
        spec.on_main_exit = [this, alive, id = group.container_group_id, i](const MainExit& exit) {
            if (auto server = alive.lock())
                on_main_exit(id, i, exit);
        };
        // A first exec's sandbox already reports Running, with the states of its start.
        if (kind != StartKind::first_exec)
            begin_container(group, c, kind, now);
        auto started = co_await runtime_->start_async(std::move(spec));
        if (entry.removed || entry.generation != generation || stopping_) {
            // Deleted or restarted while it started: the delete or restart took the entry's
            // processes; this one is ours to end.
            if (started)
                (void)co_await (*started)->destroy_async();
            co_return;
        }
        if (!started) {
            ContainerState state;
            state.state = std::string(container_state::terminated);
            state.reason = "StartError";
            state.message = started.error().message;
            state.exit_code = 128;
            state.start_time = now;
            state.finish_time = now;
            c.current_state = std::move(state);
            c.ready = false;
            add_event(group, "Warning", "Failed",
                      fmt::format("Error: failed to start container \"{}\": {}", c.name,
                                  started.error().message),
                      now);
            failed = true;
            continue;
        }
        entry.processes[i] = std::move(*started);
        if (kind != StartKind::first_exec)
            container_started(group, c, now);
    }
    if (failed) {
        stop_processes(entry);
        group.status = std::string(status::failed);
        group.failed_time = now;
        for (auto& c : group.containers)
            c.ready = false;
        co_return;
    }
    group.status = std::string(status::running);
    // A main process that ended while a later container started was ignored (the group was
    // not Running yet): handle it now.
    for (std::size_t i = 0; i < entry.processes.size(); ++i) {
        const auto& processes = entry.processes[i];
        if (processes && !processes->main_running() && processes->main_exit()) {
            on_main_exit(group.container_group_id, i,
                         MainExit{*processes->main_exit(), processes->generation(), false});
        }
    }
}

void Lifecycle::on_main_exit(const std::string& id, std::size_t index, const MainExit& exit) {
    auto entry = store_.find(id);
    if (!entry || entry->removed || index >= entry->group.containers.size() ||
        index >= entry->processes.size()) {
        return;
    }
    if (entry->group.status != status::running)
        return;
    Container& c = entry->group.containers[index];
    if (c.current_state.state != container_state::running)
        return;  // already handled
    auto& processes = entry->processes[index];
    if (!processes || exit.generation != processes->generation())
        return;  // an older run
    std::string now = now_rfc3339();
    c.current_state = terminated_state(c.current_state, exit.status, now);
    c.ready = false;
    const std::string& policy = entry->group.restart_policy;
    bool restart_it = policy == "Always" || (policy == "OnFailure" && !exit.status.success());
    if (restart_it) {
        // As the kubelet does, restart with an exponential back-off (20 ms, doubling, at most 5 s
        // here, so tests stay fast) instead of a tight loop of forks.
        c.previous_state = c.current_state;
        ++c.restart_count;
        c.current_state = ContainerState{};
        c.current_state.state = std::string(container_state::waiting);
        c.current_state.reason = "CrashLoopBackOff";
        auto backoff = std::min<std::chrono::milliseconds>(
            std::chrono::milliseconds(10 << std::min(c.restart_count, 9)), std::chrono::seconds(5));
        asio::co_spawn(strand_,
                       restart_container_later(entry, index, entry->generation,
                                               processes->generation(), backoff),
                       asio::detached);
        return;
    }
    settle(*entry);
}

asio::awaitable<void> Lifecycle::restart_container_later(std::shared_ptr<SandboxEntry> entry,
                                                         std::size_t index,
                                                         std::uint64_t generation,
                                                         std::uint64_t run,
                                                         std::chrono::milliseconds delay) {
    const auto hold = keep_alive_();
    asio::steady_timer timer(strand_, delay);
    co_await timer.async_wait(tuple_awaitable);
    if (stopping_ || entry->removed || entry->generation != generation ||
        index >= entry->processes.size() || !entry->processes[index] ||
        entry->processes[index]->generation() != run) {
        co_return;  // restarted, deleted or stopped meanwhile
    }
    Container& c = entry->group.containers[index];
    std::string now = now_rfc3339();
    auto processes = entry->processes[index];
    auto restarted = co_await processes->restart_async();
    if (stopping_ || entry->removed || entry->generation != generation ||
        index >= entry->processes.size() || entry->processes[index] != processes) {
        co_return;  // deleted or restarted while it restarted
    }
    if (restarted) {
        c.current_state =
            ContainerState{std::string(container_state::running), "", "", "", 0, 0, now, ""};
        c.ready = true;
        add_event(entry->group, "Normal", "Started", fmt::format("Started container {}", c.name),
                  now);
        if (!processes->main_running() && processes->main_exit()) {  // ended at once
            on_main_exit(entry->group.container_group_id, index,
                         MainExit{*processes->main_exit(), processes->generation(), false});
        }
        co_return;
    }
    c.current_state = c.previous_state;
    c.current_state.reason = "StartError";
    settle(*entry);
}

void Lifecycle::settle(SandboxEntry& entry) {
    ContainerGroup& group = entry.group;
    bool all_done = std::all_of(
        group.containers.begin(), group.containers.end(),
        [](const Container& c) { return c.current_state.state == container_state::terminated; });
    if (!all_done)
        return;
    bool all_ok = std::all_of(group.containers.begin(), group.containers.end(),
                              [](const Container& c) { return c.current_state.exit_code == 0; });
    stop_processes(entry);
    std::string now = now_rfc3339();
    if (entry.deadline_timer)
        entry.deadline_timer->cancel();
    if (all_ok) {
        group.status = std::string(status::succeeded);
        group.succeeded_time = now;
    } else {
        group.status = std::string(status::failed);
        group.failed_time = now;
    }
}

void Lifecycle::stop_processes(SandboxEntry& entry) {
    for (auto& processes : entry.processes) {
        if (processes)
            asio::co_spawn(strand_, processes->stop_async(), asio::detached);
    }
}

std::size_t Lifecycle::live_processes() const {
    return runtime_ ? runtime_->live_process_count() : 0;
}

std::shared_ptr<SandboxProcesses> Lifecycle::container_processes(
    const SandboxEntry& entry, std::string_view container_name) const {
    for (std::size_t i = 0; i < entry.group.containers.size() && i < entry.processes.size(); ++i) {
        if (entry.group.containers[i].name == container_name)
            return entry.processes[i];
    }
    return nullptr;
}

std::string Lifecycle::container_log(const SandboxEntry& entry,
                                     const std::string& container_name) const {
    auto processes = container_processes(entry, container_name);
    return processes ? processes->recent_log(1024 * 1024) : std::string();
}

// ------------------------------------------------------------------------------------------

namespace {

asio::awaitable<void> read_all(asio::posix::stream_descriptor& pipe, std::string& out) {
    std::array<char, 16 * 1024> buffer{};
    for (;;) {
        auto [ec, n] = co_await pipe.async_read_some(asio::buffer(buffer), tuple_awaitable);
        if (ec)
            co_return;
        std::size_t room = out.size() < sync_output_limit ? sync_output_limit - out.size() : 0;
        out.append(buffer.data(), std::min(n, room));
    }
}

}  // namespace

asio::awaitable<std::variant<std::string, ApiError>> Lifecycle::run_sync_exec(
    std::shared_ptr<SandboxEntry> entry, std::string container_name,
    std::vector<std::string> command) {
    using namespace asio::experimental::awaitable_operators;
    const auto hold = keep_alive_();
    auto processes = co_await exec_processes(entry, container_name);
    if (!processes || !processes->running())
        co_return errors::incorrect_status(entry->group.status);
    ExecSpec spec;
    spec.argv = std::move(command);
    auto started = co_await processes->exec(std::move(spec));
    if (!started) {
        // The service runs the command through the container runtime, which reports a
        // missing program as output, not as an API error.
        co_return fmt::format("{}\n", started.error().message);
    }
    ExecProcess process = std::move(*started);
    std::string out;
    std::string err;
    asio::steady_timer deadline(strand_, options_.sync_exec_timeout);
    auto finished =
        co_await ((read_all(process.stdout_pipe(), out) && read_all(process.stderr_pipe(), err)) ||
                  deadline.async_wait(tuple_awaitable));
    if (finished.index() == 1)
        process.kill();
    (void)co_await process.wait();
    co_return out + err;
}

}  // namespace eci::emulator
