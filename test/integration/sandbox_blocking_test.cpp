// The blocking facade: its own io_context and thread, called from 8 threads at once, and
// destroyed with work in flight.
#include "integration/emulator_thread.hpp"
#include "integration/sandbox_fixture.hpp"

#include <eci/blocking.hpp>

#include <atomic>
#include <future>
#include <thread>
#include <vector>

using namespace eci;
using namespace eci::test;
namespace asio = boost::asio;
using std::chrono::seconds;

namespace {

// Runs `body` on a thread and fails the test if it does not finish within `deadline`.
template <class Body>
void with_deadline(Body body, std::chrono::seconds deadline) {
    auto task = std::async(std::launch::async, std::move(body));
    if (task.wait_for(deadline) != std::future_status::ready) {
        FAIL("blocking test did not finish within its deadline");
    }
    task.get();
}

}  // namespace

TEST_CASE("sandbox blocking: 8 threads share one client", "[sandbox-e2e]") {
    EmulatorThread emu;
    with_deadline(
        [&] {
            auto client = EciSandbox::create(client_config_for(emu.emulator->ready()));
            REQUIRE(client.ok());
            CreateOptions options;
            options.image = "registry.example/ubuntu:22.04";
            options.wait_until_running = true;
            auto sandbox = client->create(options);
            REQUIRE(sandbox.ok());
            std::atomic<int> ok{0};
            std::vector<std::thread> threads;
            for (int t = 0; t < 8; ++t) {
                threads.emplace_back([&, t] {
                    for (int i = 0; i < 3; ++i) {
                        auto run = sandbox->bash("echo t" + std::to_string(t));
                        if (run.ok() && run->stdout_text == "t" + std::to_string(t) + "\n" &&
                            run->exit_code == 0) {
                            ++ok;
                        }
                        auto info = client->get_sandbox(sandbox->id());
                        if (info.ok() && info->status == "Running")
                            ++ok;
                    }
                });
            }
            for (auto& thread : threads)
                thread.join();
            CHECK(ok == 8 * 3 * 2);
            auto listed = client->list_all();
            REQUIRE(listed.ok());
            CHECK(listed->size() == 1);
            CHECK(sandbox->remove().ok());
            CHECK(sandbox->remove().ok());
        },
        seconds(90));
}

TEST_CASE("sandbox blocking: destroying the client cancels calls in flight", "[sandbox-e2e]") {
    EmulatorThread emu;
    with_deadline(
        [&] {
            std::optional<Sandbox> sandbox;
            std::future<Result<CommandResult>> pending;
            {
                auto client = EciSandbox::create(client_config_for(emu.emulator->ready()));
                REQUIRE(client.ok());
                CreateOptions options;
                options.image = "registry.example/ubuntu:22.04";
                options.wait_until_running = true;
                auto created = client->create(options);
                REQUIRE(created.ok());
                sandbox.emplace(std::move(*created));
                std::promise<void> started;
                auto started_future = started.get_future();
                pending = std::async(std::launch::async, [&] {
                    ExecOptions exec;
                    bool signalled = false;
                    exec.on_output = [&](OutputStream, std::string_view) {
                        if (!signalled)
                            started.set_value();
                        signalled = true;
                    };
                    return sandbox->bash("echo hi; sleep 30", exec);
                });
                // The command is running once its first output arrived.
                REQUIRE(started_future.wait_for(seconds(20)) == std::future_status::ready);
            }  // the client is destroyed here with the bash call in flight
            auto result = pending.get();
            REQUIRE_FALSE(result.ok());
            CHECK(result.error().kind == ErrorKind::cancelled);
            auto after = sandbox->info();
            REQUIRE_FALSE(after.ok());
            CHECK(after.error().kind == ErrorKind::cancelled);
        },
        seconds(60));
}
