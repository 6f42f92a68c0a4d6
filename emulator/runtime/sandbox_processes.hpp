// SPDX-License-Identifier: Apache-2.0
// eci::emulator::SandboxProcesses: the live processes of one sandbox.
#pragma once

#include "emulator/runtime/cgroup.hpp"
#include "emulator/runtime/exec_process.hpp"
#include "emulator/runtime/exec_spec.hpp"
#include "emulator/runtime/log_ring.hpp"
#include "emulator/runtime/sandbox_spec.hpp"
#include "emulator/runtime/unique_fd.hpp"

#include <eci/result.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

namespace eci::emulator {

class Runtime;
namespace detail {
struct RuntimeShared;
struct ChildReport;
struct ProgramImage;
}  // namespace detail

/// The processes of one sandbox: its init (isolated mode), its main process, and every exec.
/// Created by Runtime::start. See docs/emulator-runtime.md for the isolation model.
///
/// States: running (after start/restart) and stopped (after stop(), or when the sandbox
/// died); destroy() is final. In both modes "stopped" means no process of the sandbox is
/// alive.
///
/// Lifetime: shared; dropping the last reference destroys the sandbox (kills every process,
/// removes its files). Runtime::shutdown() destroys every sandbox even while referenced.
/// Thread safety: none; call it on the runtime's executor.
class SandboxProcesses : public std::enable_shared_from_this<SandboxProcesses> {
  public:
    /// Only Runtime can create one.
    class Key {
        friend class Runtime;
        Key() = default;
    };
    SandboxProcesses(Key, std::shared_ptr<detail::RuntimeShared> runtime, SandboxSpec spec);
    SandboxProcesses(const SandboxProcesses&) = delete;
    SandboxProcesses& operator=(const SandboxProcesses&) = delete;
    ~SandboxProcesses();

    const std::string& id() const noexcept { return spec_.id; }
    /// Whether this sandbox runs in its own namespaces (false: degraded mode).
    bool isolated() const noexcept;
    bool running() const noexcept { return state_ == State::running; }
    bool destroyed() const noexcept { return state_ == State::destroyed; }
    /// 1 after start, +1 per restart().
    std::uint64_t generation() const noexcept { return generation_; }
    /// Whether the main process of the current run is alive.
    bool main_running() const noexcept { return main_running_; }
    /// How the main process of the current run ended (nullopt while running or idle).
    std::optional<ExitStatus> main_exit() const noexcept { return main_exit_; }

    /// Starts a command inside the sandbox (joining its namespaces in isolated mode), with
    /// the container's environment plus `spec.env`. Completes once the command is executing;
    /// the wait for the child's start report (cgroup joins, setns, fork, execve: tens of
    /// milliseconds under load) does not block the executor. The object must outlive the
    /// call (callers hold it by shared_ptr). Errors: invalid_argument for an empty argv, a bad
    /// variable, a sandbox that is not running, or a program that cannot be executed (not found:
    /// the message says so); service for a system failure; timeout when the child does not report
    /// within RuntimeOptions::kill_timeout.
    boost::asio::awaitable<Result<ExecProcess>> exec(ExecSpec spec);

    /// Kills every process of the sandbox (SIGKILL) and waits until none is left. After
    /// success, no process of the sandbox exists. No effect when stopped. Errors: timeout
    /// when a process did not die within RuntimeOptions::kill_timeout (e.g. stuck in
    /// uninterruptible sleep). Blocks the calling thread (typically milliseconds).
    Result<void> stop();

    /// stop(), then start afresh: new init, new main process, empty /tmp, /root and
    /// /workspace. The log ring is kept. Errors: those of stop() and of Runtime::start.
    Result<void> restart();

    /// stop() and remove the sandbox's files; the id becomes free. Final and idempotent.
    Result<void> destroy();

    /// stop(), restart() and destroy() without blocking the executor: the wait for the killed
    /// processes to be gone and for the kernel to release the cgroup are asynchronous. The
    /// emulator's server uses these, so that 1000 deletes or restarts at once do not hold up
    /// every other connection (issue 14). Calls may overlap: a second stop waits for the
    /// first; a destroy while a stop is under way completes after it. The object must
    /// outlive the call (callers hold it by shared_ptr).
    asio::awaitable<Result<void>> stop_async();
    asio::awaitable<Result<void>> restart_async();
    asio::awaitable<Result<void>> destroy_async();

