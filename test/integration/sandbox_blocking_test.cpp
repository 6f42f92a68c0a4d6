// SPDX-License-Identifier: Apache-2.0
// The blocking facade: its own io_context and thread, called from 8 threads at once, and
// destroyed with work in flight.
#include "integration/emulator_thread.hpp"
#include "integration/sandbox_fixture.hpp"
#include "support/proc_scan.hpp"

#include <eci/blocking.hpp>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <future>
#include <optional>
#include <string>
#include <thread>
#include <vector>

using namespace eci;
using namespace eci::test;
namespace asio = boost::asio;
using std::chrono::seconds;

namespace {

// A Running sandbox made through the blocking client; requires success.
std::optional<Sandbox> create_running(EciSandbox& client) {
    CreateOptions options;
    options.image = "registry.example/ubuntu:22.04";
    options.wait_until_running = true;
    auto sandbox = client.create(options);
    REQUIRE(sandbox.ok());
    return std::move(*sandbox);
}

}  // namespace

TEST_CASE("sandbox blocking: 8 threads share one client", "[sandbox-e2e][serial]") {
    EmulatorThread emu;
    with_deadline(
        [&] {
            auto client = EciSandbox::from_config(client_config_for(emu.ready()));
            REQUIRE(client.ok());
            auto sandbox = create_running(*client);
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
            // The handler runs on the client's thread while list_pages blocks this one.
            const auto caller = std::this_thread::get_id();
            std::vector<std::string> streamed;
            auto paged = client->list_pages({}, [&](ListPage page) {
                CHECK(std::this_thread::get_id() != caller);
                streamed = std::move(page.sandbox_ids);
                return true;
            });
            REQUIRE(paged.ok());
            CHECK(paged->pages == 1);
            CHECK(streamed == std::vector<std::string>{sandbox->id()});
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
                auto client = EciSandbox::from_config(client_config_for(emu.ready()));
                REQUIRE(client.ok());
                sandbox = create_running(*client);
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

TEST_CASE("sandbox blocking: tmux jobs and file transfers from 8 threads at once",
          "[tmux][files][serial]") {
    EmulatorThread emu;
    with_deadline(
        [&] {
            auto client = EciSandbox::from_config(client_config_for(emu.ready()));
            REQUIRE(client.ok());
            auto sandbox = create_running(*client);
            std::atomic<int> ok{0};
            std::vector<std::string> failures(8);
            std::vector<std::thread> threads;
            for (int t = 0; t < 8; ++t) {
                threads.emplace_back([&, t] {
                    const auto tag = std::to_string(t);
                    std::string content(50000 + static_cast<std::size_t>(t), '\0');
                    for (std::size_t i = 0; i < content.size(); ++i)
                        content[i] =
                            static_cast<char>((i * 31 + static_cast<std::size_t>(t)) & 0xff);
                    const auto path = "/tmp/blocking-" + tag + ".bin";
                    // Half the threads use the handle, half the client by id.
                    auto written = t % 2 == 0 ? sandbox->write_file_ws(path, content)
                                              : client->write_file_ws(sandbox->id(), path, content);
                    auto read = sandbox->read_file(path);
                    if (written.ok() && written->size == content.size() && read.ok() &&
                        read->content == content) {
                        ++ok;
                    } else {
                        failures[static_cast<std::size_t>(t)] += "file ";
                    }
                    TmuxWaitOptions wait;
                    wait.timeout = seconds(30);
                    wait.poll_interval = std::chrono::milliseconds(50);
                    auto id = t % 2 == 0 ? sandbox->tmux_start("echo job " + tag + "; exit " + tag)
                                         : client->tmux_start(sandbox->id(),
                                                              "echo job " + tag + "; exit " + tag);
                    if (!id.ok()) {
                        failures[static_cast<std::size_t>(t)] += id.error().to_string();
                        return;
                    }
                    auto done = t % 2 == 0 ? sandbox->tmux_wait(*id, wait)
                                           : client->tmux_wait(sandbox->id(), *id, wait);
                    if (done.ok() && done->status == TmuxStatus::completed &&
                        done->exit_code == t && done->output == "job " + tag) {
                        ++ok;
                    } else {
                        failures[static_cast<std::size_t>(t)] +=
                            done.ok() ? "wait: " + std::string(to_string(done->status)) + ": " +
                                            done->output
                                      : done.error().to_string();
                    }
                });
            }
            for (auto& thread : threads)
                thread.join();
            for (const auto& failure : failures)
                CHECK(failure == std::string());
            CHECK(ok == 8 * 2);
            // Every wait cleaned up its session.
            auto sessions = sandbox->tmux_list();
            REQUIRE(sessions.ok());
            CHECK(sessions->empty());
            auto polled = sandbox->tmux_poll("eci_cmd_000000000000");
            REQUIRE(polled.ok());
            CHECK(polled->status == TmuxStatus::not_found);
            auto killed = client->tmux_kill(sandbox->id(), "eci_cmd_000000000000");
            REQUIRE(killed.ok());
            CHECK_FALSE(*killed);
            auto listed = client->tmux_list(sandbox->id());
            REQUIRE(listed.ok());
            auto by_id = client->tmux_poll(sandbox->id(), "nothing-here");
            REQUIRE(by_id.ok());
            CHECK(by_id->status == TmuxStatus::not_found);
            auto read_back = client->read_file(sandbox->id(), "/tmp/blocking-0.bin");
            REQUIRE(read_back.ok());
            CHECK(read_back->content.size() == 50000);
            auto handle_kill = sandbox->tmux_kill("nothing-here");
            REQUIRE(handle_kill.ok());
            CHECK_FALSE(*handle_kill);
            CHECK(sandbox->remove().ok());
        },
        seconds(120));
}

TEST_CASE("sandbox blocking: destroying the client while the server stalls an exec start",
          "[sandbox-e2e]") {
    // The emulator's exec child hangs before it starts the command, so the call is stuck
    // inside the server: cancellation must not depend on the server answering.
    auto options = sandbox_emulator_options();
    options.exec_child_stall = std::chrono::seconds(60);
    options.kill_timeout = std::chrono::seconds(5);
    EmulatorThread emu(options);
    if (emu.child) {
        WARN("needs the in-process emulator (its test hook has no flag): skipped");
        return;
    }
    with_deadline(
        [&] {
            std::optional<Sandbox> sandbox;
            std::future<Result<CommandResult>> pending;
            std::chrono::steady_clock::time_point destroyed;
            {
                auto client = EciSandbox::from_config(client_config_for(emu.ready()));
                REQUIRE(client.ok());
                sandbox = create_running(*client);
                const auto before = children_of(::getpid());
                pending = std::async(std::launch::async, [&] { return sandbox->bash("echo hi"); });
                // The stalled exec child is a new child of this process (the emulator's).
                const auto deadline = std::chrono::steady_clock::now() + seconds(20);
                bool stalled = false;
                while (!stalled && std::chrono::steady_clock::now() < deadline) {
                    const auto now = children_of(::getpid());
                    stalled = std::any_of(now.begin(), now.end(),
                                          [&](int pid) { return before.count(pid) == 0; });
                    if (!stalled)
                        std::this_thread::sleep_for(std::chrono::milliseconds(5));
                }
                REQUIRE(stalled);
                destroyed = std::chrono::steady_clock::now();
            }  // the client is destroyed here; the server has not answered
            REQUIRE(pending.wait_for(seconds(30)) == std::future_status::ready);
            const auto took = std::chrono::steady_clock::now() - destroyed;
            auto result = pending.get();
            REQUIRE_FALSE(result.ok());
            CHECK(result.error().kind == ErrorKind::cancelled);
            CHECK(took < seconds(2));  // promptly, not after the server's 5 s
        },
        seconds(90));
}
