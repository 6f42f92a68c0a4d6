// SPDX-License-Identifier: Apache-2.0
#include "emulator/sandbox_store.hpp"

#include <algorithm>

namespace eci::emulator {

std::shared_ptr<SandboxEntry> SandboxStore::add(ContainerGroup group) {
    auto entry = std::make_shared<SandboxEntry>();
    entry->sequence = next_sequence_++;
    entry->group = std::move(group);
    entries_[entry->group.container_group_id] = entry;
    return entry;
}

std::shared_ptr<SandboxEntry> SandboxStore::find(std::string_view id) const {
    auto it = entries_.find(id);
    return it == entries_.end() ? nullptr : it->second;
}

void SandboxStore::erase(std::string_view id) {
    if (auto it = entries_.find(id); it != entries_.end())
        entries_.erase(it);
}

std::vector<std::shared_ptr<SandboxEntry>> SandboxStore::all() const {
    std::vector<std::shared_ptr<SandboxEntry>> out;
    out.reserve(entries_.size());
    for (const auto& [id, entry] : entries_)
        out.push_back(entry);
    std::sort(out.begin(), out.end(),
              [](const auto& a, const auto& b) { return a->sequence < b->sequence; });
    return out;
}

const ClientTokenRecord* SandboxStore::find_token(std::string_view token) const {
    auto it = tokens_.find(token);
    return it == tokens_.end() ? nullptr : &it->second;
}

void SandboxStore::remember_token(std::string token, ClientTokenRecord record) {
    tokens_[std::move(token)] = std::move(record);
}

}  // namespace eci::emulator
