// SPDX-License-Identifier: Apache-2.0
// A sans-io POSIX tar (ustar + pax) writer and a streaming tar reader, for copying trees to
// and from a sandbox (`upload` / `download`). The writer produces headers only: the caller
// streams each file's bytes itself between a header and its padding, so memory stays bounded
// by one chunk whatever the file size. The reader is fed bytes in any pieces and calls a
// handler for each entry and data chunk; it reads ustar, pax ('x', 'g') and GNU long names
// ('L', 'K'), the formats GNU tar and busybox tar write. Pure and thread-safe per object.
#pragma once

#include <eci/result.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace eci::detail {

inline constexpr std::size_t tar_block_size = 512;

/// What a tar entry is.
enum class TarEntryType { file, directory, symlink, hardlink, other };

/// One tar member's metadata.
struct TarEntry {
    TarEntryType type = TarEntryType::file;
    std::string name;         ///< the path inside the archive ('/'-separated, no trailing '/')
    std::uint32_t mode = 0;   ///< permission bits (07777)
    std::uint64_t size = 0;   ///< data bytes (files only; 0 for the others)
    std::string link_target;  ///< symlink target, or hard link's earlier member name
    std::int64_t mtime = 0;   ///< seconds since the epoch
};

/// The header block(s) of `entry`: a pax extended header first when the name or link target
/// does not fit ustar (100 bytes) or the size needs more than 11 octal digits, then the ustar
/// header. Owner is 0:0 without names (the extracting side decides ownership).
/// Errors: invalid_argument for an empty name or a name / target holding a NUL byte.
Result<std::string> tar_header(const TarEntry& entry);

/// The zero bytes that pad `size` data bytes to a whole block.
std::size_t tar_padding(std::uint64_t size) noexcept;

/// The end of an archive: two zero blocks.
std::string tar_end();

/// Receives what a TarReader parses, in archive order. A non-ok result stops the reader and
/// is returned by feed().
class TarHandler {
  public:
    virtual ~TarHandler() = default;
    /// A new member starts (its data, if any, follows through on_data).
    virtual Result<void> on_entry(const TarEntry& entry) = 0;
    /// A piece of the current member's data.
    virtual Result<void> on_data(std::string_view bytes) = 0;
    /// The current member's data is complete.
    virtual Result<void> on_entry_end() = 0;
};

/// A streaming tar parser: feed() bytes as they arrive. Memory is bounded: one header block,
/// plus a pax or GNU long-name payload of at most `max_meta_bytes`.
class TarReader {
  public:
    explicit TarReader(std::size_t max_meta_bytes = 1024 * 1024) : max_meta_(max_meta_bytes) {}

    /// Parses `bytes`. Returns how many were consumed: all of them, unless the end of the
    /// archive (a zero block) was reached, after which nothing more is consumed.
    /// Errors: protocol for a corrupt header (checksum, number fields, oversized metadata);
    /// those of the handler.
    Result<std::size_t> feed(std::string_view bytes, TarHandler& handler);

    /// A zero block was read: the archive ended.
    bool ended() const noexcept { return state_ == State::ended; }
    /// Between members (nothing half read): a stream cut here lost no member's bytes.
    bool at_boundary() const noexcept { return state_ == State::header && block_.empty(); }

  private:
    enum class State { header, data, meta, padding, ended };
    Result<void> on_header(TarHandler& handler);
    void apply_meta();

    std::size_t max_meta_;
    State state_ = State::header;
    std::string block_;  // a header being gathered
    std::uint64_t remaining_ = 0;
    std::size_t padding_ = 0;
    char meta_type_ = 0;  // 'x', 'g', 'L' or 'K' while gathering its payload
    std::string meta_;
    TarEntry pending_;  // overrides from pax / GNU headers for the next member
    bool has_path_ = false;
    bool has_link_ = false;
    bool has_size_ = false;
};

}  // namespace eci::detail
