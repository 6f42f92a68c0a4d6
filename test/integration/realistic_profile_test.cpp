// SPDX-License-Identifier: Apache-2.0
// The library against `eci-emulator --profile realistic --time-scale 100` (issue 16): start
// delays of 100-400 ms real and the documented per-minute limits per AccessKey. The client's
// own limiter (on by default, at the documented figures) keeps a small fan-out clear of
// Throttling.User, and every lifecycle completes.
#include "integration/sandbox_fixture.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json/parse.hpp>

#include <string>
#include <vector>

using namespace eci;
using namespace eci::test;
namespace asio = boost::asio;
using std::chrono::seconds;

namespace {

struct FanOut {
    explicit FanOut(asio::any_io_executor executor, int sandboxes)
        : count(sandboxes), all_done(executor, asio::steady_timer::time_point::max()) {}
    int count;
    int succeeded = 0;
    int finished = 0;
    std::vector<std::string> failures;
    asio::steady_timer all_done;
};

// create (waiting until Running), one command, delete: one sandbox's whole lifecycle.
asio::awaitable<void> one_lifecycle(AsyncEciSandbox* client, FanOut* fan_out, int index) {
    CreateOptions create;
    create.image = "registry.example/ubuntu:22.04";
    create.name = "realistic-" + std::to_string(index);
    create.wait_timeout = seconds(20);
    auto created = co_await client->create(std::move(create));
    if (!created) {
        fan_out->failures.push_back("create: " + created.error().to_string());
    } else {
        auto ran = co_await created->bash("echo ready");
        if (!ran || ran->stdout_text != "ready\n") {
            fan_out->failures.push_back("bash: " +
                                        (ran ? ran->stdout_text : ran.error().to_string()));
        } else {
            auto removed = co_await client->remove(created->id());
            if (removed)
                ++fan_out->succeeded;
            else
                fan_out->failures.push_back("remove: " + removed.error().to_string());
        }
    }
    if (++fan_out->finished == fan_out->count)
        fan_out->all_done.cancel();
}

// Runs 12 lifecycles at once against an emulator started with `args`; returns its stats.
boost::json::value fan_out_of_twelve(std::vector<std::string_view> args) {
    auto parsed = emulator::parse_command_line(args);
    REQUIRE(parsed);
    auto options = std::move(parsed->options);
    const auto test_options = sandbox_emulator_options();
    options.access_key_id = test_options.access_key_id;
    options.access_key_secret = test_options.access_key_secret;
    AsyncSandboxFixture fx(std::move(options));
    boost::json::value stats;
    fx.run(
        [&]() -> asio::awaitable<void> {
            auto executor = co_await asio::this_coro::executor;
            FanOut fan_out(executor, 12);
            const auto started = std::chrono::steady_clock::now();
            for (int i = 0; i < fan_out.count; ++i)
                asio::co_spawn(executor, one_lifecycle(&*fx.client, &fan_out, i), asio::detached);
            co_await fan_out.all_done.async_wait(asio::as_tuple(asio::use_awaitable));
            const auto elapsed = std::chrono::steady_clock::now() - started;
            for (const auto& failure : fan_out.failures)
                UNSCOPED_INFO(failure);
            CHECK(fan_out.succeeded == fan_out.count);
            // Each start took 10-40 s of service time: 100-400 ms here.
            CHECK(elapsed >= std::chrono::milliseconds(100));
            stats = boost::json::parse(fx.emulator->stats_json());
            CHECK(stats.at("start_delays_ms").at("count").to_number<int>() == fan_out.count);
            CHECK(stats.at("start_delays_ms").at("min").to_number<int>() >= 10'000);
            CHECK(stats.at("start_delays_ms").at("max").to_number<int>() <= 40'000);
            const auto& throttled = stats.at("faults_injected").as_object();
            CHECK_FALSE(throttled.contains("rate_limit"));
        },
        seconds(30));
    return stats;
}

}  // namespace

TEST_CASE("realistic profile: a small fan-out completes every lifecycle at time scale 100",
          "[sandbox-e2e][profile]") {
    const auto stats = fan_out_of_twelve({"--profile", "realistic", "--time-scale", "100"});
    CHECK(stats.at("runtime").as_string() == "eager");
    CHECK(stats.at("deferred_starts").to_number<int>() == 0);
}

TEST_CASE("realistic profile: on the lazy runtime each sandbox starts at its one exec",
          "[sandbox-e2e][profile][lazy]") {
    const auto stats =
        fan_out_of_twelve({"--profile", "realistic", "--time-scale", "100", "--runtime", "lazy"});
    CHECK(stats.at("runtime").as_string() == "lazy");
    // One start per sandbox, by its exec; every one deleted with its processes.
    CHECK(stats.at("deferred_starts").to_number<int>() == 12);
    CHECK(stats.at("runtime_sandboxes").to_number<int>() == 0);
    CHECK(stats.at("processes").to_number<int>() == 0);
    CHECK(stats.at("sandboxes").to_number<int>() == 0);
}
