// SPDX-License-Identifier: Apache-2.0
// `eci-sandbox shell`, driven as a person would: in a real terminal (a tmux pane on a tmux
// server of its own), keys sent with send-keys, the screen read with capture-pane, against
// `eci-sandbox emulator` over TLS. Every wait is on the screen or a file, with a deadline.
#include "cli/cli_fixture.hpp"
#include "support/child_process.hpp"

#include <catch2/catch.hpp>

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#if defined(ECI_CLI_PATH) && !defined(ECI_CLI_NO_EMULATOR)

namespace {

using eci::test::cli::cli_path;
using eci::test::cli::CliFixture;
using Clock = std::chrono::steady_clock;

std::string quoted(const std::string& text) {
    std::string out = "'";
    for (char c : text)
        out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

std::optional<std::string> read_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in)
        return std::nullopt;
    std::ostringstream bytes;
    bytes << in.rdbuf();
    return bytes.str();
}

/// Polls `ready` until it holds or `deadline` passes (a condition wait, not a sleep).
bool wait_until(const std::function<bool()>& ready,
                std::chrono::milliseconds deadline = std::chrono::seconds(10)) {
    const auto end = Clock::now() + deadline;
    while (!ready()) {
        if (Clock::now() >= end)
            return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return true;
}

/// One tmux server (its own socket) with one 100x30 pane running `eci-sandbox shell ID`.
/// When the CLI ends, the pane writes its exit status to `status` and the local terminal's
/// `stty -a` to `stty` (each file complete once it exists), and stays open.
class ShellPane {
  public:
    ShellPane(const CliFixture& fixture, const std::string& sandbox_id)
        : fixture_(fixture),
          socket_("eci-shell-test-" + std::to_string(::getpid()) + "-" +
                  std::to_string(counter_++)),
          dir_(fixture.dir.path) {
        std::string env;
        for (const auto& entry : fixture.environment())
            env += quoted(entry) + " ";
        const std::string script = "env " + env + quoted(cli_path) + " shell " +
                                   quoted(sandbox_id) + " 2>" + quoted((dir_ / "stderr").string()) +
                                   "; echo $? >status.tmp; stty -a >stty.tmp; " +
                                   "mv stty.tmp stty; mv status.tmp status; exec sleep 120";
        auto started =
            tmux({"new-session", "-d", "-x", "100", "-y", "30", "-c", dir_.string(), script});
        INFO("tmux: " << started.err);
        REQUIRE(started.exit_code == 0);
    }
    ~ShellPane() { tmux({"kill-server"}); }
    ShellPane(const ShellPane&) = delete;
    ShellPane& operator=(const ShellPane&) = delete;

    eci::test::ProcessResult tmux(std::vector<std::string> args) const {
        args.insert(args.begin(), {"-L", socket_, "-f", "/dev/null"});
        eci::test::ProcessOptions options;
        options.environment = {"PATH=/usr/bin:/bin", "TERM=xterm", "HOME=" + dir_.string()};
        options.working_directory = dir_.string();
        options.deadline = std::chrono::seconds(10);
        return eci::test::run_process("/usr/bin/env", prepend("tmux", std::move(args)), options);
    }

    std::string screen() const { return tmux({"capture-pane", "-p", "-J"}).out; }

    /// Types `text` literally, then Enter.
    void type_line(const std::string& text) const {
        REQUIRE(tmux({"send-keys", "-l", text}).exit_code == 0);
        REQUIRE(tmux({"send-keys", "Enter"}).exit_code == 0);
    }
    void key(const std::string& name) const { REQUIRE(tmux({"send-keys", name}).exit_code == 0); }

    bool screen_shows(const std::string& text,
                      std::chrono::milliseconds deadline = std::chrono::seconds(10)) const {
        return wait_until([&] { return screen().find(text) != std::string::npos; }, deadline);
    }

    /// The CLI's exit status, once the pane wrote it.
    std::optional<int> exit_status() const {
        if (!wait_until([&] { return std::filesystem::exists(dir_ / "status"); }))
            return std::nullopt;
        return std::stoi(read_file(dir_ / "status").value_or("-1"));
    }
    std::string stty() const { return read_file(dir_ / "stty").value_or(""); }
    /// The CLI's pid: the only child of the pane's shell (`env` execs the CLI).
    pid_t cli_pid() const {
        auto pane = tmux({"display-message", "-p", "#{pane_pid}"}).out;
        const std::string children =
            read_file("/proc/" + std::to_string(std::stoi(pane)) + "/task/" +
                      std::to_string(std::stoi(pane)) + "/children")
                .value_or("");
        return children.empty() ? -1 : static_cast<pid_t>(std::stoi(children));
    }
    std::string cli_stderr() const { return read_file(dir_ / "stderr").value_or(""); }

  private:
    static std::vector<std::string> prepend(std::string first, std::vector<std::string> rest) {
        rest.insert(rest.begin(), std::move(first));
        return rest;
    }

    const CliFixture& fixture_;
    std::string socket_;
    std::filesystem::path dir_;
    static inline std::atomic<int> counter_{0};
};

/// Whether `stty -a` shows a terminal in its normal (cooked) state: line editing, echo,
/// signals from the keyboard, output processing.
bool sane(const std::string& stty) {
    std::istringstream words(stty);
    std::vector<std::string> seen;
    for (std::string word; words >> word;)
        seen.push_back(word);
    auto has = [&](const std::string& flag) {
        return std::find(seen.begin(), seen.end(), flag) != seen.end();
    };
    return has("icanon") && has("echo") && has("isig") && has("opost") && has("icrnl");
}

/// A prompt: bash's or sh's default ends in "# " (root) or "$ ".
bool shows_prompt(const std::string& screen) {
    return screen.find("# ") != std::string::npos || screen.find("$ ") != std::string::npos;
}

}  // namespace

