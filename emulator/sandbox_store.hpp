// SPDX-License-Identifier: Apache-2.0
// SandboxStore: the emulator's container groups (as the service would describe them), their
// creation order for paging, and the ClientTokens of creates. Sans-io bookkeeping; the
// lifecycle (lifecycle.cpp) drives statuses and processes.
#pragma once

#include "emulator/runtime/sandbox_processes.hpp"

#include <eci/models.hpp>

#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace eci::emulator {

/// One container group.
struct SandboxEntry {
    ContainerGroup group;                      ///< what DescribeContainerGroups reports
    std::uint64_t sequence = 0;                ///< creation order (paging)
    std::int64_t active_deadline_seconds = 0;  ///< 0 = none
    /// Bumped by restart and delete: a supervisor coroutine with an older generation stops.
    std::uint64_t generation = 0;
    bool removed = false;
    /// One runtime sandbox per container (same index as group.containers) once started.
    std::vector<std::shared_ptr<SandboxProcesses>> processes;
    /// Processes a restart or delete took from `processes`, being destroyed asynchronously.
    std::vector<std::shared_ptr<SandboxProcesses>> dying;
    /// The pending Pending->Running, Restarting->Running or Terminating->gone step.
    std::unique_ptr<boost::asio::steady_timer> phase_timer;
    /// ActiveDeadlineSeconds, counted from creation.
    std::unique_ptr<boost::asio::steady_timer> deadline_timer;
    /// Set while containers start (the runtime's start is asynchronous); cancelled when the
    /// start is over, which wakes a restart or delete waiting for it.
    std::shared_ptr<boost::asio::steady_timer> starting;
    /// Running without processes yet: the lazy runtime starts them at the first exec.
    bool deferred = false;
};

/// What a ClientToken was first used with.
struct ClientTokenRecord {
    std::string fingerprint;  ///< canonical business params of the create
    std::string container_group_id;
};

class SandboxStore {
  public:
    /// Adds a new entry; assigns its sequence.
    std::shared_ptr<SandboxEntry> add(ContainerGroup group);
    std::shared_ptr<SandboxEntry> find(std::string_view id) const;
    void erase(std::string_view id);
    /// Every entry in creation order.
    std::vector<std::shared_ptr<SandboxEntry>> all() const;
    std::size_t size() const noexcept { return entries_.size(); }

    const ClientTokenRecord* find_token(std::string_view token) const;
    void remember_token(std::string token, ClientTokenRecord record);

  private:
    std::uint64_t next_sequence_ = 1;
    std::map<std::string, std::shared_ptr<SandboxEntry>, std::less<>> entries_;
    std::map<std::string, ClientTokenRecord, std::less<>> tokens_;
};

}  // namespace eci::emulator
