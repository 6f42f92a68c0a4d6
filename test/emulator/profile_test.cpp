// SPDX-License-Identifier: Apache-2.0
// The realistic profile (issue 16): start delays drawn from a range, the service's events on
// the way, per-minute limits per AccessKey and action, and --time-scale; its command line.
#include "harness.hpp"

#include "emulator/account_limits.hpp"
#include "emulator/options.hpp"

#include "core/ecs_metadata.hpp"

#include <array>

using namespace eci::test;
using namespace std::chrono_literals;
using eci::emulator::AccountRateLimitOptions;
using eci::emulator::AccountRateLimits;
using eci::emulator::parse_command_line;

namespace {

std::string parse_error(const std::vector<std::string_view>& args) {
    auto parsed = parse_command_line(args);
    if (parsed)
        return "<parsed>";
    return parsed.error().message;
}

// Every event's Reason, in order.
std::vector<std::string> reasons_of(const boost::json::value& group) {
    std::vector<std::string> reasons;
    for (const auto& event : group.at("Events").as_array())
        reasons.emplace_back(event.at("Reason").as_string());
    return reasons;
}

boost::json::value stats_of(Harness& h) {
    return boost::json::parse(h.emulator->stats_json());
}

}  // namespace

TEST_CASE("emulator profile: the default command line keeps today's fast start and no limits",
          "[emulator][profile]") {
    auto parsed = parse_command_line(SV());
    REQUIRE(parsed);
    const auto& o = parsed->options;
    CHECK(o.start_delay == 300ms);
    CHECK(o.start_delay_max == 0ms);
    CHECK_FALSE(o.image_pull_events);
    CHECK(o.time_scale == 1);
    CHECK_FALSE(o.account_limits.documented);
    CHECK(o.account_limits.per_minute.empty());
    AccountRateLimits limits(o.account_limits, o.time_scale);
    CHECK(limits.per_minute("CreateContainerGroup") == 0);
}

