// SPDX-License-Identifier: Apache-2.0
// The lazy runtime (issue 16, `--runtime lazy`): a sandbox turns Running without processes and
// gets them at its first exec, one start shared by concurrent first execs; delete and restart
// handle a sandbox that never had any.
#include "harness.hpp"

#include "emulator/options.hpp"

#include "core/encoding.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>

using namespace eci::test;
using namespace std::chrono_literals;
using eci::detail::Params;
using eci::emulator::parse_command_line;
using eci::emulator::RuntimeStart;

namespace {

Params exec_params(const std::string& id, std::vector<std::string> command, Params extra = {}) {
    Params params{{"ContainerGroupId", id},
                  {"ContainerName", "main"},
                  {"Command", eci::detail::json_array_string(command)},
                  {"Stdin", "false"}};
    params.insert(params.end(), extra.begin(), extra.end());
    return params;
}

asio::awaitable<std::string> exec_uri(TestApiClient& client, const std::string& id,
                                      std::vector<std::string> command) {
    auto reply = co_await must_call(client, "ExecContainerCommand", exec_params(id, command));
    INFO(reply.body);
    REQUIRE(reply.status == 200);
    co_return reply.str("WebSocketUri");
}

asio::awaitable<std::string> exec_stdout(Harness& h, std::string uri) {
    auto transcript = co_await run_exec_socket(h.io.get_executor(), std::move(uri),
                                               h.emulator->ready().ca_pem, ExecScript());
    if (!transcript)
        FAIL("exec socket failed: " << transcript.error().to_string());
    if (transcript->handshake_refused)
        FAIL("exec socket refused: HTTP " << transcript->http_status);
    co_return transcript->stdout_data;
}

boost::json::value stats_of(Harness& h) {
    return boost::json::parse(h.emulator->stats_json());
}

std::int64_t top_stat(Harness& h, std::string_view name) {
    return stats_of(h).at(name).to_number<std::int64_t>();
}

asio::awaitable<std::string> log_of(TestApiClient& client, const std::string& id) {
    auto reply = co_await must_call(client, "DescribeContainerLog",
                                    P("ContainerGroupId", id, "ContainerName", "main"));
    INFO(reply.body);
    REQUIRE(reply.status == 200);
    co_return reply.str("Content");
}

eci::emulator::EmulatorOptions lazy_options() {
    auto options = fast_options();
    options.runtime_start = RuntimeStart::at_first_exec;
    return options;
}

// The main command says when it runs, then stays up.
std::vector<std::string> announcing_main() {
    return V("/bin/sh", "-c", "echo main-started; exec sleep 600");
}

}  // namespace

TEST_CASE("emulator lazy runtime: --runtime takes eager or lazy, eager by default",
          "[emulator][lazy]") {
    auto defaults = parse_command_line(SV());
    REQUIRE(defaults);
    CHECK(defaults->options.runtime_start == RuntimeStart::at_running);
    auto lazy = parse_command_line(SV("--profile", "realistic", "--runtime", "lazy"));
    REQUIRE(lazy);
    CHECK(lazy->options.runtime_start == RuntimeStart::at_first_exec);
    auto eager = parse_command_line(SV("--runtime=eager"));
    REQUIRE(eager);
    CHECK(eager->options.runtime_start == RuntimeStart::at_running);
    auto bad = parse_command_line(SV("--runtime", "isolated"));
    REQUIRE_FALSE(bad);
    CHECK_THAT(bad.error().message, Catch::Contains("--runtime: unknown runtime 'isolated'") &&
                                        Catch::Contains("eager or lazy"));
    CHECK_THAT(std::string(eci::emulator::usage_text()), Catch::Contains("--runtime eager|lazy"));
}

