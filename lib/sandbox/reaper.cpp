// SPDX-License-Identifier: Apache-2.0
// AsyncEciSandbox::reap and its blocking twin: find the sandboxes this library tagged whose
// lease expired or whose creator is gone, and delete them (docs/leases.md).
#include <eci/async_sandbox.hpp>
#include <eci/blocking.hpp>

#include "core/lease.hpp"
#include "sandbox/blocking_runtime.hpp"
#include "sandbox/sandbox_state.hpp"

#include <functional>

namespace eci {
namespace asio = boost::asio;

std::string AsyncEciSandbox::lease_owner() const {
    return detail::effective_owner(state_->api.config().lease);
}

asio::awaitable<Result<ReapReport>> AsyncEciSandbox::reap(ReapOptions options) {
    const auto owner = options.owner.empty() ? lease_owner() : options.owner;
    const auto now = options.now.value_or(std::chrono::system_clock::now());

    // The service filters by tag; an empty value is meant to match any owner (the emulator
    // does; the real service's behaviour is not documented), and the owner is checked again
    // below either way.
    ListOptions listing;
    listing.limit = 20;
    listing.tags.push_back(
        Tag{std::string(lease_tags::owner), options.all_owners ? std::string() : owner});
    auto listed = co_await list_all(std::move(listing));
    if (!listed.ok())
        co_return std::move(listed).error();

    ReapReport report;
    report.dry_run = options.dry_run;
    const std::function<bool(const detail::ProcessIdentity&)> alive = detail::process_alive;
    for (const auto& info : *listed) {
        const auto& tags = info.group.tags;
        if (!detail::find_tag(tags, lease_tags::owner))
            continue;
        const auto reason = detail::reap_reason(tags, owner, options.all_owners,
                                                options.include_orphans, now, alive);
        if (detail::find_tag(tags, lease_tags::owner) == owner || options.all_owners)
            ++report.examined;
        if (!reason)
            continue;
        ReapCandidate candidate;
        candidate.sandbox_id = info.sandbox_id;
        candidate.name = info.name;
        candidate.status = info.status;
        candidate.owner = detail::find_tag(tags, lease_tags::owner).value_or("");
        candidate.lease_expires = detail::find_tag(tags, lease_tags::lease_expires).value_or("");
        candidate.process = detail::find_tag(tags, lease_tags::process).value_or("");
        candidate.reason = *reason;
        report.found.push_back(std::move(candidate));
    }
    if (options.dry_run)
        co_return report;

    for (const auto& candidate : report.found) {
        auto removed = co_await remove(candidate.sandbox_id, options.force);
        if (removed.ok()) {
            report.deleted.push_back(candidate.sandbox_id);
            continue;
        }
        if (removed.error().kind == ErrorKind::cancelled)
            co_return std::move(removed).error();
        report.failed.push_back(ReapFailure{candidate.sandbox_id, std::move(removed).error()});
    }
    co_return report;
}

Result<ReapReport> EciSandbox::reap(ReapOptions options) {
    return runtime_->call<ReapReport>(
        [client = *runtime_->client, options = std::move(options)]() mutable {
            return client.reap(std::move(options));
        });
}

std::string EciSandbox::lease_owner() const {
    return runtime_->client->lease_owner();
}

}  // namespace eci
