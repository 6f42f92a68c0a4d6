// SPDX-License-Identifier: Apache-2.0
// Lifecycle: the sandbox state machine over the runtime. Pending -> Running -> (Succeeded |
// Failed) per RestartPolicy, Restarting, Terminating, ActiveDeadlineSeconds, ScheduleFailed;
// one runtime sandbox per container. The actions ask it to launch, restart and delete
// sandboxes and to reach their running processes; it owns the runtime.
#pragma once

#include "emulator/api_error.hpp"
#include "emulator/execution.hpp"
#include "emulator/options.hpp"
#include "emulator/runtime/runtime.hpp"
#include "emulator/sandbox_store.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace eci::emulator {

/// The start delays drawn so far, in service-time milliseconds (/_emulator/stats).
struct StartDelayFigures {
    std::uint64_t count = 0;
    std::int64_t min_ms = 0;
    std::int64_t max_ms = 0;
    std::int64_t total_ms = 0;
};

class Lifecycle {
  public:
    /// `stopping` is the server's flag: once set, no phase, restart or start goes on.
    Lifecycle(Strand strand, const EmulatorOptions& options, SandboxStore& store,
              const bool& stopping, KeepAlive keep_alive);
    ~Lifecycle();
    Lifecycle(const Lifecycle&) = delete;
    Lifecycle& operator=(const Lifecycle&) = delete;

    /// The runtime that starts the containers' processes (set once, before any launch).
    void use_runtime(std::unique_ptr<Runtime> runtime);

    /// Whether a sandbox of `cpu` vCPU exceeds --max-sandbox-cpu (it cannot be scheduled).
    bool over_cpu_stock(double cpu) const noexcept {
        return options_.max_sandbox_cpu > 0 && cpu > options_.max_sandbox_cpu;
    }

    /// A new sandbox: Pending now, Running after start_delay; arms ActiveDeadlineSeconds.
    void launch(const std::shared_ptr<SandboxEntry>& entry);
    /// RestartContainerGroup: Restarting, then Running with fresh processes.
    void restart(const std::shared_ptr<SandboxEntry>& entry);
    /// DeleteContainerGroup: Terminating (every process killed at once), and completes once
    /// no process of the sandbox is left; without a terminate delay the sandbox is then gone
    /// too, with one it goes after the delay. A second delete while one is under way waits
    /// the same way.
    boost::asio::awaitable<void> remove(std::shared_ptr<SandboxEntry> entry);
    /// The teardown: kills every process of every sandbox, forgets them all and shuts the
    /// runtime down. Synchronous.
    void remove_all();

    /// Runs `command` in the container and returns stdout then stderr (Sync=true exec).
    boost::asio::awaitable<std::variant<std::string, ApiError>> run_sync_exec(
        std::shared_ptr<SandboxEntry> entry, std::string container_name,
        std::vector<std::string> command);
    /// The recent output of the container's main process.
    std::string container_log(const SandboxEntry& entry, const std::string& container_name) const;
    /// The running runtime sandbox of a container, or null.
    std::shared_ptr<SandboxProcesses> container_processes(const SandboxEntry& entry,
                                                          std::string_view container_name) const;
    /// The processes an exec in `container_name` runs in. With the lazy runtime a Running
    /// sandbox gets them here, at its first exec, and concurrent first execs share that one
    /// start. Null when the sandbox is not Running, is deleted or restarted meanwhile, or its
    /// start failed (the group is then Failed, as a start at create leaves it).
    boost::asio::awaitable<std::shared_ptr<SandboxProcesses>> exec_processes(
        std::shared_ptr<SandboxEntry> entry, std::string container_name);
    /// Whether the lazy runtime has yet to start this Running sandbox's processes, or is
    /// starting them.
    static bool start_deferred(const SandboxEntry& entry) noexcept;
    /// Lazy runtime: starts the sandbox's processes in the background if it has none yet.
    /// ExecContainerCommand calls it, so they are usually up when the WebSocket connects.
    void prestart(const std::shared_ptr<SandboxEntry>& entry);
    /// Starts the lazy runtime made at a first exec (/_emulator/stats "deferred_starts").
    std::uint64_t deferred_starts() const noexcept { return deferred_starts_; }
    /// Runtime sandboxes not destroyed, one per started container (/_emulator/stats).
    std::size_t runtime_sandboxes() const;
    /// Processes alive in every sandbox (/_emulator/stats).
    std::size_t live_processes() const;
    /// The start delays drawn so far (/_emulator/stats).
    const StartDelayFigures& start_delays() const noexcept { return start_delays_; }

