// SPDX-License-Identifier: Apache-2.0
// eci::InteractiveExec end to end against the emulator over TLS, with real processes on a
// real pseudo-terminal: stdin as typed, the terminal size at the start and after resize()
// on each channel convention, output, the exit code, and the end of input without a TTY.
#include "integration/sandbox_fixture.hpp"

#include <eci/interactive_exec.hpp>

#include <functional>
#include <string>
#include <vector>

using namespace eci;
using namespace eci::test;
namespace asio = boost::asio;
using std::chrono::seconds;

namespace {

// co_await is never written inside a Catch assertion: the macro's expansion names its
// expression twice, and GCC then ran the awaited write more than once.

/// Everything read so far.
struct Transcript {
    std::string out;
    std::string err;
    std::optional<InteractiveExit> exit;
};

/// Reads until `done` holds or the stream ends.
asio::awaitable<void> read_until(InteractiveExec& stream, Transcript& seen,
                                 const std::function<bool(const Transcript&)>& done) {
    while (!done(seen) && !seen.exit) {
        auto event = co_await stream.read();
        if (!event)
            FAIL("read: " << event.error().to_string());
        if (auto* exit = std::get_if<InteractiveExit>(&*event)) {
            seen.exit = *exit;
        } else {
            const auto& output = std::get<InteractiveOutput>(*event);
            (output.stream == OutputStream::standard_error ? seen.err : seen.out) += output.bytes;
        }
    }
}

asio::awaitable<void> read_text(InteractiveExec& stream, Transcript& seen, std::string text) {
    co_await read_until(stream, seen,
                        [&](const Transcript& t) { return t.out.find(text) != std::string::npos; });
    INFO("output: " << seen.out);
    REQUIRE(seen.out.find(text) != std::string::npos);
}

asio::awaitable<void> read_to_exit(InteractiveExec& stream, Transcript& seen) {
    co_await read_until(stream, seen, [](const Transcript&) { return false; });
    REQUIRE(seen.exit.has_value());
}

asio::awaitable<InteractiveExec> open_shell(AsyncSandbox sandbox, InteractiveExecOptions options) {
    std::vector<std::string> argv;
    argv.emplace_back("sh");
    auto opened =
        co_await InteractiveExec::open(std::move(sandbox), std::move(argv), std::move(options));
    if (!opened)
        FAIL("open: " << opened.error().to_string());
    co_return std::move(*opened);
}

}  // namespace

TEST_CASE("interactive exec: a TTY shell gets its size, follows resize, exits with its code",
          "[interactive-exec]") {
    AsyncSandboxFixture fx;
    fx.run(
        [&]() -> asio::awaitable<void> {
            auto sandbox = co_await make_running_sandbox(*fx.client, "interactive-tty");
            InteractiveExecOptions options;
            options.terminal_size = TerminalSize{30, 100};
            auto stream = co_await open_shell(sandbox, options);
            CHECK_FALSE(stream.request_id().empty());
            Transcript seen;
            {
                auto sent1 = co_await stream.write("echo size-$(stty size | tr ' ' x)\n");
                REQUIRE(sent1.ok());
            }
            co_await read_text(stream, seen, "size-30x100");
            {
                auto sent2 = co_await stream.resize(TerminalSize{40, 120});
                REQUIRE(sent2.ok());
            }
            {
                auto sent3 = co_await stream.write("echo size-$(stty size | tr ' ' x)\n");
                REQUIRE(sent3.ok());
            }
            co_await read_text(stream, seen, "size-40x120");
            {
                auto sent4 = co_await stream.write("exit 7\n");
                REQUIRE(sent4.ok());
            }
            co_await read_to_exit(stream, seen);
            CHECK(seen.exit->exit_code == 7);
            CHECK(seen.exit->close_code == 1000);
            // The wrapper's report never reaches the caller.
            CHECK(seen.out.find("__ECI_EXIT_") == std::string::npos);
            CHECK(seen.err.empty());  // a TTY merges both streams
        },
        seconds(30));
}

TEST_CASE("interactive exec: the k8s-mode emulator takes resize on channel 4, not on 3",
          "[interactive-exec]") {
    AsyncSandboxFixture fx(sandbox_emulator_options(emulator::ExitStatusMode::k8s));
    fx.run(
        [&]() -> asio::awaitable<void> {
            auto sandbox = co_await make_running_sandbox(*fx.client, "interactive-k8s");
            // The server handles its messages in order: a resize it applies is in effect
            // before the next stdin is read, so `stty size` right after it is decisive. No
            // start size is sent: the emulator's pty starts at 24x80.
            for (auto [channels, expected] :
                 {std::pair{ResizeChannels::channel3, std::string("size-24x80")},
                  std::pair{ResizeChannels::channel4, std::string("size-40x120")},
                  std::pair{ResizeChannels::both, std::string("size-40x120")}}) {
                InteractiveExecOptions options;
                options.resize_channels = channels;
                auto stream = co_await open_shell(sandbox, options);
                Transcript seen;
                {
                    auto sent5 = co_await stream.resize(TerminalSize{40, 120});
                    REQUIRE(sent5.ok());
                }
                {
                    auto sent6 = co_await stream.write("echo size-$(stty size | tr ' ' x)\n");
                    // The echo of the typed line holds "size-$(", the answer "size-<digit>".
                    REQUIRE(sent6.ok());
                }
                co_await read_until(stream, seen, [](const Transcript& t) {
                    const auto at = t.out.find("size-", t.out.find("size-$(") + 1);
                    return at != std::string::npos && t.out.find('\n', at) != std::string::npos;
                });
                INFO("channels " << static_cast<int>(channels) << ": " << seen.out);
                CHECK(seen.out.find(expected) != std::string::npos);
                {
                    auto sent7 = co_await stream.write("exit 0\n");
                    REQUIRE(sent7.ok());
                }
                co_await read_to_exit(stream, seen);
                CHECK(seen.exit->exit_code == 0);
            }
        },
        seconds(40));
}

TEST_CASE("interactive exec: without a TTY, streams stay apart and write_eof ends the input",
          "[interactive-exec]") {
    AsyncSandboxFixture fx;
    fx.run(
        [&]() -> asio::awaitable<void> {
            auto sandbox = co_await make_running_sandbox(*fx.client, "interactive-pipe");
            InteractiveExecOptions options;
            options.tty = false;
            auto stream = co_await open_shell(sandbox, options);
            Transcript seen;
            {
                auto sent8 = co_await stream.write("echo out-$((1+1)); echo err-$((2+2)) >&2\n");
                REQUIRE(sent8.ok());
            }
            {
                auto sent9 = co_await stream.resize(TerminalSize{40, 120});  // no TTY: no-op
                REQUIRE(sent9.ok());
            }
            {
                auto sent10 = co_await stream.write_eof();
                REQUIRE(sent10.ok());
            }
            co_await read_to_exit(stream, seen);
            CHECK(seen.out == "out-2\n");
            CHECK(seen.err == "err-4\n");
            CHECK(seen.exit->exit_code == 0);
        },
        seconds(30));
}
