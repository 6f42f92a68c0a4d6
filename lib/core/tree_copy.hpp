// SPDX-License-Identifier: Apache-2.0
// Sans-io tree copy (upload / download / `cp`): the sandbox-side scripts, the manifest that
// carries each file's SHA-256, and the parsers of what the scripts print. One exec per copy;
// the file bytes travel as a tar stream (core/tar_stream). Pure and thread-safe.
//
// Upload: stdin is the script, a manifest (one line per entry: kind, mode, SHA-256, base64
// path) and a tar stream whose members are "r" (the root) and "r/<path>". The script extracts
// the stream into a hidden staging directory next to the destination, then, entry by entry in
// manifest order, checks each file's SHA-256 and renames it into place, printing a DONE line
// per entry. Download: the script prints a SHA-256 line per file, a start line, then `tar c`
// of the source; the library checks each file as its member ends.
#pragma once

#include "core/tar_stream.hpp"

#include <eci/result.hpp>
#include <eci/tree_transfer.hpp>

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace eci::detail {

/// A sandbox path cut into its directory and last component (trailing '/' ignored).
struct RemotePath {
    std::string parent;  ///< "/" for a top-level path, "." for a bare name
    std::string base;
};

/// Errors: invalid_argument for an empty path, "/", a NUL byte, or a last component of "."
/// or "..".
Result<RemotePath> split_remote_path(std::string_view path);

/// The manifest line of one upload entry (see the header comment).
std::string upload_manifest_line(const TransferredEntry& entry);

/// The member name of an upload entry in the tar stream: "r" or "r/<path>".
std::string upload_member_name(std::string_view relative_path);

/// The upload script. `destination` is the sandbox path given; when it is an existing
/// directory the root lands inside it as `root_name`. `manifest_bytes` and `tar_bytes` are the
/// exact sizes that follow the script on stdin. `nonce` names the staging directory.
/// Errors: those of split_remote_path; invalid_argument for a `root_name` with a '/'.
Result<std::string> upload_script(std::string_view destination, std::string_view root_name,
                                  TransferredEntry::Kind root_kind, std::size_t manifest_bytes,
                                  std::uint64_t tar_bytes, std::string_view nonce);

/// Reads the upload script's stdout as it arrives.
class UploadReplyParser {
  public:
    /// Parses more stdout; returns the manifest indices completed by it, in order.
    std::vector<std::size_t> feed(std::string_view bytes);
    /// The script's verdict once its output ended: ok when it printed its end line.
    /// Errors: not_found (no such destination directory), protocol (a SHA-256 mismatch: that
    /// file was not placed), service (another failure, the shell's text in service_message),
    /// protocol (no end line: the script did not finish).
    Result<void> verdict(const std::vector<TransferredEntry>& entries) const;
    std::string_view destination() const noexcept { return destination_; }

  private:
    void on_line(std::string_view line, std::vector<std::size_t>& done);
    std::string line_;
    bool ended_ = false;
    std::optional<std::size_t> mismatch_;
    std::string mismatch_hash_;
    std::optional<std::string> failed_;
    bool not_found_ = false;
    std::string destination_;
};

/// The download script for `source` (see the header comment).
/// Errors: those of split_remote_path.
Result<std::string> download_script(std::string_view source);

/// Reads the download script's stdout: the SHA-256 lines, then the tar stream (handed to a
/// TarHandler), then the end line with tar's exit status. Memory: one header, one line, and
/// a map of the files' hashes (about 100 bytes per file).
class DownloadStreamParser {
  public:
    /// Errors: protocol (malformed lines, corrupt tar, a listing over `max_lines` bytes, an
    /// oversize trailer); those of `handler`.
    Result<void> feed(std::string_view bytes, TarHandler& handler);
    /// The SHA-256 the sandbox computed for the member `name`, if it listed one.
    const std::string* sha256_of(const std::string& name) const;
    /// The verdict once the output ended: ok when the tar stream ended and tar exited 0.
    /// Errors: not_found (no such source), service (tar or sha256sum failed: its status),
    /// protocol (the stream ended early).
    Result<void> verdict() const;
    bool in_tar() const noexcept { return phase_ == Phase::tar; }

  private:
    enum class Phase { listing, tar, trailer };
    Result<void> on_listing_line(std::string_view line);
    Phase phase_ = Phase::listing;
    std::string line_;
    std::map<std::string, std::string, std::less<>> hashes_;
    TarReader tar_;
    std::string trailer_;
    bool not_found_ = false;
    std::optional<std::string> failed_;
};

}  // namespace eci::detail
