// SPDX-License-Identifier: Apache-2.0
// Lease tags without I/O: the tags a create carries, process identities, and which listed
// sandboxes reap() selects.
#include "core/lease.hpp"
#include "core/time_format.hpp"

#include <catch2/catch.hpp>

#include <unistd.h>

using namespace eci;
using namespace eci::detail;
using namespace std::chrono_literals;

namespace {

std::chrono::system_clock::time_point at(std::string_view text) {
    auto parsed = parse_utc_timestamp(text);
    REQUIRE(parsed);
    return *parsed;
}

std::vector<Tag> tags_of(std::string owner, std::string lease, std::string process) {
    return {{std::string(lease_tags::owner), std::move(owner)},
            {std::string(lease_tags::lease_expires), std::move(lease)},
            {std::string(lease_tags::process), std::move(process)}};
}

}  // namespace

TEST_CASE("lease: create adds owner, RFC 3339 expiry and process tags", "[lease]") {
    LeaseConfig config;
    config.owner = "ci-runner-7";
    auto tags = with_lease_tags({{"team", "infra"}}, config, 90s, at("2026-11-26T23:00:00Z"));
    REQUIRE(tags.ok());
    REQUIRE(tags->size() == 4);
    CHECK((*tags)[0] == Tag{"team", "infra"});
    CHECK(find_tag(*tags, lease_tags::owner) == "ci-runner-7");
    CHECK(find_tag(*tags, lease_tags::lease_expires) == "2026-11-26T23:01:30Z");
    auto process = find_tag(*tags, lease_tags::process);
    REQUIRE(process);
    auto identity = ProcessIdentity::parse(*process);
    REQUIRE(identity);
    CHECK(identity->pid == static_cast<std::int64_t>(::getpid()));
    CHECK(identity->host == this_process().host);
}

TEST_CASE("lease: no lease is tagged never, caller tags win, tagging can be off", "[lease]") {
    LeaseConfig config;
    config.owner = "me";
    auto tags = with_lease_tags({{std::string(lease_tags::owner), "someone-else"}}, config,
                                std::nullopt, at("2026-11-26T23:00:00Z"));
    REQUIRE(tags.ok());
    CHECK(tags->size() == 3);
    CHECK(find_tag(*tags, lease_tags::owner) == "someone-else");
    CHECK(find_tag(*tags, lease_tags::lease_expires) == "never");

    config.tag_sandboxes = false;
    auto untouched = with_lease_tags({{"a", "b"}}, config, 60s, at("2026-11-26T23:00:00Z"));
    REQUIRE(untouched.ok());
    CHECK(untouched->size() == 1);
}

TEST_CASE("lease: the default owner is user@host and owners follow the tag rules", "[lease]") {
    const auto owner = default_owner();
    CHECK(owner.find('@') != std::string::npos);
    CHECK(owner.ends_with("@" + this_process().host));

    LeaseConfig config;
    CHECK(effective_owner(config) == owner);
    const std::vector<std::string> bad_owners = {"aliyun-x", "acs:x", "see https://x",
                                                 std::string(129, 'a')};
    for (const auto& bad : bad_owners) {
        config.owner = bad;
        auto tags = with_lease_tags({}, config, 60s, std::chrono::system_clock::now());
        CHECK(tags.error().kind == ErrorKind::invalid_argument);
    }
}

TEST_CASE("lease: more than 20 tags with the lease tags is refused", "[lease]") {
    std::vector<Tag> many;
    for (int i = 0; i < 18; ++i)
        many.push_back({"k" + std::to_string(i), "v"});
    LeaseConfig config;
    config.owner = "me";
    auto tags = with_lease_tags(many, config, 60s, std::chrono::system_clock::now());
    REQUIRE_FALSE(tags.ok());
    CHECK(tags.error().kind == ErrorKind::invalid_argument);
}

TEST_CASE("lease: process identities round-trip and tell live from dead", "[lease]") {
    const auto& self = this_process();
    CHECK(self.start_ticks > 0);
    auto parsed = ProcessIdentity::parse(self.to_tag());
    REQUIRE(parsed);
    CHECK(parsed->host == self.host);
    CHECK(parsed->pid == self.pid);
    CHECK(parsed->start_ticks == self.start_ticks);
    CHECK(process_alive(self));

    auto reused = self;
    reused.start_ticks += 1;  // same pid, another process
    CHECK_FALSE(process_alive(reused));
    auto elsewhere = self;
    elsewhere.host = "some-other-host.example";
    elsewhere.pid = 999999999;
    CHECK(process_alive(elsewhere));  // unknowable: assumed alive

    CHECK(ProcessIdentity::parse("h/a/1") == std::nullopt);
    CHECK(ProcessIdentity::parse("h/1") == std::nullopt);
    CHECK(ProcessIdentity::parse("/1/2") == std::nullopt);
    auto slashed = ProcessIdentity::parse("odd/host/12/34");
    REQUIRE(slashed);
    CHECK(slashed->host == "odd/host");
}

TEST_CASE("lease: reap selects expired leases and, on request, orphans of our owner", "[lease]") {
    const auto now = at("2026-11-26T23:00:00Z");
    auto dead = [](const ProcessIdentity&) { return false; };
    auto alive = [](const ProcessIdentity&) { return true; };
    const auto expired = tags_of("me", "2026-11-26T22:59:59Z", "h/1/2");
    const auto current = tags_of("me", "2026-11-26T23:00:01Z", "h/1/2");
    const auto never = tags_of("me", "never", "h/1/2");

    CHECK(reap_reason(expired, "me", false, false, now, alive) == ReapReason::lease_expired);
    CHECK(reap_reason(tags_of("me", "2026-11-26T23:00:00Z", "h/1/2"), "me", false, false, now,
                      alive) == ReapReason::lease_expired);
    CHECK(reap_reason(current, "me", false, false, now, dead) == std::nullopt);
    CHECK(reap_reason(current, "me", false, true, now, dead) == ReapReason::orphaned);
    CHECK(reap_reason(current, "me", false, true, now, alive) == std::nullopt);
    CHECK(reap_reason(never, "me", false, true, now, dead) == ReapReason::orphaned);
    CHECK(reap_reason(never, "me", false, false, now, dead) == std::nullopt);
    // Another owner's sandbox is never ours to reap, unless every owner was asked for.
    CHECK(reap_reason(expired, "you", false, true, now, dead) == std::nullopt);
    CHECK(reap_reason(expired, "you", true, false, now, alive) == ReapReason::lease_expired);
    // Untagged sandboxes (not made by this library) are never touched.
    CHECK(reap_reason({{"team", "x"}}, "me", true, true, now, dead) == std::nullopt);
    // A garbled lease never counts as expired.
    CHECK(reap_reason(tags_of("me", "soon", "h/1/2"), "me", false, false, now, dead) ==
          std::nullopt);
}
