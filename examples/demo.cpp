// SPDX-License-Identifier: Apache-2.0
// eci-demo: the README's first command. Starts the bundled emulator in-process (real HTTPS with
// its own CA on an ephemeral port, real signature checks, real isolated processes with tmux),
// then drives it with the sandbox API: create a sandbox and wait until Running, run bash with
// its output and exit code, run a tmux job and poll it to the end, write a file and read it
// back, delete the sandbox, stop the emulator. Any failure ends the demo with exit code 1.
#include <eci/sandbox.hpp>

#include "emulator/emulator.hpp"

#include <fmt/format.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <chrono>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {

// Prints one step: a fixed-width label, then the text.
template <class... Args>
void step(std::string_view label, fmt::format_string<Args...> format, Args&&... args) {
    fmt::print("{:<9} {}\n", label, fmt::format(format, std::forward<Args>(args)...));
}

// The last non-empty line of `text` (what a poll shows of a job's progress).
std::string_view last_line(std::string_view text) {
    while (!text.empty() && text.back() == '\n')
        text.remove_suffix(1);
    auto newline = text.rfind('\n');
    return newline == std::string_view::npos ? text : text.substr(newline + 1);
}

// Fails the demo with the library's one-line error (never a stack trace).
#define DEMO_TRY(result, what)                                                 \
    if (!(result).ok()) {                                                      \
        fmt::print(stderr, "demo: {} failed: {}\n", (what), (result).error()); \
        co_return false;                                                       \
    }
#define DEMO_CHECK(condition, ...)                                  \
    if (!(condition)) {                                             \
        fmt::print(stderr, "demo: {}\n", fmt::format(__VA_ARGS__)); \
        co_return false;                                            \
    }

// Everything the demo does with one Running sandbox; false on the first failure.
asio::awaitable<bool> use_sandbox(eci::AsyncSandbox sandbox) {
    // bash: stdout and stderr apart, the exit code known (the wrapper reports it).
    auto run = co_await sandbox.bash(
        "echo \"$GREETING\"; echo \"kernel $(uname -s), user $(id -un)\"; echo oops >&2; exit 3");
    DEMO_TRY(run, "bash");
    step("bash", "exit code {} in {} ms, stdout:", run->exit_code.value_or(-1),
         run->duration.count());
    fmt::print("{}", run->stdout_text);
    step("bash", "stderr: {}", last_line(run->stderr_text));
    DEMO_CHECK(run->exit_code == 3, "bash: expected exit code 3");
    DEMO_CHECK(run->stdout_text.starts_with("hello from eci-sandbox\n"),
               "bash: unexpected output [{}]", run->stdout_text);

    // A tmux job: starts at once, keeps running in the sandbox; polled with backoff.
    auto job = co_await sandbox.tmux_start(
        "for i in 1 2 3 4; do echo \"step $i of 4\"; sleep 0.3; done; exit 0");
    DEMO_TRY(job, "tmux_start");
    step("tmux", "started job {}", *job);
    asio::steady_timer timer(co_await asio::this_coro::executor);
    auto delay = eci::tmux_defaults::poll_initial_delay;
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    eci::TmuxPollResult poll;
    for (int n = 1;; ++n) {
        auto polled = co_await sandbox.tmux_poll(*job);
        DEMO_TRY(polled, "tmux_poll");
        poll = std::move(*polled);
        step("poll", "#{} {} | {}", n, eci::to_string(poll.status), last_line(poll.output));
        if (poll.status != eci::TmuxStatus::running)
            break;
        DEMO_CHECK(std::chrono::steady_clock::now() < deadline,
                   "tmux job still running after 30 s");
        timer.expires_after(delay);
        co_await timer.async_wait(asio::use_awaitable);
        delay = std::min(std::chrono::duration_cast<std::chrono::milliseconds>(
                             delay * eci::tmux_defaults::poll_backoff_factor),
                         eci::tmux_defaults::poll_max_delay);
    }
    DEMO_CHECK(poll.status == eci::TmuxStatus::completed && poll.exit_code == 0,
               "tmux job ended {} with exit code {}", eci::to_string(poll.status),
               poll.exit_code.value_or(-1));
    step("tmux", "job completed with exit code 0 ({} lines of output)",
         std::count(poll.output.begin(), poll.output.end(), '\n') + 1);
    auto killed = co_await sandbox.tmux_kill(*job);
    DEMO_TRY(killed, "tmux_kill");

    // A file written and read back, byte-exact (checked with SHA-256 on both ends).
    std::string content = "line one\nçà et là: ünïcødé ✓\n";
    content.push_back('\0');
    content += "binary tail without newline";
    auto written = co_await sandbox.write_file_ws("/tmp/demo.txt", content);
    DEMO_TRY(written, "write_file_ws");
    step("write", "{} bytes to {} (sha256 {}...)", written->size, written->path,
         written->sha256.substr(0, 16));
    auto read = co_await sandbox.read_file("/tmp/demo.txt");
    DEMO_TRY(read, "read_file");
    DEMO_CHECK(read->content == content, "read_file: the bytes differ from what was written");
    step("read", "{} bytes back, identical", read->content.size());
    co_return true;
}

