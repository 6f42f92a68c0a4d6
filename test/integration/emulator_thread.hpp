// SPDX-License-Identifier: Apache-2.0
// The emulator for tests of the blocking facade: on its own io_context and thread in this
// process, or, when ECI_TEST_EMULATOR names an eci-emulator binary, as a child process.
//
// The child-process form is what the TSan preset uses: the emulator starts every sandbox
// process with a raw clone3, and a child cloned from a multi-threaded ThreadSanitizer process
// inherits the sanitizer's locks as the other threads held them, so it can spin forever
// before it reaches execve. An uninstrumented emulator in its own process has no such state.
#pragma once

#include "integration/sandbox_fixture.hpp"
#include "support/child_process.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value_to.hpp>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <future>
#include <optional>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace eci::test {

struct EmulatorThread {
    explicit EmulatorThread(emulator::EmulatorOptions options = sandbox_emulator_options()) {
        if (const char* binary = std::getenv("ECI_TEST_EMULATOR"); binary && *binary) {
            start_child(binary, options);
            return;
        }
        auto started = emulator::Emulator::start(io.get_executor(), std::move(options));
        if (!started)
            FAIL("emulator did not start: " << started.error().to_string());
        emulator = std::move(*started);
        thread = std::thread([this] { io.run(); });
    }
    ~EmulatorThread() {
        if (child) {
            CHECK(child->stop() == 0);  // it removes every sandbox and exits 0
            return;
        }
        std::promise<void> stopped;
        boost::asio::co_spawn(io, emulator->stop(),
                              [&](std::exception_ptr) { stopped.set_value(); });
        stopped.get_future().wait_for(std::chrono::seconds(20));
        work.reset();
        io.stop();
        thread.join();
    }

    /// Where and how to reach the emulator, whichever form it runs in.
    const emulator::ReadyInfo& ready() const { return child ? child_ready : emulator->ready(); }

    boost::asio::io_context io;
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work{
        io.get_executor()};
    std::unique_ptr<emulator::Emulator> emulator;  ///< the in-process form
    std::thread thread;
    std::optional<ChildProcess> child;  ///< the child-process form
    emulator::ReadyInfo child_ready;

  private:
    void start_child(const std::string& binary, const emulator::EmulatorOptions& options) {
        if (!std::filesystem::exists(binary)) {
            FAIL("ECI_TEST_EMULATOR=" << binary
                                      << " does not exist; build it with: cmake --preset dev && "
                                         "cmake --build --preset dev --target eci-emulator");
        }
        ProcessOptions process;
        for (char** entry = environ; *entry != nullptr; ++entry)
            process.environment.emplace_back(*entry);
        // Never on argv: `ps` shows it to every user.
        process.environment.push_back(std::string(emulator::access_key_secret_env) + "=" +
                                      options.access_key_secret);
        child.emplace(binary,
                      std::vector<std::string>{
                          "--start-delay-ms", std::to_string(options.start_delay.count()),
                          "--access-key-id", options.access_key_id, "--region", options.region_id},
                      process);
        REQUIRE(child->pid() > 0);
        auto line = child->read_line(std::chrono::seconds(30));
        REQUIRE(line.has_value());
        const auto parsed = boost::json::parse(*line).as_object();
        auto text = [&](const char* key) {
            return boost::json::value_to<std::string>(parsed.at(key));
        };
        child_ready.endpoint = text("endpoint");
        child_ready.scheme = text("scheme");
        child_ready.ca_file = text("ca_file");
        child_ready.region_id = text("region_id");
        child_ready.access_key_id = text("access_key_id");
        child_ready.access_key_secret = text("access_key_secret");
        const auto colon = child_ready.endpoint.rfind(':');
        REQUIRE(colon != std::string::npos);
        child_ready.port =
            static_cast<std::uint16_t>(std::stoi(child_ready.endpoint.substr(colon + 1)));
    }
};

}  // namespace eci::test
