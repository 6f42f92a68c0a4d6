// SPDX-License-Identifier: Apache-2.0
// The emulator in-process over TLS, driven by the test client: actions, auth, lifecycle, stats.
#include "harness.hpp"

#include "core/encoding.hpp"
#include "core/time_format.hpp"

#include <filesystem>
#include <fstream>

using namespace eci::test;
using namespace std::chrono_literals;
using eci::detail::Params;

namespace {

template <class F>
CallOptions opt(F set) {
    CallOptions options;
    set(options);
    return options;
}

std::string status_of(const boost::json::value& group) {
    return group.is_null() ? "<gone>" : std::string(group.at("Status").as_string());
}

}  // namespace

TEST_CASE("emulator: create, describe and delete a sandbox over TLS", "[emulator]") {
    Harness h;
    h.run([&]() -> asio::awaitable<void> {
        auto client = h.client();
        std::string id = co_await create_sandbox(client, "box-one", {},
                                                 P("Tag.1.Key", "suite", "Tag.1.Value", "a"));
        CHECK(id.starts_with("eci-"));
        CHECK(id.size() > 10);
        CHECK(co_await wait_status(client, id, "Running") == "Running");

        auto group = co_await describe_one(client, id);
        INFO(boost::json::serialize(group));
        CHECK(group.at("ContainerGroupName").as_string() == "box-one");
        CHECK(group.at("RegionId").as_string() == "cn-hangzhou");
        CHECK(group.at("ZoneId").as_string().starts_with("cn-hangzhou-"));
        CHECK(group.at("Cpu").to_number<double>() == 1.0);
        CHECK(group.at("Memory").to_number<double>() == 2.0);
        CHECK(group.at("RestartPolicy").as_string() == "Always");
        CHECK(group.at("IntranetIp").as_string().starts_with("172.16."));
        CHECK(group.at("CreationTime").as_string().ends_with("Z"));
        CHECK(group.at("Tags").as_array().size() == 1);
        const auto& container = group.at("Containers").as_array().at(0);
        CHECK(container.at("Name").as_string() == "main");
        CHECK(container.at("Ready").as_bool());
        CHECK(container.at("CurrentState").at("State").as_string() == "Running");
        std::vector<std::string> reasons;
        for (const auto& event : group.at("Events").as_array()) {
            reasons.emplace_back(event.at("Reason").as_string());
        }
        CHECK(reasons == std::vector<std::string>{"Scheduled", "Pulled", "Created", "Started"});

        auto deleted =
            co_await must_call(client, "DeleteContainerGroup", P("ContainerGroupId", id));
        CHECK(deleted.status == 200);
        CHECK(!deleted.str("RequestId").empty());
        CHECK(status_of(co_await describe_one(client, id)) == "<gone>");
        auto again = co_await must_call(client, "DeleteContainerGroup", P("ContainerGroupId", id));
        CHECK(again.status == 400);
        CHECK(again.code() == "InvalidParameter.NotFound");
    });
}

