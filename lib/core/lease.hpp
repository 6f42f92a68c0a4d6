// SPDX-License-Identifier: Apache-2.0
// Lease tags without I/O beyond this process: who we are (owner, process identity), the tags
// a create carries, and which listed sandboxes reap() selects.
#pragma once

#include <eci/config.hpp>
#include <eci/models.hpp>
#include <eci/reaper.hpp>
#include <eci/result.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace eci::detail {

/// The identity of a process: host name, pid and its start time in clock ticks since boot
/// (field 22 of /proc/PID/stat), which tells a live process from a later one reusing its pid.
struct ProcessIdentity {
    std::string host;
    std::int64_t pid = 0;
    std::uint64_t start_ticks = 0;
    /// `<host>/<pid>/<start_ticks>`, the value of the process tag.
    std::string to_tag() const;
    /// Parses a process tag; nullopt when malformed.
    static std::optional<ProcessIdentity> parse(std::string_view tag);
};

/// This process's identity (computed once). Thread-safe.
const ProcessIdentity& this_process();

/// The default owner, `<user>@<host>` (USER, else the passwd entry, else the uid). Thread-safe.
std::string default_owner();

/// Whether the process `identity` names is still running. Only answerable on its own host:
/// true ("don't know, assume alive") for another host. Linux /proc. Thread-safe.
bool process_alive(const ProcessIdentity& identity);

/// Checks a tag value against the service's rules (<= 128 chars, not starting with `aliyun`
/// or `acs:`, no `http://` or `https://`). Errors: invalid_argument naming `what`.
Result<void> check_tag_value(std::string_view value, std::string_view what);

/// The effective owner: `config.owner`, or default_owner() when empty.
std::string effective_owner(const LeaseConfig& config);

/// `tags` plus the lease tags (those not already set by the caller) for a sandbox created at
/// `now` with `lease` (nullopt or zero = no lease: `never`). Unchanged when tagging is off.
/// Errors: invalid_argument when the owner breaks the tag rules or there would be more than
/// 20 tags.
Result<std::vector<Tag>> with_lease_tags(std::vector<Tag> tags, const LeaseConfig& config,
                                         std::optional<std::chrono::seconds> lease,
                                         std::chrono::system_clock::time_point now);

/// The value of tag `key` in `tags`, or nullopt.
std::optional<std::string> find_tag(const std::vector<Tag>& tags, std::string_view key);

/// Whether a sandbox with `tags` is to be reaped, and why: nullopt when it has no owner tag,
/// another owner (unless `all_owners`), a lease not yet expired at `now` and (with
/// `include_orphans`) a creator for which `alive` returns true or no process tag.
/// An unparsable lease tag counts as not expired.
std::optional<ReapReason> reap_reason(const std::vector<Tag>& tags, std::string_view owner,
                                      bool all_owners, bool include_orphans,
                                      std::chrono::system_clock::time_point now,
                                      const std::function<bool(const ProcessIdentity&)>& alive);

}  // namespace eci::detail
