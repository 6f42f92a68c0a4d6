// SPDX-License-Identifier: Apache-2.0
// Leak prevention: the tags every sandbox the library creates carries (owner, lease expiry,
// creating process), and what `reap()` reports after finding and deleting expired or
// orphaned sandboxes. See docs/leases.md.
#pragma once

#include <eci/error.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace eci {

/// The tag keys the library sets on every sandbox it creates (ClientConfig::lease).
namespace lease_tags {
/// Who owns the sandbox: LeaseConfig::owner, default `<user>@<host>`.
inline constexpr std::string_view owner = "eci-sandbox:owner";
/// When the lease ends, RFC 3339 UTC (`2026-11-26T23:00:00Z`), or `never`.
inline constexpr std::string_view lease_expires = "eci-sandbox:lease-expires";
/// The creating process, `<host>/<pid>/<process start ticks>`: lets reap() tell a sandbox
/// whose creator crashed (same host, that process is gone) from one still in use.
inline constexpr std::string_view process = "eci-sandbox:process";
/// The value of `lease_expires` for a sandbox without a lease.
inline constexpr std::string_view never = "never";
/// A value of `process` for a sandbox meant to outlive its creator (`eci-sandbox create`
/// sets it): no process to watch, so reap() never calls it an orphan; only its lease ends it.
inline constexpr std::string_view detached = "detached";
}  // namespace lease_tags

/// What reap() looks for and does.
struct ReapOptions {
    /// Only sandboxes whose owner tag equals this are considered. Empty (default): the
    /// client's owner (LeaseConfig::owner, or the `<user>@<host>` default).
    std::string owner;
    /// Consider every sandbox carrying an owner tag, whoever owns it (ignores `owner`).
    bool all_owners = false;
    /// Report what would be deleted, delete nothing. Default false.
    bool dry_run = false;
    /// Also reap orphans: sandboxes whose lease has not expired but whose creating process
    /// (the `eci-sandbox:process` tag) ran on this host and no longer exists. Default false:
    /// a sandbox deliberately left running by a short-lived program (a CLI) looks the same.
    bool include_orphans = false;
    /// The time leases are compared with. Default (nullopt): the system clock. Setting a
    /// later time reaps leases that will have expired by then.
    std::optional<std::chrono::system_clock::time_point> now;
    /// Delete with Force (skip the service's grace period). Default true.
    bool force = true;
};

/// Why a sandbox was selected.
enum class ReapReason {
    lease_expired,  ///< its `eci-sandbox:lease-expires` is at or before ReapOptions::now
    orphaned,       ///< its creating process ran on this host and is gone
};

/// "lease_expired" or "orphaned".
std::string_view to_string(ReapReason reason) noexcept;

/// One sandbox reap() selected.
struct ReapCandidate {
    std::string sandbox_id;
    std::string name;
    std::string status;         ///< as listed, e.g. "Running"
    std::string owner;          ///< its owner tag
    std::string lease_expires;  ///< its lease tag, as written
    std::string process;        ///< its process tag
    ReapReason reason = ReapReason::lease_expired;
};

/// A delete that failed.
struct ReapFailure {
    std::string sandbox_id;
    Error error;
};

/// What reap() found and did.
struct ReapReport {
    bool dry_run = false;
    /// Sandboxes with a matching owner tag that were examined (all listing pages).
    int examined = 0;
    /// The expired or orphaned ones, in listing order.
    std::vector<ReapCandidate> found;
    /// Ids deleted (already-gone counts as deleted); empty on a dry run.
    std::vector<std::string> deleted;
    /// Deletes that failed; the others were still attempted.
    std::vector<ReapFailure> failed;
};

}  // namespace eci