TEST_CASE("emulator: paging with NextToken and filters", "[emulator]") {
    Harness h;
    h.run([&]() -> asio::awaitable<void> {
        auto client = h.client();
        std::vector<std::string> ids;
        for (int i = 0; i < 5; ++i) {
            ids.push_back(co_await create_sandbox(
                client, "page-" + std::to_string(i), {},
                P("Tag.1.Key", "parity", "Tag.1.Value", i % 2 == 0 ? "even" : "odd")));
        }
        std::vector<std::string> seen;
        std::string next;
        int pages = 0;
        do {
            Params params{{"Limit", "2"}};
            if (!next.empty())
                params.emplace_back("NextToken", next);
            auto page = co_await must_call(client, "DescribeContainerGroups", params);
            REQUIRE(page.status == 200);
            CHECK(page.json.at("TotalCount").to_number<int>() == 5);
            for (const auto& g : page.json.at("ContainerGroups").as_array()) {
                seen.emplace_back(g.at("ContainerGroupId").as_string());
            }
            next = page.str("NextToken");
            ++pages;
        } while (!next.empty() && pages < 10);
        CHECK(pages == 3);
        CHECK(seen == ids);

        auto by_tag = co_await must_call(client, "DescribeContainerGroups",
                                         P("Tag.1.Key", "parity", "Tag.1.Value", "odd"));
        CHECK(by_tag.json.at("TotalCount").to_number<int>() == 2);
        auto by_name = co_await must_call(client, "DescribeContainerGroups",
                                          P("ContainerGroupName", "page-3"));
        REQUIRE(by_name.json.at("ContainerGroups").as_array().size() == 1);
        CHECK(by_name.json.at("ContainerGroups").as_array()[0].at("ContainerGroupId").as_string() ==
              ids[3]);
        auto by_ids = co_await must_call(
            client, "DescribeContainerGroups",
            P("ContainerGroupIds", eci::detail::json_array_string(V(ids[0], ids[4]))));
        CHECK(by_ids.json.at("TotalCount").to_number<int>() == 2);
        auto by_status =
            co_await must_call(client, "DescribeContainerGroups", P("Status", "Succeeded"));
        CHECK(by_status.json.at("TotalCount").to_number<int>() == 0);

        auto bad_limit = co_await must_call(client, "DescribeContainerGroups", P("Limit", "21"));
        CHECK(bad_limit.status == 400);
        CHECK(bad_limit.code() == "InvalidParameter");
        std::vector<std::string> many(21, "eci-x");
        auto too_many =
            co_await must_call(client, "DescribeContainerGroups",
                               P("ContainerGroupIds", eci::detail::json_array_string(many)));
        CHECK(too_many.status == 400);
        auto not_json = co_await must_call(client, "DescribeContainerGroups",
                                           P("ContainerGroupIds", "eci-1,eci-2"));
        CHECK(not_json.code() == "InvalidParameter");
    });
}

TEST_CASE("emulator: ClientToken makes create idempotent", "[emulator]") {
    Harness h;
    h.run([&]() -> asio::awaitable<void> {
        auto client = h.client();
        Params token{{"ClientToken", "token-123"}};
        std::string first = co_await create_sandbox(client, "idem", {}, token);
        std::string second = co_await create_sandbox(client, "idem", {}, token);
        CHECK(first == second);
        auto listed = co_await must_call(client, "DescribeContainerGroups", {});
        CHECK(listed.json.at("TotalCount").to_number<int>() == 1);

        auto mismatch = co_await must_call(client, "CreateContainerGroup",
                                           create_params("idem-other", {}, token));
        CHECK(mismatch.status == 400);
        CHECK(mismatch.code() == "IdempotentParameterMismatch");
        // V2 signing adds different common params: still the same request.
        auto v2 = co_await must_call(
            client, "CreateContainerGroup", create_params("idem", {}, token),
            opt([&](CallOptions& o) { o.signing = CallOptions::Signing::rpc_v2; }));
        CHECK(v2.str("ContainerGroupId") == first);
    });
}

