// SPDX-License-Identifier: Apache-2.0
#include "emulator/runtime/log_ring.hpp"

#include <algorithm>

namespace eci::emulator {

void LogRing::append(std::string_view bytes) {
    total_ += bytes.size();
    if (capacity_ == 0)
        return;
    if (bytes.size() >= capacity_) {
        // Only the newest `capacity_` bytes can survive: restart the ring with them.
        storage_.assign(bytes.substr(bytes.size() - capacity_));
        start_ = 0;
        size_ = capacity_;
        return;
    }
    if (storage_.size() < capacity_) {
        // Still filling: storage_ is linear (start_ == 0) until it reaches capacity_.
        const std::size_t fits = std::min(bytes.size(), capacity_ - storage_.size());
        storage_.append(bytes.substr(0, fits));
        size_ = storage_.size();
        bytes.remove_prefix(fits);
    }
    // Full: overwrite the oldest bytes in place.
    while (!bytes.empty()) {
        const std::size_t chunk = std::min(bytes.size(), capacity_ - start_);
        storage_.replace(start_, chunk, bytes.substr(0, chunk));
        start_ = (start_ + chunk) % capacity_;
        bytes.remove_prefix(chunk);
    }
}

std::string LogRing::tail(std::size_t limit) const {
    const std::size_t count = std::min(limit, size_);
    // The logical sequence is storage_[start_..] followed by storage_[..start_) (start_ is
    // 0 until the ring is full); take its last `count` bytes.
    std::string out;
    out.reserve(count);
    const std::string_view newer(storage_.data(), start_);
    const std::string_view older(storage_.data() + start_, storage_.size() - start_);
    if (count > newer.size())
        out.append(older.substr(older.size() - (count - newer.size())));
    out.append(newer.substr(newer.size() - std::min(count, newer.size())));
    return out;
}

void LogRing::clear() noexcept {
    storage_.clear();
    start_ = 0;
    size_ = 0;
}

}  // namespace eci::emulator
