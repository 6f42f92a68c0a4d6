// SPDX-License-Identifier: Apache-2.0
// The tmux scripts run with the real local sh and tmux (a private server under a temporary
// TMUX_TMPDIR, killed at the end), with only the exec transport replaced.
#include "core/tmux_commands.hpp"
#include "core/encoding.hpp"
#include "core/file_transfer.hpp"
#include "core/shell_wrappers.hpp"
#include "support/local_shell.hpp"

#include <catch2/catch.hpp>

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace {

using namespace eci::detail;
using eci::test::LocalRun;
using eci::test::LocalRunOptions;
using eci::test::run_local;
namespace fs = std::filesystem;

// A private tmux server and a scratch directory; the server is killed on destruction.
struct LocalTmux {
    fs::path dir;
    LocalRunOptions options;

    LocalTmux() {
        std::string tmpl = (fs::temp_directory_path() / "eci-tmux-XXXXXX").string();
        REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
        dir = tmpl;
        // The job runs in a login shell: HOME points at the scratch directory so the host
        // user's ~/.profile and ~/.bashrc stay out (a pyenv hook there once hung every job on
        // a stale rehash lock left by a shell killed with its tmux server).
        options.env = {{"TMUX_TMPDIR", dir.string()},
                       {"HOME", dir.string()},
                       {"TMUX", std::nullopt},
                       {"TMUX_PANE", std::nullopt}};
    }
    ~LocalTmux() {
        run_local({"tmux", "kill-server"}, {}, options);
        std::error_code ignored;
        fs::remove_all(dir, ignored);
    }
    LocalRun sh(std::string script, std::string_view stdin_data = {}) const {
        return run_local(shell_argv(std::move(script)), stdin_data, options);
    }
    // One poll: the parsed result and the raw reply it came from (for failure messages).
    struct PollReply {
        LocalRun run;
        TmuxPollResult result;
    };
    PollReply poll_reply(const std::string& id, int tail = tmux_output_tail_lines) const {
        auto run = sh(tmux_poll_script(id, tail));
        REQUIRE_FALSE(run.timed_out);
        auto parsed = parse_tmux_poll_reply(run.out, id, tail);
        REQUIRE(parsed.ok());
        return {std::move(run), std::move(*parsed)};
    }
    TmuxPollResult poll(const std::string& id, int tail = tmux_output_tail_lines) const {
        return poll_reply(id, tail).result;
    }
    // Polls until the job is no longer running, or fails after `limit` showing the last reply.
    TmuxPollResult wait(const std::string& id,
                        std::chrono::seconds limit = std::chrono::seconds(10)) {
        auto deadline = std::chrono::steady_clock::now() + limit;
        auto delay = std::chrono::milliseconds(20);
        for (;;) {
            auto reply = poll_reply(id);
            if (reply.result.status != TmuxStatus::running)
                return std::move(reply.result);
            if (std::chrono::steady_clock::now() >= deadline) {
                FAIL("still running after " << limit.count() << " s; last poll:\n"
                                            << reply.run.out << "stderr: " << reply.run.err);
            }
            std::this_thread::sleep_for(delay);
            delay = std::min(delay * 2, std::chrono::milliseconds(200));
        }
    }
    TmuxStartReply start(const std::string& id, const std::string& command,
                         std::optional<std::string_view> exec_dir = std::nullopt,
                         int history = tmux_history_limit) const {
        auto plan = plan_tmux_start(command, id, exec_dir, history);
        REQUIRE(plan.ok());
        if (plan->script_file) {
            auto write = plan_file_write(*plan->script_file, plan->script_file_content);
            REQUIRE(write.ok());
            auto run = sh(write->script, plan->script_file_content);
            REQUIRE(parse_file_write_reply(run.out, *write).ok());
        }
        auto run = sh(plan->start_script);
        REQUIRE_FALSE(run.timed_out);
        return parse_tmux_start_reply(run.out);
    }
    std::string slurp(const fs::path& path) const {
        std::ifstream in(path, std::ios::binary);
        std::stringstream text;
        text << in.rdbuf();
        return text.str();
    }
};

std::string fresh_id() {
    auto id = generate_tmux_session_id();
    REQUIRE(id.ok());
    return *id;
}

}  // namespace