TEST_CASE("emulator: request validation as the service", "[emulator]") {
    Harness h;
    h.run([&]() -> asio::awaitable<void> {
        auto client = h.client();
        auto bad_name = co_await must_call(client, "CreateContainerGroup", create_params("-bad"));
        CHECK(bad_name.status == 400);
        CHECK(bad_name.code() == "InvalidParameter");
        auto upper = co_await must_call(client, "CreateContainerGroup", create_params("Upper"));
        CHECK(upper.code() == "InvalidParameter");
        auto short_name = co_await must_call(client, "CreateContainerGroup", create_params("a"));
        CHECK(short_name.code() == "InvalidParameter");
        auto no_container =
            co_await must_call(client, "CreateContainerGroup", P("ContainerGroupName", "ok-name"));
        CHECK(no_container.code() == "MissingParameter");
        auto no_region = co_await must_call(client, "DescribeContainerGroups", P("RegionId", ""));
        CHECK(no_region.code() == "MissingParameter");
        auto other_region =
            co_await must_call(client, "DescribeContainerGroups", P("RegionId", "cn-beijing"));
        CHECK(other_region.status == 400);
        auto unknown = co_await must_call(client, "RunInstances", {});
        CHECK(unknown.status == 404);
        CHECK(unknown.code() == "InvalidAction.NotFound");
        CHECK(unknown.str("HostId") == "eci.cn-hangzhou.aliyuncs.com");
        CHECK(unknown.str("Recommend").find("InvalidAction.NotFound") != std::string::npos);
        std::string request_id = unknown.str("RequestId");
        CHECK(request_id.size() == 36);
        CHECK(request_id == eci::detail::percent_encode(request_id));  // upper-case hex and '-'
        auto restart_missing = co_await must_call(client, "RestartContainerGroup",
                                                  P("ContainerGroupId", "eci-doesnotexist"));
        CHECK(restart_missing.code() == "InvalidParameter.NotFound");
    });
}

TEST_CASE("emulator: authentication errors as the service", "[emulator][auth]") {
    Harness h;
    h.run([&]() -> asio::awaitable<void> {
        auto client = h.client();
        auto describe = [&](CallOptions options) {
            return must_call(client, "DescribeContainerGroups", {}, std::move(options));
        };
        auto ok = co_await describe({});
        CHECK(ok.status == 200);

        auto bad = co_await describe(opt([&](CallOptions& o) { o.corrupt_signature = true; }));
        CHECK(bad.status == 400);
        CHECK(bad.code() == "SignatureDoesNotMatch");
        CHECK(bad.str("Message").find("server StringToSign is [ACS3-HMAC-SHA256\n") !=
              std::string::npos);

        auto wrong_secret =
            co_await describe(opt([&](CallOptions& o) { o.secret = std::string("nope"); }));
        CHECK(wrong_secret.code() == "SignatureDoesNotMatch");

        auto expired = co_await describe(opt([&](CallOptions& o) {
            o.timestamp =
                eci::detail::format_utc_timestamp(std::chrono::system_clock::now() - 16min);
        }));
        CHECK(expired.status == 400);
        CHECK(expired.code() == "InvalidTimeStamp.Expired");
        auto future = co_await describe(opt([&](CallOptions& o) {
            o.timestamp =
                eci::detail::format_utc_timestamp(std::chrono::system_clock::now() + 16min);
        }));
        CHECK(future.code() == "InvalidTimeStamp.Expired");
        auto within = co_await describe(opt([&](CallOptions& o) {
            o.timestamp =
                eci::detail::format_utc_timestamp(std::chrono::system_clock::now() - 14min);
        }));
        CHECK(within.status == 200);
        auto malformed = co_await describe(
            opt([&](CallOptions& o) { o.timestamp = std::string("2024-01-01T00:00:00.123Z"); }));
        CHECK(malformed.code() == "InvalidTimeStamp.Format");

        auto first =
            co_await describe(opt([&](CallOptions& o) { o.nonce = std::string("fixed-nonce-1"); }));
        CHECK(first.status == 200);
        auto replay =
            co_await describe(opt([&](CallOptions& o) { o.nonce = std::string("fixed-nonce-1"); }));
        CHECK(replay.status == 400);
        CHECK(replay.code() == "SignatureNonceUsed");

        auto unknown_key = co_await describe(
            opt([&](CallOptions& o) { o.access_key_id = std::string("LTAIunknown"); }));
        CHECK(unknown_key.status == 404);
        CHECK(unknown_key.code() == "InvalidAccessKeyId.NotFound");

        auto unsigned_call =
            co_await describe(opt([&](CallOptions& o) { o.signing = CallOptions::Signing::none; }));
        CHECK(unsigned_call.status == 400);
        CHECK(unsigned_call.code() == "MissingParameter");

        auto v2 = co_await describe(
            opt([&](CallOptions& o) { o.signing = CallOptions::Signing::rpc_v2; }));
        CHECK(v2.status == 200);
        auto v2_get = co_await describe(opt([&](CallOptions& o) {
            o.signing = CallOptions::Signing::rpc_v2;
            o.method = "GET";
        }));
        CHECK(v2_get.status == 200);
        auto v2_form = co_await describe(opt([&](CallOptions& o) {
            o.signing = CallOptions::Signing::rpc_v2;
            o.form_body = true;
        }));
        CHECK(v2_form.status == 200);
        auto v2_bad = co_await describe(opt([&](CallOptions& o) {
            o.signing = CallOptions::Signing::rpc_v2;
            o.corrupt_signature = true;
        }));
        CHECK(v2_bad.code() == "SignatureDoesNotMatch");
        CHECK(v2_bad.str("Message").find("server string to sign is:POST&%2F&AccessKeyId%3D") !=
              std::string::npos);
        auto v2_expired = co_await describe(opt([&](CallOptions& o) {
            o.signing = CallOptions::Signing::rpc_v2;
            o.timestamp = std::string("2020-01-01T00:00:00Z");
        }));
        CHECK(v2_expired.code() == "InvalidTimeStamp.Expired");

        // The Node SDK's wire form: `!'()*` raw and the query unsorted.
        auto lenient = co_await must_call(client, "DescribeContainerGroups",
                                          P("ContainerGroupName", "it's(a)*test!"),
                                          opt([&](CallOptions& o) { o.lenient_query = true; }));
        CHECK(lenient.status == 200);
        auto form = co_await describe(opt([&](CallOptions& o) { o.form_body = true; }));
        CHECK(form.status == 200);
        auto extra_header = co_await describe(opt([&](CallOptions& o) {
            o.extra_headers = {{"x-acs-credentials-provider", "static_ak"}};
        }));
        CHECK(extra_header.status == 200);
        // A token when none is configured cannot be valid.
        TestEndpoint with_token = h.endpoint();
        with_token.security_token = "made-up";
        TestApiClient sts_client(h.io.get_executor(), with_token);
        auto stray_token = co_await must_call(sts_client, "DescribeContainerGroups", {});
        CHECK(stray_token.code().starts_with("InvalidSecurityToken"));
    });
}

