// SPDX-License-Identifier: Apache-2.0
// eci::emulator::LogRing: the last N bytes a container's main process wrote.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace eci::emulator {

/// A bounded byte buffer that keeps the most recent `capacity` bytes appended to it (older
/// bytes are dropped). Backs DescribeContainerLog. Not thread-safe.
class LogRing {
  public:
    /// `capacity` of 0 keeps nothing.
    explicit LogRing(std::size_t capacity) : capacity_(capacity) {}

    /// Appends bytes, dropping the oldest ones beyond capacity.
    void append(std::string_view bytes);

    /// The last `limit` bytes kept (all of them when `limit` exceeds size()), oldest first.
    std::string tail(std::size_t limit) const;

    std::size_t size() const noexcept { return size_; }
    std::size_t capacity() const noexcept { return capacity_; }
    /// Bytes ever appended, including those dropped.
    std::size_t total_appended() const noexcept { return total_; }
    void clear() noexcept;

  private:
    std::size_t capacity_;
    std::string storage_;    // grows up to capacity_, then used circularly
    std::size_t start_ = 0;  // index of the oldest byte once storage_ is full
    std::size_t size_ = 0;
    std::size_t total_ = 0;
};

}  // namespace eci::emulator