asio::awaitable<int> run_demo(eci::AsyncEciSandbox client) {
    eci::CreateOptions options;
    options.image = "ubuntu:22.04";
    options.name = "demo-sandbox";
    options.env = {{"GREETING", "hello from eci-sandbox"}};
    options.wait_until_running = true;
    options.wait_timeout = 60s;
    auto created = co_await client.create(options);
    if (!created) {
        fmt::print(stderr, "demo: create failed: {}\n", created.error());
        co_return 1;
    }
    step("created", "{} (container {}), Running", created->id(), created->container_name());

    auto handle = *created;  // a named argument (GCC 12 and temporaries in co_await)
    const bool ok = co_await use_sandbox(std::move(handle));

    // Deleted whether or not the steps succeeded.
    auto removed = co_await created->remove();
    if (!removed) {
        fmt::print(stderr, "demo: delete failed: {}\n", removed.error());
        co_return 1;
    }
    step("deleted", "{}", created->id());
    const auto stats = client.api().stats();
    step("client", "{} API calls, {} retries, {} TLS handshake(s)", stats.total_api_calls(),
         stats.retries, stats.tls_handshakes);
    co_return ok ? 0 : 1;
}

}  // namespace

int main() {
    // The emulator runs on its own thread and io_context, as a separate server would.
    asio::io_context emulator_io;
    eci::emulator::EmulatorOptions options;
    options.start_delay = 200ms;
    auto emulator = eci::emulator::Emulator::start(emulator_io.get_executor(), options);
    if (!emulator.ok()) {
        fmt::print(stderr, "demo: cannot start the emulator: {}\n", emulator.error());
        return 1;
    }
    auto guard = asio::make_work_guard(emulator_io);
    std::thread emulator_thread([&] { emulator_io.run(); });
    const auto& ready = (*emulator)->ready();
    step("emulator", "{}://{} (region {}, CA {})", ready.scheme, ready.endpoint, ready.region_id,
         ready.ca_file);

    eci::ConfigOverrides overrides;
    overrides.access_key_id = ready.access_key_id;
    overrides.access_key_secret = ready.access_key_secret;
    overrides.region_id = ready.region_id;
    overrides.endpoint = ready.scheme + "://" + ready.endpoint;
    overrides.ca_file = ready.ca_file;
    eci::ConfigSources sources;
    sources.read_dotenv = false;  // the demo talks to its own emulator only
    sources.getenv = [](std::string_view) { return std::optional<std::string>(); };
    auto config = eci::load_config(overrides, sources);

    int exit_code = 1;
    if (!config.ok()) {
        fmt::print(stderr, "demo: {}\n", config.error());
    } else {
        asio::io_context io;
        auto client = eci::AsyncEciSandbox::from_config(io.get_executor(), *config);
        if (!client.ok()) {
            fmt::print(stderr, "demo: {}\n", client.error());
        } else {
            // A handler that rethrows (never `asio::detached`, which drops exceptions): the
            // exception leaves io.run(), is printed, and the emulator is still stopped below.
            asio::co_spawn(io, run_demo(*client), [&](std::exception_ptr error, int code) {
                if (error)
                    std::rethrow_exception(error);
                exit_code = code;
            });
            try {
                io.run();
            } catch (const std::exception& thrown) {
                fmt::print(stderr, "demo: an exception escaped: {}\n", thrown.what());
                exit_code = 1;
            }
        }
    }

    // Stop the emulator: every sandbox process is killed before it returns.
    std::exception_ptr stop_error;
    asio::co_spawn(emulator_io, (*emulator)->stop(), [&](std::exception_ptr error) {
        stop_error = error;  // rethrown below, once the thread is joined
        guard.reset();
    });
    emulator_thread.join();
    if (stop_error)
        std::rethrow_exception(stop_error);
    emulator->reset();
    step("emulator", "stopped");
    fmt::print("{}\n", exit_code == 0 ? "demo: all steps passed" : "demo: FAILED");
    return exit_code;
}