TEST_CASE("cli shell: a terminal in a tmux pane - prompt, output, resize, Ctrl-C, exit 3",
          "[cli][shell]") {
    CliFixture fixture;
    const auto id = fixture.create_running("cli-shell");
    ShellPane pane(fixture, id);

    // A prompt appears, and a command's output shows (computed remotely: not the echo of
    // what was typed).
    REQUIRE(wait_until([&] { return shows_prompt(pane.screen()); }));
    pane.type_line("echo hello-$((6*7))");
    REQUIRE(pane.screen_shows("hello-42"));

    // `stty size` inside shows the pane's size: at the start, then after a resize of the
    // local terminal (tmux resizes the pane's pty: SIGWINCH to the CLI).
    auto pane_size = [&] {
        auto shown = pane.tmux({"display-message", "-p", "#{pane_height}x#{pane_width}"}).out;
        while (!shown.empty() && (shown.back() == '\n' || shown.back() == '\r'))
            shown.pop_back();
        return shown;
    };
    const auto start_size = pane_size();
    pane.type_line("echo size-$(stty size | tr ' ' x)");
    CHECK(pane.screen_shows("size-" + start_size));
    REQUIRE(pane.tmux({"resize-window", "-x", "120", "-y", "40"}).exit_code == 0);
    const auto new_size = pane_size();
    REQUIRE(new_size != start_size);
    // The resize reaches the remote terminal asynchronously: ask until it shows.
    CHECK(wait_until([&] {
        pane.type_line("echo size-$(stty size | tr ' ' x)");
        return pane.screen_shows("size-" + new_size, std::chrono::milliseconds(500));
    }));

    // Ctrl-C interrupts the remote foreground job (its trap armed first, so the signal cannot
    // come before it is there), and the shell and the CLI live on.
    pane.type_line(
        "sh -c 'trap \"echo got-INT-$((1+1)); exit 0\" INT; echo armed-$((2+2)); sleep 100'");
    REQUIRE(pane.screen_shows("armed-4"));
    const auto interrupted = Clock::now();
    pane.key("C-c");
    CHECK(pane.screen_shows("got-INT-2"));
    CHECK(Clock::now() - interrupted < std::chrono::seconds(10));
    pane.type_line("echo alive-$((40+2))");
    CHECK(pane.screen_shows("alive-42"));

    // `exit 3`: the CLI exits 3 and the local terminal is sane again.
    pane.type_line("exit 3");
    const auto status = pane.exit_status();
    INFO("screen: " << pane.screen() << "\nstderr: " << pane.cli_stderr());
    REQUIRE(status.has_value());
    CHECK(*status == 3);
    INFO("stty -a: " << pane.stty());
    CHECK(sane(pane.stty()));
    CHECK(pane.cli_stderr().empty());
}

