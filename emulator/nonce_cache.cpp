// SPDX-License-Identifier: Apache-2.0
#include "nonce_cache.hpp"

namespace eci::emulator {

NonceCache::NonceCache(Clock::duration window, std::size_t max_entries)
    : window_(window), max_entries_(max_entries == 0 ? 1 : max_entries) {}

void NonceCache::expire(Clock::time_point now) {
    while (!order_.empty() &&
           (now - order_.front().at >= window_ || order_.size() >= max_entries_)) {
        seen_.erase(order_.front().nonce);
        order_.pop_front();
    }
}

bool NonceCache::insert(std::string_view nonce, Clock::time_point now) {
    expire(now);
    std::string key(nonce);
    if (seen_.contains(key))
        return false;
    seen_.insert(key);
    order_.push_back({now, std::move(key)});
    return true;
}

}  // namespace eci::emulator
