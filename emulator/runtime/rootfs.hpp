// SPDX-License-Identifier: Apache-2.0
// The root filesystem of an isolated sandbox: a read-only view of the host with private
// /tmp, /root and /workspace tmpfs, a fresh /proc (its kernel knobs read-only) and a
// minimal /dev (a few character devices, a private devpts and /dev/shm; no host disks).
#pragma once

#include "emulator/runtime/spawn.hpp"

#include <eci/result.hpp>

#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace eci::emulator::detail {

/// One top-level entry of the host's "/" as it appears in a sandbox.
struct RootfsEntry {
    enum class Kind { directory, file, symlink };
    Kind kind = Kind::directory;
    std::string host_path;    ///< e.g. "/usr" (bind source)
    std::string target;       ///< e.g. "usr" (relative to the new root)
    std::string link_target;  ///< for symlinks, e.g. "usr/bin"
};

/// Every path the sandbox init needs, computed once per Runtime before any fork (the child
/// only reads these strings). All sandboxes share the same mountpoint directory: each
/// mounts over it in its own private mount namespace, then pivots into it.
struct RootfsPlan {
    std::string root;  ///< the (empty) host directory the new root is mounted on
    std::vector<RootfsEntry> entries;
    std::vector<std::string> mountpoints;  ///< directories to create in the new root
    /// Relative to the new root (the child works from inside it), e.g. "tmp", "dev/pts".
    std::string tmp, home, workspace, proc, dev, dev_shm, dev_pts, dev_ptmx;
    /// Host character devices bound into the sandbox's /dev: {host path, target}.
    std::vector<std::pair<std::string, std::string>> devices;
    /// Symlinks in the sandbox's /dev: {link target, path}.
    std::vector<std::pair<std::string, std::string>> dev_links;
    /// Parts of the sandbox's /proc made read-only (kernel knobs such as core_pattern).
    std::vector<std::string> proc_readonly;
};

/// Mount options of a sandbox's private tmpfs mounts, built per sandbox before forking.
struct TmpfsOptions {
    std::string tmp = "mode=1777", home = "mode=0700", workspace = "mode=0755", shm = "mode=1777";
    /// Each mount sized half the sandbox's `memory` bytes (0: the kernel's default, half the
    /// host's memory), so filling one fails with ENOSPC while the sandbox still has memory to
    /// run. Pages written there are charged to the sandbox's memory cgroup: filling several
    /// ends like a memory hog (the kernel's OOM killer acts inside the sandbox).
    static TmpfsOptions sized(std::uint64_t memory);
};

/// Lists the host's "/" and builds the plan. /proc, /dev, /tmp, /root and /workspace are
/// not taken from the host. Errors: service when the mountpoint cannot be created or "/"
/// cannot be listed.
Result<RootfsPlan> make_rootfs_plan(const std::filesystem::path& mountpoint);

/// Child side, async-signal-safe. Called as pid 1 of a fresh pid namespace inside a fresh
/// mount namespace: builds the root per `plan` and pivots into it. With
/// `become_namespace_root` (a fresh user namespace, its maps written) it becomes the
/// namespace's root once inside the new root's tmpfs, so every file and mount it makes
/// belongs to the sandbox's root. Returns ChildStage::none on success, else the failed
/// stage with errno set.
ChildStage child_enter_rootfs(const RootfsPlan& plan, const TmpfsOptions& tmpfs,
                              bool become_namespace_root) noexcept;

}  // namespace eci::emulator::detail
