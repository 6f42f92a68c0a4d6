// SPDX-License-Identifier: Apache-2.0
// Fault injection (sans-io and through the server), the nonce cache and the command line.
#include "harness.hpp"

#include "emulator/faults.hpp"
#include "emulator/nonce_cache.hpp"
#include "emulator/options.hpp"

using namespace eci::test;
using namespace std::chrono_literals;
using eci::emulator::FaultInjector;
using eci::emulator::FaultKind;
using eci::emulator::FaultOptions;

TEST_CASE("emulator: fault decisions are deterministic for a seed", "[emulator][faults]") {
    FaultOptions options;
    options.throttle = 0.2;
    options.unavailable = 0.2;
    options.reset = 0.2;
    auto sequence = [&](std::uint64_t seed) {
        FaultInjector injector(options, seed);
        std::vector<FaultKind> kinds;
        auto now = std::chrono::steady_clock::now();
        for (int i = 0; i < 200; ++i)
            kinds.push_back(injector.decide("DescribeContainerGroups", now));
        return kinds;
    };
    auto a = sequence(7);
    CHECK(a == sequence(7));
    CHECK(a != sequence(8));
    int counts[6] = {};
    for (auto kind : a)
        ++counts[static_cast<int>(kind)];
    CHECK(counts[static_cast<int>(FaultKind::none)] > 40);
    CHECK(counts[static_cast<int>(FaultKind::throttle)] > 10);
    CHECK(counts[static_cast<int>(FaultKind::unavailable)] > 5);
    CHECK(counts[static_cast<int>(FaultKind::reset_before)] > 0);
    CHECK(counts[static_cast<int>(FaultKind::reset_after)] > 0);
}

TEST_CASE("emulator: QPS limits are token buckets per action", "[emulator][faults]") {
    FaultOptions options;
    options.qps_limits["CreateContainerGroup"] = 2;
    FaultInjector injector(options, 1);
    auto t0 = std::chrono::steady_clock::now();
    CHECK(injector.decide("CreateContainerGroup", t0) == FaultKind::none);
    CHECK(injector.decide("CreateContainerGroup", t0) == FaultKind::none);
    CHECK(injector.decide("CreateContainerGroup", t0) == FaultKind::qps_limit);
    CHECK(injector.decide("DescribeContainerGroups", t0) == FaultKind::none);
    CHECK(injector.decide("CreateContainerGroup", t0 + 500ms) == FaultKind::none);
    CHECK(injector.decide("CreateContainerGroup", t0 + 500ms) == FaultKind::qps_limit);
}

TEST_CASE("emulator: nonces are refused within the window and forgotten after it",
          "[emulator][auth]") {
    eci::emulator::NonceCache cache(15min, 3);
    auto t0 = std::chrono::steady_clock::now();
    CHECK(cache.insert("a", t0));
    CHECK(!cache.insert("a", t0 + 14min));
    CHECK(cache.insert("a", t0 + 16min));  // expired, then remembered again
    CHECK(cache.insert("b", t0 + 16min));
    CHECK(cache.insert("c", t0 + 16min));
    CHECK(cache.insert("d", t0 + 16min));  // the cap of 3 forgets the oldest
    CHECK(cache.size() <= 3);
}

TEST_CASE("emulator: command line parsing", "[emulator]") {
    using eci::emulator::parse_command_line;
    auto parsed = parse_command_line(
        SV("--listen", "127.0.0.1:8443", "--region", "cn-shanghai", "--access-key-id", "id",
           "--access-key-secret", "s", "--tls", "off", "--start-delay-ms", "0", "--seed", "9",
           "--exit-status", "k8s", "--exec-command-limit", "100", "--fault-throttle", "0.5",
           "--throttle-status", "429", "--qps-limit", "CreateContainerGroup=3", "--latency-ms=5",
           "--max-sandbox-cpu", "2.5"));
    REQUIRE(parsed);
    const auto& o = parsed->options;
    CHECK(o.listen_port == 8443);
    CHECK(o.region_id == "cn-shanghai");
    CHECK(o.tls == eci::emulator::TlsMode::off);
    CHECK(o.start_delay == 0ms);
    CHECK(o.seed == 9);
    CHECK(o.exit_status == eci::emulator::ExitStatusMode::k8s);
    CHECK(o.exec_command_limit == 100);
    CHECK(o.faults.throttle == 0.5);
    CHECK(o.faults.throttle_status == 429);
    CHECK(o.faults.qps_limits.at("CreateContainerGroup") == 3);
    CHECK(o.faults.latency == 5ms);
    CHECK(o.max_sandbox_cpu == 2.5);
    CHECK(!parse_command_line(SV("--max-sandbox-cpu", "-1")));

    CHECK(!parse_command_line(SV("--listen", "0.0.0.0:80")));
    CHECK(parse_command_line(SV("--listen", "0.0.0.0:80", "--allow-remote")));
    CHECK(!parse_command_line(SV("--fault-reset", "1.5")));
    CHECK(!parse_command_line(SV("--bogus")));
    CHECK(!parse_command_line(SV("--access-key-id", "only-id")));
    auto help = parse_command_line(SV("--help"));
    REQUIRE(help);
    CHECK(help->help);
}