TEST_CASE("emulator: STS token when configured", "[emulator][auth]") {
    auto options = fast_options();
    options.security_token = "sts-token-value";
    Harness h(options);
    h.run([&]() -> asio::awaitable<void> {
        auto client = h.client();
        auto ok = co_await must_call(client, "DescribeContainerGroups", {});
        CHECK(ok.status == 200);
        auto v2 = co_await must_call(
            client, "DescribeContainerGroups", {},
            opt([&](CallOptions& o) { o.signing = CallOptions::Signing::rpc_v2; }));
        CHECK(v2.status == 200);
        auto missing =
            co_await must_call(client, "DescribeContainerGroups", {},
                               opt([&](CallOptions& o) { o.omit_security_token = true; }));
        CHECK(missing.code() == "MissingSecurityToken");
    });
}

TEST_CASE("emulator: lifecycle follows RestartPolicy and deadlines", "[emulator][lifecycle]") {
    Harness h;
    h.run([&]() -> asio::awaitable<void> {
        auto client = h.client();
        std::string fails = co_await create_sandbox(
            client, "fails", V("/bin/sh", "-c", "echo bye; exit 3"), P("RestartPolicy", "Never"));
        std::string succeeds = co_await create_sandbox(
            client, "succeeds", V("/bin/sh", "-c", "true"), P("RestartPolicy", "OnFailure"));
        std::string loops = co_await create_sandbox(
            client, "loops", V("/bin/sh", "-c", "echo tick; exit 1"), P("RestartPolicy", "Always"));
        std::string deadline = co_await create_sandbox(client, "deadline", V("sleep", "600"),
                                                       P("ActiveDeadlineSeconds", "1"));

        CHECK(co_await wait_status(client, fails, "Failed") == "Failed");
        auto failed = co_await describe_one(client, fails);
        const auto& state = failed.at("Containers").as_array()[0].at("CurrentState");
        CHECK(state.at("State").as_string() == "Terminated");
        CHECK(state.at("ExitCode").to_number<int>() == 3);
        CHECK(!failed.at("FailedTime").as_string().empty());
        auto log = co_await must_call(client, "DescribeContainerLog",
                                      P("ContainerGroupId", fails, "ContainerName", "main"));
        CHECK(log.str("Content") == "bye\n");
        CHECK(log.str("ContainerName") == "main");

        CHECK(co_await wait_status(client, succeeds, "Succeeded") == "Succeeded");

        // Always: the container keeps restarting while the group stays Running.
        auto until = std::chrono::steady_clock::now() + 10s;
        int restarts = 0;
        while (restarts < 2 && std::chrono::steady_clock::now() < until) {
            auto group = co_await describe_one(client, loops);
            CHECK(status_of(group) == "Running");
            restarts = group.at("Containers").as_array()[0].at("RestartCount").to_number<int>();
            co_await sleep_for(20ms);
        }
        CHECK(restarts >= 2);

        CHECK(co_await wait_status(client, deadline, "Failed", 10s) == "Failed");
        auto expired = co_await describe_one(client, deadline);
        CHECK(expired.at("Containers").as_array()[0].at("CurrentState").at("Reason").as_string() ==
              "DeadlineExceeded");

        // Restart only from Pending/Running.
        auto refused =
            co_await must_call(client, "RestartContainerGroup", P("ContainerGroupId", succeeds));
        CHECK(refused.code() == "IncorrectStatus");
        std::string sleeper = co_await create_sandbox(client, "sleeper", V("sleep", "600"));
        CHECK(co_await wait_status(client, sleeper, "Running") == "Running");
        auto restarted =
            co_await must_call(client, "RestartContainerGroup", P("ContainerGroupId", sleeper));
        CHECK(restarted.status == 200);
        CHECK(co_await wait_status(client, sleeper, "Running") == "Running");
    });
}