TEST_CASE("tmux: shell_quote keeps hostile text one literal word", "[tmux]") {
    for (std::string text : {"plain", "a b", "'; rm -rf / #", "$(touch pwned)", "`id`", "it's",
                             "''", "\\n\\", "line\nbreak", "日本語 ünï", "*?[a]", "-n"}) {
        auto run = run_local(shell_argv("printf '%s|' " + shell_quote(text)), {});
        CHECK(run.out == text + "|");
    }
    CHECK(shell_quote("it's") == "'it'\\''s'");
}

TEST_CASE("tmux: session ids are generated with the prefix and validated", "[tmux]") {
    auto id = fresh_id();
    REQUIRE(id.size() == tmux_session_prefix.size() + 12);
    CHECK(id.starts_with("eci_cmd_"));
    CHECK(id.find_first_not_of("0123456789abcdef", 8) == std::string::npos);
    CHECK(fresh_id() != id);
    CHECK(validate_tmux_session_id(id).ok());
    CHECK(validate_tmux_session_id("Job-1_a").ok());
    for (std::string bad : std::vector<std::string>{"", "a b", "a:b", "a.b", "a;b", "=a", "é",
                                                    "a'b", "$x", std::string(65, 'a')}) {
        auto valid = validate_tmux_session_id(bad);
        REQUIRE_FALSE(valid.ok());
        CHECK(valid.error().kind == eci::ErrorKind::invalid_argument);
    }
    CHECK_FALSE(plan_tmux_start("true", "bad id", std::nullopt).ok());
    CHECK_FALSE(plan_tmux_start("true", "ok", std::nullopt, 0).ok());
}

TEST_CASE("tmux: the largest inline start script fits the exec command limit", "[tmux]") {
    // The longest command that still travels inline, with the longest session id.
    std::string id(tmux_max_session_id_length, 'x');
    std::string command;
    std::optional<TmuxStartPlan> largest;
    for (;;) {
        auto plan = plan_tmux_start(command + "x", id, "/some/dir");
        REQUIRE(plan.ok());
        if (plan->script_file)
            break;
        command += "x";
        largest = std::move(*plan);
    }
    REQUIRE(largest);
    // The emulator's (and reportedly the service's) ExecContainerCommand limit: 2048
    // characters of the JSON command array, here `["sh","-c","<script>"]`.
    auto command_parameter = json_array_string(shell_argv(largest->start_script));
    INFO(command_parameter.size());
    CHECK(command_parameter.size() <= 2000);
}

TEST_CASE("tmux: poll backoff grows by 1.5 from 0.1 s up to 5 s", "[tmux]") {
    using std::chrono::milliseconds;
    CHECK(tmux_poll_initial_delay == milliseconds(100));
    CHECK(next_tmux_poll_delay(milliseconds(100)) == milliseconds(150));
    CHECK(next_tmux_poll_delay(milliseconds(150)) == milliseconds(225));
    CHECK(next_tmux_poll_delay(milliseconds(4000)) == milliseconds(5000));
    CHECK(next_tmux_poll_delay(milliseconds(5000)) == milliseconds(5000));
    CHECK(tmux_default_timeout == std::chrono::seconds(600));
}

