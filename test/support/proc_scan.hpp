// SPDX-License-Identifier: Apache-2.0
// Process checks straight from /proc, on purpose independent of the emulator's own scanner:
// which processes carry a marker, which are children of a process.
#pragma once

#include <set>
#include <string>
#include <utility>
#include <vector>

namespace eci::test {

/// Every pid in /proc with `file` (under /proc/<pid>/) read whole; empty for a process that
/// vanished while it was read.
std::vector<std::pair<int, std::string>> read_proc_files(const char* file);

/// Pids whose environment holds `marker` ("NAME=value"). Zombies have an empty environment.
std::vector<int> pids_with_marker(const std::string& marker);

/// The children of `parent`, zombies included.
std::set<int> children_of(int parent);

}  // namespace eci::test
