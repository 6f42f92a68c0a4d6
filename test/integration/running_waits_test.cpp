// SPDX-License-Identifier: Apache-2.0
// The shared wait for Running against the emulator over TLS: many sandboxes waited for at once
// cost a few batched DescribeContainerGroups, and each wait keeps its own outcome.
#include "integration/sandbox_fixture.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>

#include <string>
#include <vector>

using namespace eci;
using namespace eci::test;
namespace asio = boost::asio;
using std::chrono::milliseconds;
using std::chrono::seconds;

TEST_CASE("running waits: 40 sandboxes waited for at once share batched describes",
          "[sandbox-e2e][serial]") {
    auto options = sandbox_emulator_options();
    options.start_delay = milliseconds(1500);
    AsyncSandboxFixture fx(std::move(options));
    fx.run(
        [&]() -> asio::awaitable<void> {
            constexpr int count = 40;
            std::vector<std::string> ids;
            for (int i = 0; i < count; ++i) {
                CreateOptions create;
                create.image = "registry.example/ubuntu:22.04";
                create.name = "shared-wait-" + std::to_string(i);
                create.wait_until_running = false;
                auto created = co_await fx.client->create(std::move(create));
                REQUIRE(created.ok());
                ids.push_back(created->id());
            }
            const auto before = api_calls(*fx.client, "DescribeContainerGroups");
            int running = 0;
            int finished = 0;
            auto executor = co_await asio::this_coro::executor;
            asio::steady_timer all_done(executor, asio::steady_timer::time_point::max());
            for (const auto& id : ids) {
                asio::co_spawn(
                    executor,
                    [&, id]() -> asio::awaitable<void> {
                        auto info = co_await fx.client->wait_until_running(id, seconds(30));
                        if (info.ok() && info->status == status::running && info->sandbox_id == id)
                            ++running;
                        if (++finished == count)
                            all_done.cancel();
                    },
                    asio::detached);
            }
            co_await all_done.async_wait(asio::as_tuple(asio::use_awaitable));
            const auto describes = api_calls(*fx.client, "DescribeContainerGroups") - before;
            // Alone, each wait polls at 0, 100, 250, 475, 812 and 1318 ms and about 2 s: some
            // 280 describes for 40 sandboxes that take 1.5 s to start. Shared: a couple of
            // 20-id calls per round.
            INFO("describes: " << describes);
            CHECK(running == count);
            CHECK(describes <= 30);
            CHECK(describes >= 2);
            for (const auto& id : ids) {
                auto removed = co_await fx.client->remove(id);
                CHECK(removed.ok());
            }
        },
        seconds(120));
}

TEST_CASE("running waits: an unknown id fails only its own wait, a timeout names the status",
          "[sandbox-e2e]") {
    auto options = sandbox_emulator_options();
    options.start_delay = milliseconds(800);
    AsyncSandboxFixture fx(std::move(options));
    fx.run(
        [&]() -> asio::awaitable<void> {
            CreateOptions create;
            create.image = "registry.example/ubuntu:22.04";
            create.name = "shared-wait-known";
            auto created = co_await fx.client->create(std::move(create));
            REQUIRE(created.ok());
            const std::string id = created->id();

            using namespace asio::experimental::awaitable_operators;
            auto both =
                co_await (fx.client->wait_until_running(id, seconds(20)) &&
                          fx.client->wait_until_running("eci-no-such-sandbox", seconds(20)));
            auto& known = std::get<0>(both);
            auto& unknown = std::get<1>(both);
            REQUIRE(known.ok());
            CHECK(known->status == status::running);
            REQUIRE_FALSE(unknown.ok());
            CHECK(unknown.error().kind == ErrorKind::not_found);
            CHECK(unknown.error().message.find("eci-no-such-sandbox") != std::string::npos);

            // A wait shorter than the start: a timeout that says what the sandbox was doing.
            auto restarted = co_await fx.client->restart(id);
            REQUIRE(restarted.ok());
            auto short_wait = co_await fx.client->wait_until_running(id, milliseconds(300));
            REQUIRE_FALSE(short_wait.ok());
            CHECK(short_wait.error().kind == ErrorKind::timeout);
            CHECK(short_wait.error().message.find("not Running after 300 ms") != std::string::npos);
            auto again = co_await fx.client->wait_until_running(id, seconds(20));
            CHECK(again.ok());
            auto removed = co_await fx.client->remove(id);
            CHECK(removed.ok());
        },
        seconds(90));
}
