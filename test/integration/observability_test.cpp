// SPDX-License-Identifier: Apache-2.0
// Seeing what the client does (issue 18): structured log fields over a whole lifecycle, the
// exec WebSocket's life at debug, the per-call hook and the latency histograms, read through
// the blocking facade's const accessor.
#include "integration/emulator_thread.hpp"
#include "integration/sandbox_fixture.hpp"

#include <eci/blocking.hpp>

#include <fmt/format.h>

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

using namespace eci;
using namespace eci::test;
namespace asio = boost::asio;

namespace {

// A log line with its fields copied out (the views live only during the sink call).
struct Logged {
    LogLevel level = LogLevel::info;
    std::string message;
    std::string action;
    std::string sandbox_id;
    std::string request_id;
    std::optional<int> exit_code;
    bool has_latency = false;
};

struct LogCapture {
    std::vector<Logged> lines;
    Logger logger(LogLevel level) {
        Logger logger;
        logger.level = level;
        logger.record_sink = [this](const LogRecord& record) {
            const auto& f = record.fields;
            lines.push_back(Logged{record.level, std::string(record.message), std::string(f.action),
                                   std::string(f.sandbox_id), std::string(f.request_id),
                                   f.exit_code, f.latency.has_value()});
        };
        return logger;
    }
    std::vector<Logged> matching(std::string_view text) const {
        std::vector<Logged> found;
        for (const auto& line : lines)
            if (line.message.find(text) != std::string::npos)
                found.push_back(line);
        return found;
    }
};

}  // namespace

TEST_CASE(
    "observability e2e: a create, bash and delete log the exec WebSocket's life and "
    "every call with its sandbox, RequestId and latency",
    "[observability][sandbox-e2e]") {
    AsyncSandboxFixture fx;
    LogCapture capture;
    auto created =
        AsyncEciSandbox::from_config(fx.io.get_executor(), client_config_for(fx.emulator->ready()),
                                     capture.logger(LogLevel::debug));
    REQUIRE(created.ok());
    auto& client = *created;
    std::string id;
    fx.run([&]() -> asio::awaitable<void> {
        auto sandbox = co_await make_running_sandbox(client, "observed");
        id = sandbox.id();
        auto run = co_await sandbox.bash("echo hi; exit 5");
        REQUIRE(run.ok());
        CHECK(run->exit_code == 5);
        auto removed = co_await sandbox.remove();
        CHECK(removed.ok());
    });

    // The sandbox's life, at info, named by its id.
    REQUIRE(capture.matching("created").size() == 1);
    CHECK(capture.matching("created")[0].sandbox_id == id);
    CHECK(capture.matching("created")[0].level == LogLevel::info);
    REQUIRE(capture.matching(" deleted").size() == 1);
    CHECK(capture.matching(" deleted")[0].sandbox_id == id);
    CHECK_FALSE(capture.matching(" deleted")[0].request_id.empty());

    // The exec WebSocket: connected, then closed with the command's exit code, at debug,
    // tied to the sandbox and to the ExecContainerCommand's RequestId.
    const auto connected = capture.matching("exec WebSocket connected");
    const auto closed = capture.matching("exec WebSocket closed");
    REQUIRE(connected.size() == 1);
    REQUIRE(closed.size() == 1);
    CHECK(connected[0].level == LogLevel::debug);
    CHECK(connected[0].sandbox_id == id);
    CHECK(connected[0].has_latency);
    CHECK(closed[0].exit_code == 5);
    CHECK(closed[0].sandbox_id == id);
    CHECK(closed[0].request_id == connected[0].request_id);
    CHECK_FALSE(closed[0].request_id.empty());

    // Every API call's end: its action, RequestId and latency; the exec and the delete name
    // the sandbox.
    const auto ends = capture.matching("succeeded in");
    REQUIRE(ends.size() >= 4);  // create, describe (wait), exec, delete
    for (const auto& end : ends) {
        INFO(end.message);
        CHECK_FALSE(end.action.empty());
        CHECK_FALSE(end.request_id.empty());
        CHECK(end.has_latency);
        if (end.action == "ExecContainerCommand" || end.action == "DeleteContainerGroup")
            CHECK(end.sandbox_id == id);
    }
    // Many more than the ten lines this run logged before issue 18, at the most verbose level.
    CHECK(capture.lines.size() >= 12);
}

TEST_CASE(
    "observability e2e: the blocking facade's const stats() and the call hook agree on "
    "every call",
    "[observability][sandbox-e2e]") {
    EmulatorThread emu;
    with_deadline(
        [&] {
            std::mutex mutex;
            std::map<std::string, int> starts, finishes;
            auto config = client_config_for(emu.ready());
            config.call_hook = [&](const CallEvent& event) {
                const std::lock_guard lock(mutex);
                auto& counter = event.phase == CallPhase::start ? starts : finishes;
                ++counter[std::string(event.action)];
            };
            auto made = EciSandbox::from_config(config);
            REQUIRE(made.ok());
            std::optional<EciSandbox> client(std::move(*made));
            CreateOptions options;
            options.image = "registry.example/ubuntu:22.04";
            options.wait_until_running = true;
            auto sandbox = client->create(options);
            REQUIRE(sandbox.ok());
            auto run = sandbox->bash("echo hi");
            REQUIRE(run.ok());

            // Read through const references: no mutable access needed to observe.
            const EciSandbox& const_client = *client;
            const Sandbox& const_sandbox = *sandbox;
            const ClientStats stats = const_client.stats();
            CHECK(const_sandbox.stats().api_calls == stats.api_calls);
            CHECK(const_sandbox.async_handle().client().api().config().region_id ==
                  config.region_id);
            for (const char* action :
                 {"CreateContainerGroup", "DescribeContainerGroups", "ExecContainerCommand"}) {
                INFO(action);
                REQUIRE(stats.api_latency.count(action) == 1);
                const auto& histogram = stats.api_latency.at(action);
                CHECK(histogram.count >= 1);
                CHECK(histogram.max > std::chrono::microseconds(0));
                CHECK(histogram.quantile(0.5) <= histogram.max);
                const std::lock_guard lock(mutex);
                CHECK(starts[action] == static_cast<int>(stats.api_calls.at(action)));
                CHECK(finishes[action] == starts[action]);
            }
            CHECK(stats.api_failures.empty());

            REQUIRE(sandbox->remove().ok());
            // After the client is gone the handle still reads the last counters.
            client.reset();
            const ClientStats last = const_sandbox.stats();
            CHECK(last.api_calls.at("DeleteContainerGroup") >= 1);
            CHECK(last.api_latency.at("DeleteContainerGroup").count == 1);
        },
        std::chrono::seconds(60));
}
