// SPDX-License-Identifier: Apache-2.0
#include "core/lease.hpp"

#include "core/time_format.hpp"

#include <fmt/format.h>

#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace eci::detail {

namespace {

constexpr std::size_t max_tag_value = 128;
constexpr std::size_t max_tags = 20;

// The state letter and start ticks of /proc/PID/stat; nullopt when there is no such process.
struct StatFields {
    char state = '?';
    std::uint64_t start_ticks = 0;
};

std::optional<StatFields> read_stat(std::int64_t pid) {
    std::ifstream in(fmt::format("/proc/{}/stat", pid));
    if (!in)
        return std::nullopt;
    std::string line;
    std::getline(in, line);
    // The command name (field 2) is in parentheses and may itself hold spaces or ')'.
    const auto close = line.rfind(')');
    if (close == std::string::npos)
        return std::nullopt;
    std::istringstream rest(line.substr(close + 1));
    StatFields fields;
    rest >> fields.state;
    std::string skipped;
    // Fields 4..21, then 22 is starttime.
    for (int field = 4; field <= 21; ++field)
        rest >> skipped;
    rest >> fields.start_ticks;
    if (!rest)
        return std::nullopt;
    return fields;
}

std::string host_name() {
    char buffer[256] = {};
    if (::gethostname(buffer, sizeof(buffer) - 1) != 0 || buffer[0] == '\0')
        return "localhost";
    return buffer;
}

template <class Int>
std::optional<Int> parse_int(std::string_view text) {
    Int value{};
    const auto* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (ec != std::errc() || ptr != end || text.empty())
        return std::nullopt;
    return value;
}

}  // namespace

std::string ProcessIdentity::to_tag() const {
    return fmt::format("{}/{}/{}", host, pid, start_ticks);
}

std::optional<ProcessIdentity> ProcessIdentity::parse(std::string_view tag) {
    const auto last = tag.rfind('/');
    if (last == std::string_view::npos || last == 0)
        return std::nullopt;
    const auto middle = tag.rfind('/', last - 1);
    if (middle == std::string_view::npos || middle == 0)
        return std::nullopt;
    auto pid = parse_int<std::int64_t>(tag.substr(middle + 1, last - middle - 1));
    auto ticks = parse_int<std::uint64_t>(tag.substr(last + 1));
    if (!pid || !ticks || *pid <= 0)
        return std::nullopt;
    return ProcessIdentity{std::string(tag.substr(0, middle)), *pid, *ticks};
}

const ProcessIdentity& this_process() {
    static const ProcessIdentity identity = [] {
        ProcessIdentity self;
        self.host = host_name();
        self.pid = static_cast<std::int64_t>(::getpid());
        if (auto stat = read_stat(self.pid))
            self.start_ticks = stat->start_ticks;
        return self;
    }();
    return identity;
}

std::string default_owner() {
    std::string user;
    if (const char* env = std::getenv("USER"); env && *env) {
        user = env;
    } else if (const passwd* entry = ::getpwuid(::getuid()); entry && entry->pw_name) {
        user = entry->pw_name;
    } else {
        user = fmt::format("uid{}", ::getuid());
    }
    auto owner = fmt::format("{}@{}", user, host_name());
    if (owner.size() > max_tag_value)
        owner.resize(max_tag_value);
    return owner;
}

bool process_alive(const ProcessIdentity& identity) {
    if (identity.host != this_process().host)
        return true;  // another machine: we cannot know, so never call it dead
    const auto stat = read_stat(identity.pid);
    if (!stat)
        return false;
    if (stat->state == 'Z' || stat->state == 'X')
        return false;                                  // killed, not yet waited for
    return stat->start_ticks == identity.start_ticks;  // else the pid was reused
}

Result<void> check_tag_value(std::string_view value, std::string_view what) {
    auto invalid = [&](std::string_view why) {
        return Error::make(ErrorKind::invalid_argument, fmt::format("{} {}", what, why));
    };
    if (value.size() > max_tag_value)
        return invalid("is longer than 128 characters");
    if (value.starts_with("aliyun") || value.starts_with("acs:"))
        return invalid("must not start with 'aliyun' or 'acs:'");
    if (value.find("http://") != std::string_view::npos ||
        value.find("https://") != std::string_view::npos)
        return invalid("must not contain 'http://' or 'https://'");
    return {};
}

std::string effective_owner(const LeaseConfig& config) {
    return config.owner.empty() ? default_owner() : config.owner;
}

std::optional<std::string> find_tag(const std::vector<Tag>& tags, std::string_view key) {
    for (const auto& tag : tags) {
        if (tag.key == key)
            return tag.value;
    }
    return std::nullopt;
}

Result<std::vector<Tag>> with_lease_tags(std::vector<Tag> tags, const LeaseConfig& config,
                                         std::optional<std::chrono::seconds> lease,
                                         std::chrono::system_clock::time_point now) {
    if (!config.tag_sandboxes)
        return tags;
    const auto owner = effective_owner(config);
    if (auto valid = check_tag_value(owner, "the lease owner"); !valid.ok())
        return std::move(valid).error();
    const auto expires =
        lease && lease->count() > 0
            ? format_utc_timestamp(now + std::chrono::ceil<std::chrono::seconds>(*lease))
            : std::string(lease_tags::never);
    auto add = [&](std::string_view key, std::string value) {
        if (!find_tag(tags, key))
            tags.push_back(Tag{std::string(key), std::move(value)});
    };
    add(lease_tags::owner, owner);
    add(lease_tags::lease_expires, expires);
    add(lease_tags::process, this_process().to_tag());
    if (tags.size() > max_tags) {
        return Error::make(ErrorKind::invalid_argument,
                           fmt::format("a sandbox takes at most {} tags and the lease needs 3: "
                                       "pass at most 17 of your own, or turn lease tagging off",
                                       max_tags));
    }
    return tags;
}

std::optional<ReapReason> reap_reason(const std::vector<Tag>& tags, std::string_view owner,
                                      bool all_owners, bool include_orphans,
                                      std::chrono::system_clock::time_point now,
                                      const std::function<bool(const ProcessIdentity&)>& alive) {
    const auto tagged_owner = find_tag(tags, lease_tags::owner);
    if (!tagged_owner || (!all_owners && *tagged_owner != owner))
        return std::nullopt;
    if (const auto lease = find_tag(tags, lease_tags::lease_expires)) {
        if (const auto expires = parse_utc_timestamp(*lease); expires && *expires <= now)
            return ReapReason::lease_expired;
    }
    if (include_orphans) {
        if (const auto tag = find_tag(tags, lease_tags::process)) {
            if (const auto creator = ProcessIdentity::parse(*tag); creator && !alive(*creator))
                return ReapReason::orphaned;
        }
    }
    return std::nullopt;
}

}  // namespace eci::detail

namespace eci {

std::string_view to_string(ReapReason reason) noexcept {
    switch (reason) {
        case ReapReason::lease_expired:
            return "lease_expired";
        case ReapReason::orphaned:
            return "orphaned";
    }
    return "lease_expired";
}

}  // namespace eci
