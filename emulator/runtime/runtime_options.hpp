// SPDX-License-Identifier: Apache-2.0
// eci::emulator::RuntimeOptions: how the sandbox runtime is set up.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string_view>

namespace eci::emulator {

/// The network a sandbox's processes see.
enum class SandboxNetwork {
    /// Default: a private network namespace with only a loopback interface (up). Nothing in
    /// the sandbox can reach the emulator's API, the host's services or the internet.
    none,
    /// The host's network namespace: every address the host can reach, including the
    /// emulator's API port and other loopback services (opt in: --sandbox-network host).
    host,
};

/// Options of Runtime::create. Every field has a usable default.
struct RuntimeOptions {
    /// Directory for the runtime's own files: the sandbox root mountpoint (isolated mode) and
    /// per-sandbox home/tmp/workspace directories (degraded mode). Created when missing.
    /// Empty (default): a fresh directory under the system temp dir, removed by shutdown().
    /// Keep it short in degraded mode: tmux's socket path ($TMUX_TMPDIR/tmux-<uid>/default)
    /// must fit in 107 bytes.
    std::filesystem::path state_dir;

    /// Never use namespaces, even as root (tests use it to cover degraded mode).
    bool force_degraded = false;

    /// The sandboxes' network (isolated mode; degraded mode always shares the host's).
    SandboxNetwork sandbox_network = SandboxNetwork::none;

    /// Isolated mode: each sandbox gets its own user namespace, in which ids 0-65535 (root
    /// included) are the host's `userns_base + 65536 * n` onward, n being the lowest range
    /// no live sandbox holds. Root inside then has no privilege over anything of the host:
    /// host files are owned by ids that do not exist inside, so its capabilities do not
    /// apply to them. Where the kernel refuses (user.max_user_namespaces = 0, some nested
    /// containers) the runtime falls back to sandboxes without one, and says so (warning,
    /// Runtime::userns_reason()). false: never (--sandbox-userns off).
    bool user_namespace = true;

    /// First host id of the sandboxes' ranges (--sandbox-userns-base). Default 1000000000:
    /// above the ranges useradd hands out in /etc/subuid (100000-600100000), so sandbox ids
    /// are nobody else's, and visibly so in `ps` on the host. At least 65536 (the range may
    /// never hold the host's root or system users).
    std::uint32_t userns_base = 1'000'000'000;

    /// Most processes (and threads) one sandbox may have at once, enforced with the pids
    /// cgroup controller: a fork bomb fails inside its sandbox. 0 = no limit. Default 1024.
    std::uint64_t pids_limit = 1024;

    /// The eci-sandbox-init program each isolated sandbox executes as its pid 1. Empty
    /// (default): `eci-sandbox-init` next to the running executable, else the one built with
    /// this tree (ECI_SANDBOX_INIT_PATH). Not found: degraded mode, with the reason.
    std::filesystem::path init_program;

    /// Bytes of the main process's stdout+stderr kept per sandbox (DescribeContainerLog).
    /// Default 1 MiB; 0 keeps nothing.
    std::size_t log_capacity = 1024 * 1024;

    /// How long stop/restart/delete wait for every process of a sandbox to die after
    /// SIGKILL, and how long start/exec wait for a child to report. Default 10 s.
    std::chrono::milliseconds kill_timeout{10'000};

    /// Exec children starting at once (between clone and their execve): further starts wait
    /// in FIFO order without blocking the emulator's thread. Each start joins cgroups and
    /// namespaces, which the kernel serialises (a cgroup v1 join waits out an RCU grace
    /// period); with no bound, a few hundred starts at once each took longer than
    /// kill_timeout. Default 2; 0 = no bound.
    std::size_t parallel_exec_starts = 2;

    /// Sandbox inits starting at once through Runtime::start_async (between clone and their
    /// ready report), for the same reason: 100 creates at once on 2 cores, each init joining
    /// its cgroups and mounting its root together, starved the execs of the sandboxes that were
    /// already running ("faults e2e: 100 lifecycles" completed none in time). Before starts were
    /// asynchronous they ran one at a time. Default 2; 0 = no bound.
    std::size_t parallel_sandbox_starts = 2;

    /// Tests only: the kernel is taken to refuse every user namespace (EPERM, as with
    /// user.max_user_namespaces = 0), so the fallback can be tested. Default false.
    bool refuse_user_namespaces = false;

    /// Tests only: every exec child stalls this long right after it is cloned, with every
    /// signal still blocked, like a child stuck before it could act on SIGTERM. Default 0.
    std::chrono::milliseconds exec_child_stall{0};

    /// Tests only: every sandbox init stalls this long right after it is cloned, before it
    /// builds its root, like an init slowed down by a loaded machine. Default 0.
    std::chrono::milliseconds init_child_stall{0};

    /// Receives warnings (e.g. "running in degraded mode because ..."). Default: a line on
    /// stderr. Called on the thread that calls Runtime functions.
    std::function<void(std::string_view)> warning;
};

}  // namespace eci::emulator
