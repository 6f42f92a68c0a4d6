// SPDX-License-Identifier: Apache-2.0
// The exec WebSocket end to end when the connection dies: the emulator's ws-drop fault cuts
// every session after its first frame; the command's error must carry the output so far, and
// the emulator must not keep the process.
#include "integration/sandbox_fixture.hpp"

#include <boost/json.hpp>

using namespace eci;
using namespace eci::test;
namespace asio = boost::asio;

TEST_CASE("ws robustness: a drop mid-stream is an error carrying the output so far",
          "[ws_robustness][sandbox-e2e]") {
    auto options = sandbox_emulator_options();
    options.faults.ws_drop = 1.0;
    AsyncSandboxFixture fx(options);
    fx.run([&]() -> asio::awaitable<void> {
        auto sandbox = co_await make_running_sandbox(*fx.client, "ws-drop");
        std::vector<std::string> argv;
        argv.emplace_back("sh");
        argv.emplace_back("-c");
        argv.emplace_back("echo first; sleep 5; echo second");
        const auto started = std::chrono::steady_clock::now();
        auto run = co_await sandbox.exec_command(argv);
        REQUIRE_FALSE(run.ok());
        INFO(run.error().to_string());
        CHECK(run.error().kind == ErrorKind::network);
        // The command may have run: never reported as not sent.
        CHECK(run.error().dispatch != Dispatch::not_sent);
        REQUIRE(run.error().partial != nullptr);
        CHECK(run.error().partial->stdout_text == "first\n");
        // Detected at once, not after the command's 5 s or an idle timeout.
        CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(4));

        // The emulator killed the command with its connection: only the main process is left.
        const auto stats = boost::json::parse(fx.emulator->stats_json());
        CHECK(stats.at("faults_injected").at("ws_drop").to_number<int>() >= 1);
        auto removed = co_await sandbox.remove();
        CHECK(removed.ok());
    });
}