TEST_CASE("tmux: a job starts, runs, completes with its exit code and output", "[tmux]") {
    LocalTmux tmux;
    auto work = tmux.dir / "work dir '; rm -rf / # $(touch pwned) 日本";
    fs::create_directories(work);
    auto id = fresh_id();
    // The job waits for a file the test creates, so "running" is observed without a race.
    auto reply = tmux.start(id,
                            "printf 'once\\n' >> executions.txt; printf 'verified output\\n'; "
                            "while [ ! -f go ]; do sleep 0.02; done; echo after go; exit 7",
                            work.string());
    REQUIRE(reply.outcome == TmuxStartOutcome::started);
    auto running = tmux.poll(id);
    CHECK(running.status == TmuxStatus::running);
    CHECK_FALSE(running.exit_code);
    std::ofstream(work / "go").put('x');
    auto done = tmux.wait(id);
    CHECK(done.status == TmuxStatus::completed);
    CHECK(done.exit_code == 7);
    CHECK(done.output.find("verified output\nafter go") != std::string::npos);
    CHECK(done.output.find(tmux_marker_exit_code) == std::string::npos);
    CHECK(done.output.find("Pane is dead") == std::string::npos);
    CHECK(done.output.back() != '\n');
    CHECK_FALSE(done.output_truncated);
    CHECK(tmux.slurp(work / "executions.txt") == "once\n");
    CHECK_FALSE(fs::exists(tmux.dir / "pwned"));
    CHECK_FALSE(fs::exists(work / "pwned"));

    // An existing session is refused and the second command never runs.
    auto again = tmux.start(id, "printf duplicate >> executions.txt", work.string());
    CHECK(again.outcome == TmuxStartOutcome::session_exists);
    CHECK(tmux.slurp(work / "executions.txt") == "once\n");
}

TEST_CASE("tmux: a long command travels as a script file and keeps its exit code", "[tmux]") {
    LocalTmux tmux;
    auto id = fresh_id();
    std::string command = "# " + std::string(3000, 'x') + "\nprintf 'long ok\\n'; exit 3";
    auto plan = plan_tmux_start(command, id, tmux.dir.string());
    REQUIRE(plan.ok());
    REQUIRE(plan->script_file == "/tmp/tmux_cmd_" + id + ".sh");
    CHECK(plan->start_script.size() < 1500);
    // Without its script the start is refused before tmux runs.
    auto refused = tmux.sh(plan->start_script);
    CHECK(parse_tmux_start_reply(refused.out).outcome == TmuxStartOutcome::script_missing);
    CHECK(tmux.poll(id).status == TmuxStatus::not_found);

    REQUIRE(tmux.start(id, command, tmux.dir.string()).outcome == TmuxStartOutcome::started);
    auto done = tmux.wait(id);
    CHECK(done.exit_code == 3);
    CHECK(done.output.find("long ok") != std::string::npos);
    auto kill = tmux.sh(tmux_kill_script(id));
    CHECK(parse_tmux_kill_reply(kill.out).value());
    CHECK_FALSE(fs::exists(*plan->script_file));
}

TEST_CASE("tmux: history-limit applies to the job's pane, remain-on-exit is set", "[tmux]") {
    LocalTmux tmux;
    auto id = fresh_id();
    REQUIRE(tmux.start(id, "while :; do sleep 1; done", std::nullopt, 12345).outcome ==
            TmuxStartOutcome::started);
    auto shown = tmux.sh("tmux display-message -p -t '=" + id +
                         ":' '#{history_limit} #{remain-on-exit} #{session_windows}'");
    CHECK(shown.out == "12345 on 1\n");
    auto id2 = fresh_id();
    REQUIRE(tmux.start(id2, "exit 0").outcome == TmuxStartOutcome::started);
    CHECK(tmux.sh("tmux display-message -p -t '=" + id2 + ":' '#{history_limit}'").out ==
          "50000\n");
    // The global default is untouched.
    CHECK(tmux.sh("tmux show-options -gv history-limit").out == "2000\n");
    CHECK(tmux.wait(id2).exit_code == 0);
}

TEST_CASE("tmux: output is tailed and flagged truncated, a stdin reader cannot eat the marker",
          "[tmux]") {
    LocalTmux tmux;
    auto id = fresh_id();
    REQUIRE(tmux.start(id, "seq 1 300; cat </dev/null; exit 4").outcome ==
            TmuxStartOutcome::started);
    auto done = tmux.wait(id);
    CHECK(done.exit_code == 4);
    auto tail = tmux.poll(id, 50);
    CHECK(tail.output_truncated);
    CHECK(tail.exit_code == 4);
    CHECK(tail.output.find("\n300") != std::string::npos);
    CHECK(tail.output.find("\n250\n") == std::string::npos);
    CHECK_FALSE(tmux.poll(id).output_truncated);
    CHECK(tmux.poll(id).output.find("1\n2\n3\n") != std::string::npos);
}

