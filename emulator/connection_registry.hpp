// SPDX-License-Identifier: Apache-2.0
// ConnectionRegistry: every open client connection (HTTP keep-alive sessions and exec
// WebSockets) with a way to close it, so that the server's teardown can close them all and
// /_emulator/stats can count them. Sans-io; one strand uses it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>

namespace eci::emulator {

class ConnectionRegistry {
  public:
    /// A registered connection; deregisters it when destroyed.
    class Registration {
      public:
        Registration(ConnectionRegistry& registry, std::uint64_t id) noexcept
            : registry_(&registry), id_(id) {}
        ~Registration() { release(); }
        Registration(const Registration&) = delete;
        Registration& operator=(const Registration&) = delete;
        /// Deregisters now (the connection is handed to another owner that registers it).
        void release() noexcept {
            if (registry_ != nullptr)
                registry_->closers_.erase(id_);
            registry_ = nullptr;
        }

      private:
        ConnectionRegistry* registry_;
        std::uint64_t id_;
    };

    /// Registers an open connection; `close` closes its socket (synchronously).
    [[nodiscard]] Registration add(std::function<void()> close) {
        const std::uint64_t id = next_id_++;
        closers_.emplace(id, std::move(close));
        return Registration(*this, id);
    }

    /// Closes every registered connection and forgets them (their coroutines notice).
    void close_all() {
        auto closers = std::move(closers_);
        closers_.clear();
        for (auto& [id, close] : closers)
            close();
    }

    std::size_t size() const noexcept { return closers_.size(); }

  private:
    std::map<std::uint64_t, std::function<void()>> closers_;
    std::uint64_t next_id_ = 1;
};

}  // namespace eci::emulator