TEST_CASE("cli shell: a connection lost mid-session restores the terminal and exits 1",
          "[cli][shell]") {
    CliFixture fixture;
    const auto id = fixture.create_running("cli-shell-drop");
    ShellPane pane(fixture, id);
    REQUIRE(wait_until([&] { return shows_prompt(pane.screen()); }));
    pane.type_line("echo up-$((1+2))");
    REQUIRE(pane.screen_shows("up-3"));

    // The emulator stops: it cuts every exec WebSocket without a close frame.
    fixture.emulator.stop();
    const auto status = pane.exit_status();
    INFO("screen: " << pane.screen() << "\nstderr: " << pane.cli_stderr());
    REQUIRE(status.has_value());
    CHECK(*status == 1);
    CHECK(pane.cli_stderr().find("the shell's connection was lost") != std::string::npos);
    INFO("stty -a: " << pane.stty());
    CHECK(sane(pane.stty()));
}

TEST_CASE("cli shell: SIGTERM to the CLI restores the terminal and exits 143", "[cli][shell]") {
    CliFixture fixture;
    const auto id = fixture.create_running("cli-shell-term");
    ShellPane pane(fixture, id);
    REQUIRE(wait_until([&] { return shows_prompt(pane.screen()); }));
    pane.type_line("echo raw-$((2*4))");
    REQUIRE(pane.screen_shows("raw-8"));  // the relay runs: the terminal is raw now

    const pid_t cli = pane.cli_pid();
    REQUIRE(cli > 0);
    REQUIRE(::kill(cli, SIGTERM) == 0);
    const auto status = pane.exit_status();
    INFO("screen: " << pane.screen() << "\nstderr: " << pane.cli_stderr());
    REQUIRE(status.has_value());
    CHECK(*status == 128 + SIGTERM);
    CHECK(pane.cli_stderr().find("ended by signal 15") != std::string::npos);
    INFO("stty -a: " << pane.stty());
    CHECK(sane(pane.stty()));
}

TEST_CASE(
    "cli shell: in the emulator's k8s mode, resize (channel 4), Ctrl-D and the exit code work",
    "[cli][shell]") {
    // k8s mode: resize is read from channel 4 and the exit status comes as a v1.Status
    // frame; the CLI's default (resize on 3 and 4) must work here as in the default mode.
    CliFixture fixture("k8s");
    const auto id = fixture.create_running("cli-shell-k8s");
    ShellPane pane(fixture, id);
    REQUIRE(wait_until([&] { return shows_prompt(pane.screen()); }));
    REQUIRE(pane.tmux({"resize-window", "-x", "90", "-y", "25"}).exit_code == 0);
    const auto size = pane.tmux({"display-message", "-p", "#{pane_height}x#{pane_width}"}).out;
    REQUIRE(size.size() > 1);
    CHECK(wait_until([&] {
        pane.type_line("echo size-$(stty size | tr ' ' x)");
        return pane.screen_shows("size-" + size.substr(0, size.size() - 1),
                                 std::chrono::milliseconds(500));
    }));
    // Ctrl-D passes through as the remote terminal's end of input: bash exits with the
    // status of its last command.
    pane.type_line("echo last-$((2+3)); (exit 5)");
    REQUIRE(pane.screen_shows("last-5"));
    pane.key("C-d");
    const auto status = pane.exit_status();
    INFO("screen: " << pane.screen() << "\nstderr: " << pane.cli_stderr());
    REQUIRE(status.has_value());
    CHECK(*status == 5);
    CHECK(sane(pane.stty()));
}

TEST_CASE("cli shell: stdin that is not a terminal is relayed as is, its end ends the shell",
          "[cli][shell]") {
    CliFixture fixture;
    const auto id = fixture.create_running("cli-shell-pipe");

    // No terminal: no raw mode, no remote TTY; the commands arrive as piped.
    auto exited = fixture.cli({"shell", id}, "echo piped-$((2+3))\nexit 4\n");
    INFO("stderr: " << exited.err);
    CHECK(exited.exit_code == 4);
    CHECK(exited.out == "piped-5\n");

    // Without an exit: the end of stdin reaches the remote shell, which then exits 0.
    auto ended = fixture.cli({"shell", id, "--", "sh"}, "echo last-$((3*3))\n");
    INFO("stderr: " << ended.err);
    CHECK(ended.exit_code == 0);
    CHECK(ended.out == "last-9\n");

    // No such sandbox: one error line, exit 1, nothing started.
    auto missing = fixture.cli({"shell", "eci-no-such-sandbox"}, "exit 0\n");
    CHECK(missing.exit_code == 1);
    CHECK(missing.err.find("not_found") != std::string::npos);
    CHECK(missing.out.empty());
}

#endif  // ECI_CLI_PATH, the emulator
