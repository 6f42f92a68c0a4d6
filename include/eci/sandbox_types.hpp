// SPDX-License-Identifier: Apache-2.0
// The plain data of the sandbox API: what a sandbox looks like (SandboxInfo), how to create
// one (CreateOptions), how to list them (ListOptions, ListPage, ListSummary) and the receipt
// of a call.
#pragma once

#include <eci/models.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace eci {

/// A sandbox (an ECI container group) as DescribeContainerGroups reports it. Mirrors the
/// Python SandboxInfo; `group` keeps the whole typed model.
struct SandboxInfo {
    std::string sandbox_id;
    std::string name;
    std::string status;  ///< one of eci::status, e.g. "Running"
    double cpu = 0;      ///< vCPU
    double memory = 0;   ///< GiB
    std::string region_id;
    std::string zone_id;
    std::string intranet_ip;
    std::string internet_ip;
    std::string creation_time;  ///< RFC 3339 UTC
    std::vector<Container> containers;
    ContainerGroup group;    ///< the raw model
    std::string request_id;  ///< of the DescribeContainerGroups call that produced it

    /// Builds the info from a described group (request_id left empty).
    static SandboxInfo from_group(ContainerGroup group);
};

/// The parameters of `create`, with the Python package's defaults.
struct CreateOptions {
    std::string image;  ///< required
    /// Normalised as Python does: lower-cased, every char outside [a-z0-9-] becomes '-',
    /// trimmed of '-', cut to 128; shorter than 2 chars or empty: "sandbox-" + 10 random
    /// [a-z0-9].
    std::string name;
    std::string container_name = "sandbox";
    double cpu = 1.0;                  ///< vCPU
    double memory = 2.0;               ///< GiB
    std::vector<std::string> command;  ///< empty = not sent (keeps the image's ENTRYPOINT)
    std::vector<std::string> args;     ///< empty = not sent
    std::vector<EnvironmentVar> env;
    std::vector<ContainerPort> ports;
    std::string v_switch_id;
    std::string security_group_id;
    std::string zone_id;
    std::string instance_type;
    std::string restart_policy;  ///< Always, Never or OnFailure; empty = the service default
    std::vector<Tag> tags;
    bool auto_create_eip = false;
    std::optional<int> eip_bandwidth;
    std::string eip_instance_id;
    /// The sandbox's lifetime (ActiveDeadlineSeconds); nullopt = unlimited, or `lease`.
    std::optional<std::int64_t> active_deadline_seconds;
    /// The sandbox's lease: it is tagged to expire this long after creation, and (unless
    /// active_deadline_seconds is set) the service itself ends it then (ActiveDeadlineSeconds
    /// = the lease). nullopt = LeaseConfig::default_lease (30 minutes unless configured).
    /// eci::no_lease (0) = none: tagged `never`, runs until deleted. Negative is refused
    /// (invalid_argument). See docs/leases.md.
    std::optional<std::chrono::seconds> lease;
    /// Idempotency token; empty = one is generated, and reused by every retry of this call.
    std::string client_token;
    /// Wait until the sandbox is Running before returning (see wait_until_running), so the
    /// handle is ready for exec at once. Default true (since 0.2; it was false, and an exec
    /// right after create then failed while the sandbox was Pending). false returns as soon
    /// as the service has accepted the create.
    bool wait_until_running = true;
    /// Bound of that wait. Default 300 s.
    std::chrono::milliseconds wait_timeout{300000};
    /// What happens to the sandbox when that wait fails, times out or is cancelled. Default
    /// false: create() deletes it (retrying until the service confirms it gone) and returns
    /// the wait's error with Error::sandbox_id set and Error::sandbox_deleted true, so a
    /// failed create leaves nothing running. true: it is left in place for the caller
    /// (Error::sandbox_id, sandbox_deleted false), e.g. to read its events or logs.
    bool keep_on_failure = false;
};

/// The filters of one `list` page, with the Python package's defaults.
struct ListOptions {
    int limit = 20;  ///< clamped to 1..20
    std::string next_token;
    std::string status;
    std::string name;
    std::string security_group_id;
    std::string v_switch_id;
    std::vector<Tag> tags;
    /// list_pages and list_all: the most pages followed (default 1000: 20000 sandboxes, far
    /// above any region's quota). A server whose NextToken never ends fails the listing
    /// (protocol) instead of being followed for ever.
    int max_pages = 1000;
    /// list_all only: the most it keeps, measured as the sandboxes' JSON size (default
    /// 256 MiB). A server sending fat pages fails the listing (protocol) past the bound.
    /// list_pages keeps nothing: one page at a time (at most the 16 MiB reply bound).
    std::size_t max_bytes = 256u * 1024u * 1024u;
};

/// One page of sandboxes.
struct ListPage {
    std::vector<std::string> sandbox_ids;
    std::vector<SandboxInfo> sandboxes;  ///< the same sandboxes, described
    std::string next_token;              ///< empty on the last page
    int total_count = 0;
    int max_results = 0;  ///< the clamped limit
    std::string request_id;
};

/// Called by list_pages with each page as it arrives, which it may keep or move from.
/// Returns true to fetch the next page, false to stop there.
using ListPageHandler = std::function<bool(ListPage page)>;

/// How far list_pages went.
struct ListSummary {
    int pages = 0;              ///< pages handed to the handler
    std::size_t sandboxes = 0;  ///< sandboxes in those pages
    bool stopped = false;       ///< the handler returned false
    /// The NextToken of the last page handed over: empty when the listing ended; after a
    /// stop, pass it as ListOptions::next_token to go on from there.
    std::string next_token;
    std::string request_id;  ///< of the last page
};

/// The receipt of a call that returns nothing else.
struct Receipt {
    std::string request_id;  ///< empty when no call was needed (e.g. delete of a gone sandbox)
};

/// Which part of a container's log to fetch (DescribeContainerLog).
struct LogOptions {
    /// The container. Empty (default): the first container of the group.
    std::string container_name;
    std::optional<int> tail;           ///< the last N lines, 1..2000; default: the service's 500
    std::optional<int> since_seconds;  ///< only lines of the last N seconds, >= 1
    std::optional<int> limit_bytes;    ///< at most N bytes, 1..1048576 (the service's bound)
    bool timestamps = false;           ///< prefix each line with its RFC 3339 time
    bool previous = false;             ///< the run before the last restart (`LastTime`)
};

/// A container's log as DescribeContainerLog returned it (at most 1 MiB).
struct ContainerLog {
    std::string container_name;
    std::string content;
    std::string request_id;
};

}  // namespace eci