TEST_CASE("emulator: a start delay keeps a sandbox Pending, and Restarting is visible",
          "[emulator][lifecycle]") {
    auto options = fast_options();
    // Long enough that a loaded machine still sees each phase: with 400 ms a create and a
    // describe sometimes took longer than the phase under load and saw Running already.
    options.start_delay = 1500ms;
    options.terminate_delay = 1500ms;
    Harness h(options);
    h.run([&]() -> asio::awaitable<void> {
        auto client = h.client();
        std::string id = co_await create_sandbox(client, "slow", V("sleep", "600"));
        CHECK(status_of(co_await describe_one(client, id)) == "Pending");
        auto exec = co_await must_call(client, "ExecContainerCommand",
                                       P("ContainerGroupId", id, "ContainerName", "main", "Command",
                                         R"(["true"])", "Sync", "true"));
        CHECK(exec.code() == "IncorrectStatus");
        CHECK(co_await wait_status(client, id, "Running") == "Running");
        co_await must_call(client, "RestartContainerGroup", P("ContainerGroupId", id));
        CHECK(status_of(co_await describe_one(client, id)) == "Restarting");
        CHECK(co_await wait_status(client, id, "Running") == "Running");
        co_await must_call(client, "DeleteContainerGroup", P("ContainerGroupId", id));
        CHECK(status_of(co_await describe_one(client, id)) == "Terminating");
        CHECK(co_await wait_status(client, id, "<gone>") == "<gone>");
    });
}