TEST_CASE(
    "emulator lazy runtime: Running sandboxes have no processes until their first exec, "
    "which concurrent execs share",
    "[emulator][lazy]") {
    Harness h(lazy_options());
    h.run([&]() -> asio::awaitable<void> {
        using namespace boost::asio::experimental::awaitable_operators;
        auto client = h.client();
        std::vector<std::string> ids;
        for (int i = 0; i < 3; ++i) {
            ids.push_back(co_await create_sandbox(client, "lazy-" + std::to_string(i),
                                                  announcing_main(),
                                                  P("Container.1.EnvironmentVar.1.Key", "GREETING",
                                                    "Container.1.EnvironmentVar.1.Value", "hi")));
        }
        for (const auto& id : ids)
            REQUIRE(co_await wait_status(client, id, "Running") == "Running");
        // Running, reported as a start is, and nothing runs yet.
        auto group = co_await describe_one(client, ids[0]);
        const auto& container = group.at("Containers").as_array().at(0);
        CHECK(container.at("Ready").as_bool());
        CHECK(container.at("CurrentState").at("State").as_string() == "Running");
        CHECK(top_stat(h, "runtime_sandboxes") == 0);
        CHECK(top_stat(h, "processes") == 0);
        CHECK(top_stat(h, "deferred_starts") == 0);
        CHECK(stats_of(h).at("runtime").as_string() == "lazy");
        CHECK((co_await log_of(client, ids[0])).empty());

        // Two first execs at once: both run, in one runtime sandbox started once.
        std::string first = co_await exec_uri(client, ids[0], V("/bin/sh", "-c", "echo one"));
        std::string second = co_await exec_uri(client, ids[0], V("/bin/sh", "-c", "echo two"));
        auto [one, two] = co_await (exec_stdout(h, first) && exec_stdout(h, second));
        CHECK(one == "one\n");
        CHECK(two == "two\n");
        CHECK(top_stat(h, "runtime_sandboxes") == 1);
        CHECK(top_stat(h, "deferred_starts") == 1);
        CHECK(top_stat(h, "processes") > 0);

        // A Sync exec starts its sandbox too, with the container's environment.
        auto sync = co_await must_call(
            client, "ExecContainerCommand",
            exec_params(ids[1], V("/bin/sh", "-c", "echo \"$GREETING\""), P("Sync", "true")));
        INFO(sync.body);
        CHECK(sync.str("SyncResponse") == "hi\n");
        CHECK(top_stat(h, "runtime_sandboxes") == 2);

        // The main process ran from the first exec on: its log says so.
        std::string log;
        const auto deadline = std::chrono::steady_clock::now() + 5s;
        while (log.empty() && std::chrono::steady_clock::now() < deadline) {
            log = co_await log_of(client, ids[0]);
            if (log.empty())
                co_await sleep_for(10ms);
        }
        CHECK(log == "main-started\n");

        // Deletes, of started sandboxes and of one that never ran anything.
        for (const auto& id : ids) {
            auto deleted =
                co_await must_call(client, "DeleteContainerGroup", P("ContainerGroupId", id));
            CHECK(deleted.status == 200);
        }
        CHECK(top_stat(h, "sandboxes") == 0);
        CHECK(top_stat(h, "runtime_sandboxes") == 0);
        CHECK(top_stat(h, "processes") == 0);
        CHECK(top_stat(h, "deferred_starts") == 2);
    });
}

TEST_CASE("emulator lazy runtime: a restarted sandbox waits for its next exec again",
          "[emulator][lazy]") {
    Harness h(lazy_options());
    h.run([&]() -> asio::awaitable<void> {
        auto client = h.client();
        auto id = co_await create_sandbox(client, "lazy-restart", announcing_main(), P());
        REQUIRE(co_await wait_status(client, id, "Running") == "Running");
        CHECK(co_await exec_stdout(h, co_await exec_uri(client, id, V("echo", "before"))) ==
              "before\n");
        CHECK(top_stat(h, "runtime_sandboxes") == 1);

        auto restarted =
            co_await must_call(client, "RestartContainerGroup", P("ContainerGroupId", id));
        CHECK(restarted.status == 200);
        REQUIRE(co_await wait_status(client, id, "Running") == "Running");
        // The old processes are gone and no new ones started.
        const auto deadline = std::chrono::steady_clock::now() + 5s;
        while (top_stat(h, "runtime_sandboxes") != 0 && std::chrono::steady_clock::now() < deadline)
            co_await sleep_for(10ms);
        CHECK(top_stat(h, "runtime_sandboxes") == 0);
        CHECK(co_await exec_stdout(h, co_await exec_uri(client, id, V("echo", "after"))) ==
              "after\n");
        CHECK(top_stat(h, "runtime_sandboxes") == 1);
        CHECK(top_stat(h, "deferred_starts") == 2);

        auto deleted =
            co_await must_call(client, "DeleteContainerGroup", P("ContainerGroupId", id));
        CHECK(deleted.status == 200);
        CHECK(top_stat(h, "runtime_sandboxes") == 0);
    });
}

TEST_CASE("emulator lazy runtime: an exec of a sandbox deleted before it started is refused",
          "[emulator][lazy]") {
    Harness h(lazy_options());
    h.run([&]() -> asio::awaitable<void> {
        auto client = h.client();
        auto id = co_await create_sandbox(client, "lazy-gone", announcing_main(), P());
        REQUIRE(co_await wait_status(client, id, "Running") == "Running");
        // The URI is granted while Running; the sandbox goes before the WebSocket comes.
        auto reply =
            co_await must_call(client, "ExecContainerCommand", exec_params(id, V("echo", "never")));
        REQUIRE(reply.status == 200);
        auto deleted =
            co_await must_call(client, "DeleteContainerGroup", P("ContainerGroupId", id));
        CHECK(deleted.status == 200);
        auto transcript = co_await run_exec_socket(h.io.get_executor(), reply.str("WebSocketUri"),
                                                   h.emulator->ready().ca_pem, ExecScript());
        REQUIRE(transcript);
        CHECK(transcript->handshake_refused);
        CHECK(transcript->http_status == 404);
        CHECK(transcript->stdout_data.empty());
        CHECK(top_stat(h, "runtime_sandboxes") == 0);
        CHECK(top_stat(h, "processes") == 0);
    });
}
