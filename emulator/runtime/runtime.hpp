// SPDX-License-Identifier: Apache-2.0
// eci::emulator::Runtime: the emulator's sandbox runtime (real processes, isolated).
#pragma once

#include "emulator/runtime/runtime_options.hpp"
#include "emulator/runtime/sandbox_processes.hpp"
#include "emulator/runtime/sandbox_spec.hpp"

#include <eci/result.hpp>

#include <boost/asio/any_io_executor.hpp>

#include <cstdint>
#include <memory>
#include <string>

namespace eci::emulator {

namespace detail {
struct RuntimeShared;
}

/// Runs each sandbox as a set of real Linux processes on the host's userland.
///
/// Isolated mode (root with namespace support): each sandbox has its own mount and pid
/// namespaces over a read-only view of the host with private /tmp, /root, /workspace.
/// Degraded mode (otherwise, or RuntimeOptions::force_degraded): plain processes with a
/// per-sandbox HOME, TMPDIR, TMUX_TMPDIR and working directory. docs/emulator-runtime.md
/// describes both, and what differs from real ECI.
///
/// Process-wide effects of create(): SIGPIPE is ignored (writes to a closed exec stdin
/// must fail with EPIPE, not kill the emulator) and the soft RLIMIT_NOFILE is raised to the
/// hard limit (each sandbox holds a few descriptors). Children get default dispositions.
/// Do not set SIGCHLD to SIG_IGN in the emulator: processes are reaped through pidfds.
///
/// Lifetime: destroy the Runtime, every SandboxProcesses and every ExecProcess before the
/// io_context behind the executor (they own Asio descriptors registered with it).
///
/// Thread safety: none. Create it, and call it and every SandboxProcesses/ExecProcess, on
/// one executor (a single-threaded io_context or a strand). Completion callbacks run there.
class Runtime {
  public:
    /// Prepares the state directory and decides the mode: isolated when running as root and
    /// a probe sandbox starts, else degraded (reported through RuntimeOptions::warning).
    /// Errors: service when the state directory cannot be created or /dev/null opened.
    static Result<std::unique_ptr<Runtime>> create(asio::any_io_executor executor,
                                                   RuntimeOptions options = {});

    Runtime(const Runtime&) = delete;
    Runtime& operator=(const Runtime&) = delete;
    /// shutdown().
    ~Runtime();

    /// Whether sandboxes get their own namespaces.
    bool isolated() const noexcept;
    /// Why the runtime is degraded (empty when isolated).
    const std::string& degraded_reason() const noexcept;
    /// A random token of this runtime, in every process as ECI_EMULATOR_INSTANCE (so two
    /// runtimes on one host never mistake each other's processes).
    const std::string& instance() const noexcept;
    const std::filesystem::path& state_dir() const noexcept;
    /// Whether each sandbox's Cpu, Memory and RuntimeOptions::pids_limit are enforced
    /// (isolated mode with writable cgroup controllers), and how, or why not.
    bool limited() const noexcept;
    const std::string& limits_description() const noexcept;
    /// Whether each sandbox has its own user namespace (isolated mode, RuntimeOptions::
    /// user_namespace, and the kernel allows it); if not, why (empty when it does).
    bool userns() const noexcept;
    const std::string& userns_reason() const noexcept;
    /// The host id of the first sandbox's root (RuntimeOptions::userns_base).
    std::uint32_t userns_base() const noexcept;

    /// Starts a sandbox: its init (isolated mode) and its main process, if any. Blocks until
    /// the init reports ready (milliseconds). Errors: invalid_argument for a bad or already
    /// used id or a bad command/variable; service when the runtime is shut down or the
    /// system refuses; timeout when the init does not report in time.
    Result<std::shared_ptr<SandboxProcesses>> start(SandboxSpec spec);

    /// start() without blocking the executor while the init builds its root: what the
    /// emulator's server uses, so other requests are served meanwhile (issue 14). The id is
    /// taken as soon as the call begins. A sandbox destroyed while it starts (shutdown())
    /// ends the call with a service error and leaves no process.
    asio::awaitable<Result<std::shared_ptr<SandboxProcesses>>> start_async(SandboxSpec spec);

    /// Live processes of every sandbox (one /proc scan): GET /_emulator/stats "processes".
    std::size_t live_process_count() const;
    /// Sandboxes not destroyed.
    std::size_t sandbox_count() const;

    /// Destroys every sandbox (no process survives) and refuses later starts. Idempotent.
    /// Blocks until the processes are gone.
    void shutdown();

  private:
    explicit Runtime(std::shared_ptr<detail::RuntimeShared> shared);
    Result<std::shared_ptr<SandboxProcesses>> make_sandbox(SandboxSpec spec);
    std::shared_ptr<detail::RuntimeShared> shared_;
};

}  // namespace eci::emulator