TEST_CASE("tmux: a pane that dies without the marker still completes", "[tmux]") {
    LocalTmux tmux;
    auto id = fresh_id();
    // Killing the wrapper shell ($$ is it, even in the command's subshell) skips the marker;
    // tmux keeps the dead pane (remain-on-exit) and its exit status.
    REQUIRE(tmux.start(id, "echo started; kill -9 $$").outcome == TmuxStartOutcome::started);
    auto done = tmux.wait(id);
    CHECK(done.status == TmuxStatus::completed);
    CHECK(done.exit_code == 137);
    CHECK(done.output == "started");
}

TEST_CASE("tmux: kill and list sessions, no server is an empty list", "[tmux]") {
    LocalTmux tmux;
    auto empty = tmux.sh(tmux_list_script());
    auto none = parse_tmux_list_reply(empty.out);
    REQUIRE(none.ok());
    CHECK(none->empty());

    auto a = fresh_id();
    auto b = fresh_id();
    REQUIRE(tmux.start(a, "sleep 30").outcome == TmuxStartOutcome::started);
    REQUIRE(tmux.start(b, "sleep 30").outcome == TmuxStartOutcome::started);
    auto listed = parse_tmux_list_reply(tmux.sh(tmux_list_script()).out);
    REQUIRE(listed.ok());
    REQUIRE(listed->size() == 2);
    for (const auto& session : *listed) {
        CHECK((session.session_id == a || session.session_id == b));
        CHECK(session.created > 1600000000);
        CHECK(session.attached == 0);
    }
    CHECK(parse_tmux_kill_reply(tmux.sh(tmux_kill_script(a)).out).value());
    CHECK_FALSE(parse_tmux_kill_reply(tmux.sh(tmux_kill_script(a)).out).value());
    CHECK(tmux.poll(a).status == TmuxStatus::not_found);
    auto after = parse_tmux_list_reply(tmux.sh(tmux_list_script()).out);
    REQUIRE(after.ok());
    REQUIRE(after->size() == 1);
    CHECK(after->front().session_id == b);
    // The `=` target matches exactly: a prefix of b is not b.
    CHECK(tmux.poll(b.substr(0, 10)).status == TmuxStatus::not_found);
}

