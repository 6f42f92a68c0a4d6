// SPDX-License-Identifier: Apache-2.0
// Sandboxes that never reach Running (more vCPU than the zone has: ScheduleFailed with the
// service's NoStock event), and unicode in
// environment values and tmux commands, end to end against the emulator over TLS.
#include "integration/sandbox_fixture.hpp"

#include <algorithm>
#include <string>
#include <vector>

using namespace eci;
using namespace eci::test;
namespace asio = boost::asio;
using std::chrono::seconds;

namespace {

// The ids of every listed sandbox that `text` names: the failed sandbox is left for the
// caller (keep_on_failure), and its id in the error message must be one the service knows.
asio::awaitable<std::vector<std::string>> listed_ids_in(AsyncEciSandbox& client, std::string text) {
    auto all = co_await client.list_all();
    require_ok(all);
    std::vector<std::string> named;
    for (const auto& info : *all) {
        if (text.find(info.sandbox_id) != std::string::npos)
            named.push_back(info.sandbox_id);
    }
    co_return named;
}

}  // namespace

TEST_CASE("sandbox start: ScheduleFailed (no stock) is reported with the NoStock event",
          "[sandbox-e2e][start]") {
    auto emulator_options = sandbox_emulator_options();
    emulator_options.max_sandbox_cpu = 4;
    AsyncSandboxFixture fx(emulator_options);
    fx.run([&]() -> asio::awaitable<void> {
        CreateOptions options;
        options.image = "registry.example/ubuntu:22.04";
        options.name = "too-big";
        options.cpu = 8;
        options.memory = 16;
        options.wait_until_running = true;
        options.wait_timeout = seconds(20);
        options.keep_on_failure = true;  // inspected below (without it, it is deleted)
        auto created = co_await fx.client->create(options);
        REQUIRE_FALSE(created.ok());
        const Error& error = created.error();
        INFO(error.to_string());
        CHECK(error.kind == ErrorKind::service);
        CHECK(error.code == "ScheduleFailed");
        CHECK(error.service_message.find("NoStock") != std::string::npos);
        CHECK(error.service_message.find("out of stock") != std::string::npos);
        auto named = co_await listed_ids_in(*fx.client, error.message);
        REQUIRE(named.size() == 1);
        CHECK(error.sandbox_id == named.front());
        CHECK_FALSE(error.sandbox_deleted);

        // wait_until_running on the id says the same; no container ever ran.
        auto waited = co_await fx.client->wait_until_running(named.front(), seconds(5));
        REQUIRE_FALSE(waited.ok());
        CHECK(waited.error().code == "ScheduleFailed");
        auto info = co_await fx.client->get_sandbox(named.front());
        require_ok(info);
        REQUIRE(info->containers.size() == 1);
        CHECK(info->containers[0].current_state.state == "Waiting");
        require_ok(co_await fx.client->remove(named.front()));

        // A sandbox within the limit still runs.
        auto small = co_await make_running_sandbox(*fx.client, "fits");
        require_ok(co_await small.remove());
    });
}

TEST_CASE("sandbox e2e: unicode in environment values and tmux commands", "[sandbox-e2e][tmux]") {
    AsyncSandboxFixture fx;
    fx.run([&]() -> asio::awaitable<void> {
        const std::string value = "héllo wörld 日本語 🚀 \"quoted\" $NOT_EXPANDED";
        CreateOptions options;
        options.image = "registry.example/ubuntu:22.04";
        options.name = "unicode-env";
        options.env = {{"GREETING", value}};
        options.wait_until_running = true;
        options.wait_timeout = seconds(20);
        auto sandbox = co_await fx.client->create(options);
        require_ok(sandbox);
        auto printed = co_await sandbox->bash("printf %s \"$GREETING\"");
        require_ok(printed);
        CHECK(printed->stdout_text == value);
        CHECK(printed->exit_code == 0);

        const std::string line = "ünïcødé 日本 ✓ — 🚀";
        auto id = co_await sandbox->tmux_start("printf '%s\\n' '" + line + "'; exit 4");
        require_ok(id);
        TmuxWaitOptions wait;
        wait.timeout = seconds(20);
        auto done = co_await sandbox->tmux_wait(*id, wait);
        require_ok(done);
        CHECK(done->exit_code == 4);
        CHECK(done->output == line);
        require_ok(co_await sandbox->remove());
    });
}
