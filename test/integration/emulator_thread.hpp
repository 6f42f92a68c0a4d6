// The emulator on its own io_context and thread, for tests of the blocking facade.
#pragma once

#include "integration/sandbox_fixture.hpp"

#include <boost/asio/executor_work_guard.hpp>

#include <future>
#include <thread>

namespace eci::test {

struct EmulatorThread {
    explicit EmulatorThread(emulator::EmulatorOptions options = sandbox_emulator_options()) {
        auto started = emulator::Emulator::start(io.get_executor(), std::move(options));
        if (!started)
            FAIL("emulator did not start: " << started.error().to_string());
        emulator = std::move(*started);
        thread = std::thread([this] { io.run(); });
    }
    ~EmulatorThread() {
        std::promise<void> stopped;
        boost::asio::co_spawn(io, emulator->stop(),
                              [&](std::exception_ptr) { stopped.set_value(); });
        stopped.get_future().wait_for(std::chrono::seconds(20));
        work.reset();
        io.stop();
        thread.join();
    }
    boost::asio::io_context io;
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work{
        io.get_executor()};
    std::unique_ptr<emulator::Emulator> emulator;
    std::thread thread;
};

}  // namespace eci::test