  private:
    enum class Phase { starting, restarting, terminating };
    /// Why containers start: the sandbox's start, a restart, or the lazy runtime's first exec
    /// (the sandbox already reports Running: its states and events stay as they are).
    enum class StartKind { create, restart, first_exec };

    /// Terminating: the processes die now (no exec reaches them once they leave the entry).
    void begin_termination(const std::shared_ptr<SandboxEntry>& entry);
    /// Moves the entry's processes to its `dying` list.
    static void take_processes(SandboxEntry& entry);
    /// Kills every process of the sandbox and forgets it at once (teardown).
    void remove_now(const std::shared_ptr<SandboxEntry>& entry);
    /// Forgets a sandbox (it is gone from the list).
    void forget(SandboxEntry& entry);
    /// One start's delay in service time: start_delay, or drawn from the range.
    std::chrono::milliseconds draw_start_delay();
    /// Waits `service_delay` (scaled by the time scale) on the entry's phase timer; false
    /// when the phase is over meanwhile (deleted, restarted, server stopping).
    boost::asio::awaitable<bool> wait_phase(std::shared_ptr<SandboxEntry> entry,
                                            std::uint64_t generation,
                                            std::chrono::milliseconds service_delay);
    /// Pulling, then Pulled events over `delay` (image_pull_events): false as wait_phase.
    boost::asio::awaitable<bool> pull_images(std::shared_ptr<SandboxEntry> entry,
                                             std::uint64_t generation,
                                             std::chrono::milliseconds delay);
    /// Each phase first waits for settle_processes().
    boost::asio::awaitable<void> run_phase(std::shared_ptr<SandboxEntry> entry,
                                           std::uint64_t generation, Phase phase);
    /// Destroys the entry's `dying` processes (without blocking the server) and waits until
    /// no start of the entry is under way: then no process of the entry's past runs exists.
    boost::asio::awaitable<void> settle_processes(std::shared_ptr<SandboxEntry> entry);
    boost::asio::awaitable<void> watch_deadline(std::shared_ptr<SandboxEntry> entry);
    boost::asio::awaitable<void> start_containers(std::shared_ptr<SandboxEntry> entry,
                                                  std::uint64_t generation, StartKind kind);
    /// The lazy runtime's start: Running, with the states and events of a start, and no
    /// process until the first exec.
    void defer_start(SandboxEntry& entry, StartKind kind);
    /// A container about to start: its previous state kept, its image reported present.
    void begin_container(ContainerGroup& group, Container& c, StartKind kind,
                         const std::string& now) const;
    /// A container started: Running and ready, with the Created and Started events.
    static void container_started(ContainerGroup& group, Container& c, const std::string& now);
    /// Ends a sandbox that cannot be scheduled as the service does: ScheduleFailed, no
    /// container ever started, a Warning event `NoStock`.
    void fail_scheduling(SandboxEntry& entry);
    void on_main_exit(const std::string& id, std::size_t index, const MainExit& exit);
    void settle(SandboxEntry& entry);
    boost::asio::awaitable<void> restart_container_later(std::shared_ptr<SandboxEntry> entry,
                                                         std::size_t index,
                                                         std::uint64_t generation,
                                                         std::uint64_t run,
                                                         std::chrono::milliseconds delay);
    /// Kills the entry's processes without waiting (they keep their objects, stopped).
    void stop_processes(SandboxEntry& entry);

    Strand strand_;
    const EmulatorOptions& options_;
    SandboxStore& store_;
    const bool& stopping_;
    KeepAlive keep_alive_;
    std::unique_ptr<Runtime> runtime_;
    std::mt19937_64 delay_random_;
    StartDelayFigures start_delays_;
    std::uint64_t deferred_starts_ = 0;
};

}  // namespace eci::emulator