TEST_CASE("tmux: reply parsers", "[tmux]") {
    auto id = std::string("eci_cmd_0123456789ab");
    CHECK(parse_tmux_poll_reply("__ECI_TMUX_NOT_FOUND__\n", id)->status == TmuxStatus::not_found);
    CHECK(parse_tmux_poll_reply("garbage", id).error().kind == eci::ErrorKind::protocol);
    auto done = parse_tmux_poll_reply(
        "motd\n__ECI_TMUX_FOUND__:1:0\nhello\n\n__ECI_MARKER_EXIT_CODE__" + id +
            "__12\n\nPane is dead (status 0, Thu Nov 26 21:00:00 2026)\n\n",
        id);
    REQUIRE(done.ok());
    CHECK(done->status == TmuxStatus::completed);
    CHECK(done->exit_code == 12);
    CHECK(done->output == "hello");
    // Another session's marker is output, not completion.
    auto other =
        parse_tmux_poll_reply("__ECI_TMUX_FOUND__:0:\n__ECI_MARKER_EXIT_CODE__eci_cmd_x__1\n", id);
    CHECK(other->status == TmuxStatus::running);
    auto dead = parse_tmux_poll_reply("__ECI_TMUX_FOUND__:1:3:\nPane is dead\n", id);
    CHECK(dead->status == TmuxStatus::completed);
    CHECK(dead->exit_code == 3);
    // A code above 255 is no exit code (256 modulo 256 would read as success).
    auto huge = parse_tmux_poll_reply(
        "__ECI_TMUX_FOUND__:0:\n__ECI_MARKER_EXIT_CODE__" + id + "__256\n", id);
    CHECK(huge->status == TmuxStatus::running);
    CHECK_FALSE(huge->exit_code.has_value());
    CHECK_FALSE(parse_tmux_poll_reply("__ECI_TMUX_FOUND__:1:512:\n", id)->exit_code.has_value());
    auto killed = parse_tmux_poll_reply("__ECI_TMUX_FOUND__:1::15\n", id);
    CHECK(killed->exit_code == 128 + 15);
    // The marker line lost (the pane died before tmux read it): the rc file's code wins over
    // tmux's record of the pane.
    auto lost = parse_tmux_poll_reply("__ECI_TMUX_FOUND__:1:0::7\n", id);
    CHECK(lost->status == TmuxStatus::completed);
    CHECK(lost->exit_code == 7);
    // Dead before tmux reaped the process (no status, no rc file, no marker): still running,
    // so the next poll reads the real exit status instead of completing without one.
    auto unreaped = parse_tmux_poll_reply("__ECI_TMUX_FOUND__:1:::\nstarted\n", id);
    CHECK(unreaped->status == TmuxStatus::running);
    CHECK_FALSE(unreaped->exit_code);
    // A live pane is running even once the file exists (the marker is on its way).
    auto ending = parse_tmux_poll_reply("__ECI_TMUX_FOUND__:0:::7\nout\n", id);
    CHECK(ending->status == TmuxStatus::running);

    CHECK(parse_tmux_start_reply("__ECI_TMUX_STARTED__\n").outcome == TmuxStartOutcome::started);
    CHECK(parse_tmux_start_reply("__ECI_TMUX_MISSING__\n").outcome ==
          TmuxStartOutcome::tmux_missing);
    auto failed = parse_tmux_start_reply("__ECI_TMUX_FAILED__server exited unexpectedly\n");
    CHECK(failed.outcome == TmuxStartOutcome::failed);
    CHECK(failed.detail == "server exited unexpectedly");

    auto list = parse_tmux_list_reply("__ECI_TMUX_LIST__\nweird:name:1700000000:2\n");
    REQUIRE(list.ok());
    CHECK(list->at(0).session_id == "weird:name");
    CHECK(list->at(0).created == 1700000000);
    CHECK(list->at(0).attached == 2);
    CHECK(parse_tmux_list_reply("__ECI_TMUX_LIST__\nbroken\n").error().kind ==
          eci::ErrorKind::protocol);
    CHECK(parse_tmux_list_reply("__ECI_TMUX_FAILED__boom\n").error().kind ==
          eci::ErrorKind::service);
}

TEST_CASE("tmux: a missing exec_dir skips the command and reports the failure", "[tmux]") {
    LocalTmux tmux;
    auto id = fresh_id();
    auto missing = (tmux.dir / "no such dir").string();
    auto marker = tmux.dir / "ran";
    REQUIRE(tmux.start(id, "touch " + shell_quote(marker.string()), missing).outcome ==
            TmuxStartOutcome::started);
    auto done = tmux.wait(id);
    CHECK(done.status == TmuxStatus::completed);
    CHECK(done.exit_code == 1);
    CHECK_FALSE(fs::exists(marker));
}

TEST_CASE("tmux: a script sent on stdin runs and leaves the bytes after it to the script",
          "[tmux]") {
    const std::string script = "printf 'got:'; head -c 5; printf ':end\\n'\n";
    const auto argv = script_stdin_argv(script.size());
    for (const auto& arg : argv)
        CHECK(arg.size() <= 256);
    auto run = run_local(argv, script + "abcde-not-read");
    CHECK(run.out == "got:abcde:end\n");
    // A file write through it keeps every byte.
    std::string content("bin\0ary\n\xff", 9);
    LocalTmux scratch;
    auto plan = plan_file_write((scratch.dir / "f.bin").string(), content);
    REQUIRE(plan.ok());
    auto write = run_local(script_stdin_argv(plan->script.size()), plan->script + content);
    CHECK(parse_file_write_reply(write.out, *plan).ok());
    CHECK(scratch.slurp(scratch.dir / "f.bin") == content);
}