TEST_CASE("emulator profile: --profile realistic and the flags that override it",
          "[emulator][profile]") {
    auto realistic = parse_command_line(SV("--profile", "realistic", "--time-scale", "1000"));
    REQUIRE(realistic);
    CHECK(realistic->options.start_delay == 10'000ms);
    CHECK(realistic->options.start_delay_max == 40'000ms);
    CHECK(realistic->options.image_pull_events);
    CHECK(realistic->options.account_limits.documented);
    CHECK(realistic->options.time_scale == 1000);

    // A flag wins over the profile wherever it stands.
    for (const auto& args : {SV("--start-delay-ms", "5", "--profile", "realistic"),
                             SV("--profile=realistic", "--start-delay-ms=5")}) {
        auto parsed = parse_command_line(args);
        REQUIRE(parsed);
        CHECK(parsed->options.start_delay == 5ms);
        CHECK(parsed->options.start_delay_max == 0ms);
        CHECK(parsed->options.account_limits.documented);
    }
    auto ranged = parse_command_line(SV("--start-delay-ms", "100-200", "--profile", "realistic",
                                        "--rate-limit", "CreateContainerGroup=30/min",
                                        "--rate-limit", "ExecContainerCommand=0/min"));
    REQUIRE(ranged);
    CHECK(ranged->options.start_delay == 100ms);
    CHECK(ranged->options.start_delay_max == 200ms);
    AccountRateLimits limits(ranged->options.account_limits, 1);
    CHECK(limits.per_minute("CreateContainerGroup") == 30);
    CHECK(limits.per_minute("ExecContainerCommand") == 0);  // lifted
    CHECK(limits.per_minute("DescribeContainerGroups") == 2000);
    CHECK(limits.per_minute("RestartContainerGroup") == 500);
    CHECK(limits.per_minute("DeleteContainerGroup") == 1000);
    CHECK(limits.per_minute("DescribeContainerGroupStatus") == 0);  // not documented

    // The contract other programs use is in --help.
    const std::string usage(eci::emulator::usage_text());
    for (const char* flag : {"--profile fast|realistic", "--time-scale K", "--start-delay-ms N|A-B",
                             "--rate-limit Action=N/min"}) {
        CHECK_THAT(usage, Catch::Contains(flag));
    }

    auto fast = parse_command_line(SV("--profile", "fast", "--rate-limit", "Foo=6/min"));
    REQUIRE(fast);
    CHECK(fast->options.start_delay == 300ms);
    CHECK_FALSE(fast->options.account_limits.documented);
    CHECK(AccountRateLimits(fast->options.account_limits, 1).per_minute("Foo") == 6);
}

TEST_CASE("emulator profile: bad ranges, profiles, time scales and limits are refused",
          "[emulator][profile]") {
    CHECK_THAT(parse_error(SV("--start-delay-ms", "40-10")),
               Catch::Contains("--start-delay-ms") && Catch::Contains("above its end"));
    for (const char* bad : {"10-", "-10", "a-b", "10-20-30", "10--20", "", "x"}) {
        INFO(bad);
        CHECK_THAT(parse_error(SV("--start-delay-ms", bad)), Catch::Contains("--start-delay-ms"));
    }
    CHECK_THAT(parse_error(SV("--profile", "slow")),
               Catch::Contains("--profile: unknown profile 'slow'") &&
                   Catch::Contains("fast or realistic"));
    for (const char* bad : {"0", "-1", "-0.5", "abc", "nan", "inf", "1e7", ""}) {
        INFO(bad);
        CHECK_THAT(parse_error(SV("--time-scale", bad)), Catch::Contains("--time-scale"));
    }
    CHECK(parse_command_line(SV("--time-scale", "0.5")));
    for (const char* bad : {"CreateContainerGroup=5", "=5/min", "CreateContainerGroup=x/min",
                            "CreateContainerGroup=-1/min", "CreateContainerGroup"}) {
        INFO(bad);
        CHECK_THAT(parse_error(SV("--rate-limit", bad)), Catch::Contains("--rate-limit"));
    }
}

TEST_CASE("emulator profile: per-minute limits are token buckets per AccessKey and action",
          "[emulator][profile]") {
    AccountRateLimitOptions options;
    options.per_minute["CreateContainerGroup"] = 3;
    // Time scale 1000: the minute lasts 60 ms, a token comes back every 20 ms.
    AccountRateLimits limits(options, 1000);
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < 3; ++i)
        CHECK(limits.admit("key-a", "CreateContainerGroup", t0));
    CHECK_FALSE(limits.admit("key-a", "CreateContainerGroup", t0));
    // Another key has its own budget; another action has none here.
    for (int i = 0; i < 3; ++i)
        CHECK(limits.admit("key-b", "CreateContainerGroup", t0));
    CHECK_FALSE(limits.admit("key-b", "CreateContainerGroup", t0));
    for (int i = 0; i < 100; ++i)
        CHECK(limits.admit("key-a", "DescribeContainerGroups", t0));
    // Refused calls take nothing; a third of the (scaled) window brings one token back.
    CHECK_FALSE(limits.admit("key-a", "CreateContainerGroup", t0 + 19ms));
    CHECK(limits.admit("key-a", "CreateContainerGroup", t0 + 21ms));
    CHECK_FALSE(limits.admit("key-a", "CreateContainerGroup", t0 + 21ms));
    // A whole window refills the bucket, never beyond a minute's worth.
    const auto later = t0 + 500ms;
    for (int i = 0; i < 3; ++i)
        CHECK(limits.admit("key-a", "CreateContainerGroup", later));
    CHECK_FALSE(limits.admit("key-a", "CreateContainerGroup", later));

    AccountRateLimitOptions documented;
    documented.documented = true;
    AccountRateLimits service(documented, 1);
    int admitted = 0;
    while (service.admit("key", "ExecContainerCommand", t0) && admitted < 10'000)
        ++admitted;
    CHECK(admitted == 500);  // the documented figure, at once after a quiet minute
}

TEST_CASE("emulator profile: start delays are drawn from the range, in service time",
          "[emulator][profile]") {
    auto options = fast_options();
    options.start_delay = 10'000ms;
    options.start_delay_max = 40'000ms;
    options.time_scale = 1000;  // 10 to 40 ms of real time
    Harness h(options);
    h.run([&]() -> boost::asio::awaitable<void> {
        auto client = h.client();
        constexpr int sandboxes = 6;
        std::vector<std::string> ids;
        std::vector<std::chrono::steady_clock::time_point> created;
        for (int i = 0; i < sandboxes; ++i) {
            created.push_back(std::chrono::steady_clock::now());
            ids.push_back(co_await create_sandbox(client, "range-" + std::to_string(i), V(), P()));
        }
        for (int i = 0; i < sandboxes; ++i) {
            auto status = co_await wait_status(client, ids[i], "Running", 4s);
            CHECK(status == "Running");
            // A timer never fires early: at least the range's start, in real time.
            CHECK(std::chrono::steady_clock::now() - created[i] >= 10ms);
        }
        auto stats = stats_of(h);
        CHECK(stat_number(stats, "start_delays_ms", "count") == sandboxes);
        CHECK(stat_number(stats, "start_delays_ms", "min") >= 10'000);
        CHECK(stat_number(stats, "start_delays_ms", "max") <= 40'000);
        // Six draws from 30 s of range are not all the same.
        CHECK(stat_number(stats, "start_delays_ms", "max") >
              stat_number(stats, "start_delays_ms", "min"));
        CHECK(stats.at("time_scale").to_number<double>() == 1000);
    });
}

TEST_CASE(
    "emulator profile: a starting sandbox is Pending, then Running, with the service's "
    "events in order",
    "[emulator][profile]") {
    auto options = fast_options();
    eci::emulator::apply_profile(options, eci::emulator::Profile::realistic);
    options.start_delay = 30'000ms;
    options.start_delay_max = 30'000ms;
    options.time_scale = 100;  // 300 ms of real time: Pulling at 60 ms, Pulled at 240 ms
    Harness h(options);
    h.run([&]() -> boost::asio::awaitable<void> {
        auto client = h.client();
        auto id = co_await create_sandbox(client, "events", V(), P());
        auto group = co_await describe_one(client, id);
        CHECK(group.at("Status").as_string() == "Pending");
        auto first = reasons_of(group);
        REQUIRE_FALSE(first.empty());
        CHECK(first.front() == "Scheduled");

        // Every status seen on the way is Pending until it is Running.
        std::vector<std::string> seen;
        const auto deadline = std::chrono::steady_clock::now() + 4s;
        for (;;) {
            group = co_await describe_one(client, id);
            std::string status(group.at("Status").as_string());
            if (seen.empty() || seen.back() != status)
                seen.push_back(status);
            if (status == "Running" || std::chrono::steady_clock::now() > deadline)
                break;
            co_await sleep_for(10ms);
        }
        CHECK(seen == V("Pending", "Running"));
        CHECK(reasons_of(group) == V("Scheduled", "Pulling", "Pulled", "Created", "Started"));
        for (const auto& event : group.at("Events").as_array()) {
            CHECK(event.at("Type").as_string() == "Normal");
            CHECK(event.at("Count").to_number<int>() == 1);
            CHECK_FALSE(event.at("FirstTimestamp").as_string().empty());
            CHECK(event.at("LastTimestamp") == event.at("FirstTimestamp"));
        }
        const auto& events = group.at("Events").as_array();
        CHECK(events.at(1).at("Message").as_string() ==
              "Pulling image \"registry.example/ubuntu:22.04\"");
        // The pull's duration in service time: three fifths of 30 s.
        CHECK(events.at(2).at("Message").as_string() ==
              "Successfully pulled image \"registry.example/ubuntu:22.04\" in 18.000s");
        CHECK(events.at(4).at("Message").as_string() == "Started container main");
    });
}

TEST_CASE(
    "emulator profile: a key over its per-minute limit gets Throttling.User and "
    "recovers after the scaled window",
    "[emulator][profile]") {
    auto options = fast_options();
    options.account_limits.per_minute["DescribeContainerGroups"] = 3;
    options.time_scale = 30;  // the minute lasts 2 s: a token comes back every 667 ms
    Harness h(options);
    h.run([&]() -> boost::asio::awaitable<void> {
        auto client = h.client();
        const auto params = P("ContainerGroupIds", "[\"eci-none\"]");
        const auto t0 = std::chrono::steady_clock::now();
        for (int i = 0; i < 3; ++i) {
            auto reply = co_await must_call(client, "DescribeContainerGroups", params);
            CHECK(reply.status == 200);
        }
        auto refused = co_await must_call(client, "DescribeContainerGroups", params);
        CHECK(refused.status == 400);
        CHECK(refused.code() == "Throttling.User");
        CHECK(refused.str("Message") == "Request was denied due to user flow control.");
        CHECK_FALSE(refused.str("RequestId").empty());
        // Other actions keep their own budget (none here).
        auto other = co_await must_call(client, "DescribeContainerLog",
                                        P("ContainerGroupId", "eci-none", "ContainerName", "main"));
        CHECK(other.code() != "Throttling.User");

        // Recovers once a token is back, not before: poll until then.
        const auto deadline = t0 + 3s;
        unsigned status = 0;
        while (std::chrono::steady_clock::now() < deadline) {
            auto reply = co_await must_call(client, "DescribeContainerGroups", params);
            status = reply.status;
            if (status == 200)
                break;
            CHECK(reply.code() == "Throttling.User");
            co_await sleep_for(25ms);
        }
        CHECK(status == 200);
        CHECK(std::chrono::steady_clock::now() - t0 >= 600ms);
        auto stats = stats_of(h);
        CHECK(stat_number(stats, "faults_injected", "rate_limit") >= 1);
        CHECK(stat_number(stats, "api_errors", "Throttling.User") >= 1);
    });
}

TEST_CASE("emulator profile: two AccessKeys have separate budgets", "[emulator][profile]") {
    // The emulator accepts its configured key and the STS keys its metadata service issues:
    // the second key here is one of those.
    auto options = fast_options();
    options.metadata.enabled = true;
    options.account_limits.per_minute["DescribeContainerGroups"] = 2;
    Harness h(options);
    h.run([&]() -> boost::asio::awaitable<void> {
        const std::string& metadata = h.emulator->ready().metadata_endpoint;
        REQUIRE_FALSE(metadata.empty());
        TestEndpoint metadata_endpoint;
        metadata_endpoint.tls = false;
        metadata_endpoint.port =
            static_cast<std::uint16_t>(std::stoi(metadata.substr(metadata.rfind(':') + 1)));
        TestApiClient metadata_client(h.io.get_executor(), metadata_endpoint);
        std::string target =
            std::string(eci::detail::security_credentials_path) + options.metadata.role_name;
        auto credentials = co_await metadata_client.get_many(std::move(target), 1);
        REQUIRE(credentials);
        REQUIRE(credentials->size() == 1);
        const auto& issued = credentials->front();
        INFO(issued.body);
        REQUIRE(issued.status == 200);

        auto sts_endpoint = h.endpoint();
        sts_endpoint.access_key_id = issued.str("AccessKeyId");
        sts_endpoint.access_key_secret = issued.str("AccessKeySecret");
        sts_endpoint.security_token = issued.str("SecurityToken");
        TestApiClient sts_client(h.io.get_executor(), sts_endpoint);
        auto configured_client = h.client();

        const auto params = P("ContainerGroupIds", "[\"eci-none\"]");
        const std::array<TestApiClient*, 2> clients{&configured_client, &sts_client};
        for (auto* client : clients) {
            for (int i = 0; i < 2; ++i) {
                auto reply = co_await must_call(*client, "DescribeContainerGroups", params);
                CHECK(reply.status == 200);
            }
            auto refused = co_await must_call(*client, "DescribeContainerGroups", params);
            CHECK(refused.code() == "Throttling.User");
        }
    });
}