TEST_CASE("emulator: injected faults through the server", "[emulator][faults]") {
    auto options = fast_options();
    options.seed = 42;
    options.faults.throttle = 0.3;
    options.faults.unavailable = 0.3;
    options.faults.throttle_status = 429;
    auto codes_for_seed = [&]() {
        Harness h(options);
        std::vector<std::string> codes;
        h.run([&]() -> asio::awaitable<void> {
            auto client = h.client();
            for (int i = 0; i < 20; ++i) {
                auto reply = co_await must_call(client, "DescribeContainerGroups", {});
                if (reply.status == 429)
                    CHECK(reply.code() == "Throttling.User");
                if (reply.status == 503)
                    CHECK(reply.code() == "ServiceUnavailable");
                codes.push_back(std::to_string(reply.status) + reply.code());
            }
            auto stats = boost::json::parse(h.emulator->stats_json());
            auto throttled = stat_number(stats, "faults_injected", "throttle");
            auto unavailable = stat_number(stats, "faults_injected", "unavailable");
            CHECK(throttled + unavailable ==
                  std::count_if(codes.begin(), codes.end(),
                                [](const std::string& c) { return c != "200"; }));
            CHECK(throttled > 0);
            CHECK(unavailable > 0);
        });
        return codes;
    };
    CHECK(codes_for_seed() == codes_for_seed());
}

TEST_CASE("emulator: reset faults close the connection before or after the action",
          "[emulator][faults]") {
    auto options = fast_options();
    options.faults.reset = 1.0;
    Harness h(options);
    h.run([&]() -> asio::awaitable<void> {
        auto client = h.client();
        int created = 0;
        for (int i = 0; i < 12; ++i) {
            auto reply = co_await client.call("CreateContainerGroup",
                                              create_params("reset-" + std::to_string(i)));
            CHECK(!reply);  // never a reply
            if (!reply)
                CHECK(reply.error().kind == eci::ErrorKind::network);
        }
        auto stats = boost::json::parse(h.emulator->stats_json());
        auto before = stat_number(stats, "faults_injected", "reset_before");
        auto after = stat_number(stats, "faults_injected", "reset_after");
        created = static_cast<int>(stat_number(stats, "sandboxes", ""));
        CHECK(before + after == 12);
        CHECK(after == created);  // the action took effect exactly when reset came after it
        CHECK(before > 0);
        CHECK(after > 0);
    });
}

TEST_CASE("emulator: QPS limit through the server and the ws-drop fault", "[emulator][faults]") {
    auto options = fast_options();
    options.faults.qps_limits["DescribeContainerLog"] = 1;
    options.faults.ws_drop = 1.0;
    Harness h(options);
    h.run([&]() -> asio::awaitable<void> {
        auto client = h.client();
        std::string id = co_await create_sandbox(client, "drop", V("sleep", "600"));
        REQUIRE(co_await wait_status(client, id, "Running") == "Running");
        auto log_params = P("ContainerGroupId", id, "ContainerName", "main");
        auto first = co_await must_call(client, "DescribeContainerLog", log_params);
        auto second = co_await must_call(client, "DescribeContainerLog", log_params);
        CHECK(first.status == 200);
        CHECK(second.status == 400);
        CHECK(second.code() == "Throttling.User");
        auto exec = co_await must_call(client, "ExecContainerCommand",
                                       P("ContainerGroupId", id, "ContainerName", "main", "Command",
                                         R"(["/bin/sh","-c","echo one; sleep 0.3; echo two"])"));
        REQUIRE(exec.status == 200);
        auto transcript = co_await run_exec_socket(h.io.get_executor(), exec.str("WebSocketUri"),
                                                   h.emulator->ready().ca_pem);
        REQUIRE(transcript);
        CHECK(transcript->stdout_data == "one\n");
        CHECK(transcript->close_code == -1);  // cut, not closed
        auto stats = boost::json::parse(h.emulator->stats_json());
        CHECK(stat_number(stats, "faults_injected", "ws_drop") == 1);
        CHECK(stat_number(stats, "faults_injected", "qps_limit") == 1);
    });
}
