// SPDX-License-Identifier: Apache-2.0
// Copying files and directory trees between this machine and a sandbox (`upload`,
// `download`, the CLI's `cp`): options, progress and the result.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace eci {

/// How far a copy is, handed to TransferOptions::on_progress.
struct TransferProgress {
    std::uint64_t bytes_done = 0;   ///< file bytes sent (upload) or received (download)
    std::uint64_t bytes_total = 0;  ///< all file bytes (download: 0 until known)
    std::size_t entries_done = 0;   ///< entries verified and under their final name
    std::size_t entries_total = 0;  ///< entries in the copy (download: 0 until known)
    std::string_view path;          ///< the entry just completed (relative to the root), else empty
};

/// How to copy a tree.
struct TransferOptions {
    /// Deadline of the whole copy (one exec). Default and maximum 600 s, as every exec.
    std::chrono::milliseconds timeout{600000};
    /// The container; empty = the handle's container (or the group's first on the client).
    std::string container_name;
    /// Called as bytes move and as each entry completes, on the thread running the client's
    /// executor. Must not block. Default none.
    std::function<void(const TransferProgress&)> on_progress;
};

/// One entry of a finished copy.
struct TransferredEntry {
    enum class Kind { file, directory, symlink, hardlink };
    Kind kind = Kind::file;
    std::string path;         ///< relative to the copied root ("" is the root itself)
    std::uint32_t mode = 0;   ///< permission bits as copied (files and directories)
    std::uint64_t size = 0;   ///< files: bytes
    std::string sha256;       ///< files: lower-case hex, checked at the receiving end
    std::string link_target;  ///< symlinks: the target, kept as is
};

/// What a copy did. Every entry listed is under its final name and, for a file, verified.
struct TransferResult {
    std::string source;       ///< as given
    std::string destination;  ///< the root's final path (inside the destination directory
                              ///< when the destination was an existing directory)
    std::size_t files = 0;    ///< regular files (hard links included)
    std::uint64_t bytes = 0;  ///< their bytes
    std::vector<TransferredEntry> entries;  ///< in archive order, parents first
    /// Download only: members the copy does not create (devices, FIFOs), relative paths.
    std::vector<std::string> skipped;
    std::string request_id;  ///< of the ExecContainerCommand call
};

}  // namespace eci