TEST_CASE("emulator: stats over keep-alive, loopback only data", "[emulator]") {
    Harness h;
    h.run([&]() -> asio::awaitable<void> {
        auto client = h.client();
        std::string id = co_await create_sandbox(client, "stats", V("sleep", "600"));
        CHECK(co_await wait_status(client, id, "Running") == "Running");
        auto replies = co_await client.get_many("/_emulator/stats", 3);
        REQUIRE(replies);
        REQUIRE(replies->size() == 3);
        const auto& stats = replies->back().json;
        INFO(replies->back().body);
        CHECK(stat_number(stats, "sandboxes", "") == 1);
        CHECK(stat_number(stats, "processes", "") >= 1);
        CHECK(stat_number(stats, "api_calls", "CreateContainerGroup") == 1);
        CHECK(stat_number(stats, "api_calls", "DescribeContainerGroups") >= 1);
    });
}

TEST_CASE("emulator: stop removes every sandbox and leaves no process", "[emulator]") {
    Harness h;
    std::string marker = "4242" + std::to_string(::getpid() % 10000);
    h.run([&]() -> asio::awaitable<void> {
        auto client = h.client();
        for (int i = 0; i < 2; ++i) {
            std::string id =
                co_await create_sandbox(client, "stop-" + std::to_string(i), V("sleep", marker));
            CHECK(co_await wait_status(client, id, "Running") == "Running");
        }
    });
    // Any process still running `sleep <marker>` would be a leak.
    int survivors = 0;
    for (const auto& dir : std::filesystem::directory_iterator("/proc")) {
        std::ifstream cmdline(dir.path() / "cmdline");
        std::string text((std::istreambuf_iterator<char>(cmdline)),
                         std::istreambuf_iterator<char>());
        if (text.find("sleep") != std::string::npos && text.find(marker) != std::string::npos) {
            ++survivors;
        }
    }
    CHECK(survivors == 0);
}

// Issue 14: a sandbox start (and delete) used to run on the emulator's one thread, so a slow
// one held up every other connection; 1000 lifecycles at once then timed out in queues.
TEST_CASE("emulator: a slow sandbox start holds up no other request", "[emulator][serial]") {
    auto options = fast_options();
    options.init_child_stall = 1500ms;
    Harness h(std::move(options));
    if (h.emulator->ready().isolation != "namespaces") {
        WARN("not root: the emulator runs degraded, its starts do not stall");
        return;
    }
    h.run([&]() -> asio::awaitable<void> {
        auto client = h.client();
        std::string slow = co_await create_sandbox(client, "slow-start");
        // The start is under way (the init stalls); the server answers meanwhile.
        const auto asked = std::chrono::steady_clock::now();
        auto group = co_await describe_one(client, slow);
        const auto waited = std::chrono::steady_clock::now() - asked;
        CHECK(status_of(group) == "Pending");
        CHECK(waited < 700ms);

        // A delete during the start ends it: no process is left once the reply comes.
        std::string doomed = co_await create_sandbox(client, "deleted-while-starting");
        auto deleted =
            co_await must_call(client, "DeleteContainerGroup", P("ContainerGroupId", doomed));
        CHECK(deleted.status == 200);
        CHECK(status_of(co_await describe_one(client, doomed)) == "<gone>");

        CHECK(co_await wait_status(client, slow, "Running") == "Running");
        auto ran = co_await must_call(client, "ExecContainerCommand",
                                      P("ContainerGroupId", slow, "ContainerName", "main",
                                        "Command", "[\"true\"]", "Sync", "true"));
        CHECK(ran.status == 200);
        auto removed =
            co_await must_call(client, "DeleteContainerGroup", P("ContainerGroupId", slow));
        CHECK(removed.status == 200);
        CHECK(status_of(co_await describe_one(client, slow)) == "<gone>");
        auto stats = co_await client.get_many("/_emulator/stats", 1);
        REQUIRE(stats.ok());
        CHECK(stat_number(stats->back().json, "processes", "") == 0);
        CHECK(stat_number(stats->back().json, "sandboxes", "") == 0);
    });
}
