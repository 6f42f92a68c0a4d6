// SPDX-License-Identifier: Apache-2.0
// Finding a sandbox's processes by looking at /proc.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <string>
#include <unordered_set>
#include <vector>

namespace eci::emulator::detail {

/// Pids of live (non-zombie) processes whose initial environment contains every entry of
/// `markers` (each "NAME=value", matched exactly). Processes that vanish while scanning
/// are skipped. Never includes the calling process.
std::vector<pid_t> find_marked_processes(const std::vector<std::string>& markers);

/// The inode of the pid namespace of `pid` (0 when the process is gone).
ino_t pid_namespace_of(pid_t pid);

/// How many live (non-zombie) processes belong to one of the pid namespaces in `namespaces`.
std::size_t count_processes_in_namespaces(const std::unordered_set<ino_t>& namespaces);

/// The process group of `pid` (-1 when the process is gone).
pid_t process_group_of(pid_t pid);

}  // namespace eci::emulator::detail