    /// The last `limit` bytes the main process (and its children) wrote to stdout/stderr,
    /// across restarts, bounded by RuntimeOptions::log_capacity.
    std::string recent_log(std::size_t limit) const;

    /// Live processes of this sandbox, found in /proc (its pid namespace, or in degraded
    /// mode its ECI_EMULATOR_SANDBOX marker). Costs one /proc scan.
    std::size_t live_process_count() const;

    /// Isolated mode: the pid (in the emulator's namespace) of the sandbox's init, else -1.
    /// For diagnostics and tests; killing it from outside is reported as `sandbox_lost`.
    pid_t init_pid() const noexcept { return init_pid_; }

    /// The pid-namespace inode of the running sandbox (isolated mode), else 0.
    ino_t pid_namespace() const noexcept { return pid_namespace_; }

    /// Degraded mode: the directory holding the sandbox's home, tmp and workspace.
    std::filesystem::path files_dir() const;

  private:
    friend class Runtime;
    enum class State { stopped, running, destroyed };

    /// A sandbox init spawned, its id maps written, its ready report not yet read. Dropped
    /// without being adopted (an asynchronous launch abandoned at shutdown), it kills the init.
    struct PendingInit {
        pid_t pid = -1;
        detail::UniqueFd pidfd;
        detail::UniqueFd report;  // read end of the status pipe
        std::chrono::milliseconds kill_timeout{0};

        PendingInit() = default;
        PendingInit(PendingInit&&) noexcept = default;
        PendingInit& operator=(PendingInit&&) noexcept = default;
        ~PendingInit();
    };

    // launch() = begin_launch(), then the runtime mode's start, then end_launch(). Only the
    // wait for the init's ready report differs between launch() and launch_async().
    Result<void> launch();
    asio::awaitable<Result<void>> launch_async();
    struct LaunchPlan;
    Result<LaunchPlan> begin_launch();
    Result<void> end_launch(Result<void> launched);
    Result<PendingInit> spawn_isolated(const detail::ProgramImage* main_image, int log_fd);
    Result<void> adopt_isolated(PendingInit init,
                                Result<std::optional<detail::ChildReport>> report);
    Result<void> launch_degraded(const detail::ProgramImage* main_image, int log_fd);
    std::vector<std::pair<std::string, std::string>> process_env(
        const std::vector<std::pair<std::string, std::string>>& extra, bool tty) const;
    std::string default_working_dir() const;
    std::vector<std::string> markers() const;
    Result<void> kill_degraded();
    void close_descriptors() noexcept;
    void forget_files();    // degraded mode: the sandbox's home, tmp and workspace
    void finish_destroy();  // after the stop: final state, files gone, the id free

    void arm_init_watch();
    void arm_status_read();
    void arm_log_watch();
    void arm_main_watch();
    bool drain_log() noexcept;
    void notify(const MainExit& event);

    std::shared_ptr<detail::RuntimeShared> runtime_;
    SandboxSpec spec_;
    State state_ = State::stopped;
    std::uint64_t generation_ = 0;
    bool main_running_ = false;
    std::optional<ExitStatus> main_exit_;
    LogRing log_;

    pid_t init_pid_ = -1;  // isolated
    ino_t pid_namespace_ = 0;
    std::optional<asio::posix::stream_descriptor> init_pidfd_;
    std::optional<asio::posix::stream_descriptor> status_pipe_;
    std::unique_ptr<detail::ChildReport> status_record_;
    pid_t main_pid_ = -1;  // degraded
    std::optional<asio::posix::stream_descriptor> main_pidfd_;
    std::optional<asio::posix::stream_descriptor> log_pipe_;
    std::optional<detail::SandboxCgroup> cgroup_;   // isolated, when limits are enforced
    std::optional<std::uint32_t> userns_first_id_;  // host id of our root (user namespace)
    // Set while stop_async() waits; cancelled when it is done (other callers wait on it).
    std::shared_ptr<asio::steady_timer> stopping_;
};

}  // namespace eci::emulator
