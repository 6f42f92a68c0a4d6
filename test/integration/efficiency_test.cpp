// SPDX-License-Identifier: Apache-2.0
// What operations cost, asserted through the client's counters: an exec on a handle is one
// API call and one WebSocket; concurrent calls reuse the pool's TLS connections.
#include "integration/sandbox_fixture.hpp"

#include <boost/asio/detached.hpp>

#include <vector>

using namespace eci;
using namespace eci::test;
namespace asio = boost::asio;
using std::chrono::seconds;

TEST_CASE("efficiency: an exec on a handle costs exactly one API call and one WebSocket",
          "[efficiency]") {
    AsyncSandboxFixture fx;
    fx.run([&]() -> asio::awaitable<void> {
        auto sandbox = co_await make_running_sandbox(*fx.client, "cost-exec");
        auto measure = [&](const ClientStats& before) {
            const auto after = fx.client->api().stats();
            CHECK(after.total_api_calls() - before.total_api_calls() == 1);
            CHECK(after.api_calls.at("ExecContainerCommand") -
                      (before.api_calls.count("ExecContainerCommand")
                           ? before.api_calls.at("ExecContainerCommand")
                           : 0) ==
                  1);
            CHECK(after.ws_connections - before.ws_connections == 1);
        };
        auto before = fx.client->api().stats();
        auto bash = co_await sandbox.bash("echo hi");
        REQUIRE(bash.ok());
        CHECK(bash->stdout_text == "hi\n");
        measure(before);

        before = fx.client->api().stats();
        std::vector<std::string> argv{"echo", "argv"};
        auto exec = co_await sandbox.exec_command(argv);
        REQUIRE(exec.ok());
        CHECK(exec->stdout_text == "argv\n");
        measure(before);

        before = fx.client->api().stats();
        auto ws = co_await sandbox.bash_ws("echo ws");
        REQUIRE(ws.ok());
        measure(before);
    });
}

TEST_CASE(
    "efficiency: 32 concurrent API calls to one endpoint use at most the pool size in "
    "TLS handshakes",
    "[efficiency]") {
    AsyncSandboxFixture fx;
    fx.run([&]() -> asio::awaitable<void> {
        auto config = client_config_for(fx.emulator->ready());
        config.pool.max_connections_per_endpoint = 4;
        auto created = AsyncEciSandbox::from_config(fx.io.get_executor(), std::move(config));
        REQUIRE(created.ok());
        auto client = std::move(*created);
        auto executor = co_await asio::this_coro::executor;
        int ok = 0;
        int done = 0;
        for (int i = 0; i < 32; ++i) {
            asio::co_spawn(
                executor,
                [&, client]() mutable -> asio::awaitable<void> {
                    auto page = co_await client.list();
                    if (page.ok())
                        ++ok;
                    ++done;
                },
                asio::detached);
        }
        REQUIRE(co_await wait_until([&] { return done == 32; }, seconds(30)));
        const auto stats = client.api().stats();
        CHECK(ok == 32);
        CHECK(stats.api_calls.at("DescribeContainerGroups") == 32);
        CHECK(stats.tls_handshakes >= 1);
        CHECK(stats.tls_handshakes <= 4);
        CHECK(stats.connections_opened <= 4);
    });
}
