// SPDX-License-Identifier: Apache-2.0
// Sans-io pieces of the sandbox layer: names, shell wrappers, the exit-code marker filter.
#include "core/encoding.hpp"
#include "core/exit_marker.hpp"
#include "core/sandbox_names.hpp"
#include "core/shell_wrappers.hpp"
#include "support/local_shell.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <optional>
#include <string>
#include <utility>

using namespace eci::detail;

TEST_CASE("sandbox names: normalisation follows the Python package", "[sandbox-core]") {
    CHECK(normalize_sandbox_name("My_Sandbox.01", "abcdefghij") == "my-sandbox-01");
    CHECK(normalize_sandbox_name("--Hello--", "abcdefghij") == "hello");
    CHECK(normalize_sandbox_name("", "abcdefghij") == "sandbox-abcdefghij");
    CHECK(normalize_sandbox_name("x", "0123456789") == "sandbox-0123456789");
    CHECK(normalize_sandbox_name("__", "0123456789") == "sandbox-0123456789");
    // UTF-8 bytes each become '-': "café" -> "caf--" -> trimmed.
    CHECK(normalize_sandbox_name("caf\xc3\xa9 x", "0123456789") == "caf---x");
    const std::string long_name = std::string(127, 'a') + "-b";
    CHECK(normalize_sandbox_name(long_name, "0123456789") == std::string(127, 'a'));
    CHECK(normalize_sandbox_name(std::string(300, 'z'), "q").size() == 128);
}

TEST_CASE("sandbox names: random suffixes are 10 chars of [a-z0-9]", "[sandbox-core]") {
    const auto a = random_name_suffix();
    const auto b = random_name_suffix();
    REQUIRE(a.size() == 10);
    CHECK(a.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789") == std::string::npos);
    CHECK(a != b);
}

TEST_CASE("sandbox shell: quoting and wrappers", "[sandbox-core]") {
    CHECK(shell_quote("a b") == "'a b'");
    CHECK(shell_quote("it's") == "'it'\\''s'");
    CHECK(with_exec_dir("ls", "") == "ls");
    CHECK(with_exec_dir("ls", "/tmp/x y'z") == "cd '/tmp/x y'\\''z' && ls");
    const auto marker = make_exit_marker("0123abcd");
    CHECK(marker == "__ECI_EXIT_0123abcd__");
    const auto argv = bash_base64_argv("echo hi", marker);
    REQUIRE(argv.size() == 3);
    CHECK(argv[0] == "bash");
    CHECK(argv[1] == "-lc");
    CHECK(argv[2].find("echo " + base64_encode("echo hi") + " | base64 -d | bash") !=
          std::string::npos);
    CHECK(argv[2].find(marker) != std::string::npos);
    const auto long_argv = bash_stdin_argv(12345, marker);
    CHECK(long_argv[2].find("head -c 12345") != std::string::npos);
    const auto ws = bash_ws_script("echo hi", marker);
    CHECK(ws.rfind("trap '__eci_rc=$?; ", 0) == 0);
    CHECK(ws.find(" EXIT\necho hi\nexit $?\n") != std::string::npos);
    CHECK(ws.back() == '\n');
}

TEST_CASE("sandbox wrappers: exit_status_argv runs argv untouched and reports its code",
          "[sandbox-core]") {
    const auto marker = make_exit_marker("0badcafe");
    std::vector<std::string> argv;
    for (const char* word : {"printf", "[%s]", "a b", "'q'", "*", "$HOME", "", "x;y", "-c"})
        argv.emplace_back(word);
    const auto wrapped = exit_status_argv(argv, marker);
    REQUIRE(wrapped.size() == argv.size() + 4);
    CHECK(wrapped[0] == "/bin/sh");
    CHECK(wrapped[3] == "sh");
    CHECK(std::equal(argv.begin(), argv.end(), wrapped.begin() + 4));
    // Within the API reference's per-element limit, so it runs on a strict service too.
    CHECK(wrapped[2].size() <= exec_command_element_limit);

    // The real /bin/sh: the words arrive as they are, and the code is reported and kept.
    const auto run = eci::test::run_local(wrapped, "");
    CHECK(run.out == "[a b]['q'][*][$HOME][][x;y][-c]");
    CHECK(run.exit_code == 0);
    ExitMarkerFilter filter(marker);
    CHECK(filter.feed(run.err) + filter.finish() == "");
    CHECK(filter.exit_code() == 0);

    std::vector<std::string> failing;
    for (const char* word : {"sh", "-c", "echo oops >&2; exit 3"})
        failing.emplace_back(word);
    const auto failed = eci::test::run_local(exit_status_argv(failing, marker), "");
    CHECK(failed.exit_code == 3);
    ExitMarkerFilter second(marker);
    CHECK(second.feed(failed.err) + second.finish() == "oops\n");
    CHECK(second.exit_code() == 3);
}

namespace {

// The output a wrapper run shows its user: stderr without the exit-code line, and the code.
std::pair<std::string, std::optional<int>> user_stderr(const eci::test::LocalRun& run,
                                                       const std::string& marker) {
    ExitMarkerFilter filter(marker);
    std::string err = filter.feed(run.err);
    err += filter.finish();
    return {err, filter.exit_code()};
}

}  // namespace

// The exec stream never half-closes stdin, so these runs keep it open: a command that
// waited for end-of-input would hang until the deadline.
TEST_CASE("sandbox wrappers: input reaches the command with end-of-input, exec and bash",
          "[sandbox-core]") {
    eci::test::LocalRunOptions open_stdin;
    open_stdin.keep_stdin_open = true;
    const auto marker = make_exit_marker("1dea1dea");

    const auto exec = eci::test::run_local(
        exit_status_argv({"sh", "-c", "cat; echo \"[$(pwd)]\""}, marker, "/tmp", 3), "hi\nmore",
        open_stdin);
    CHECK_FALSE(exec.timed_out);
    CHECK(exec.out == "hi\n[/tmp]\n");
    CHECK(user_stderr(exec, marker).second == 0);

    const std::string script = "cat; exit 5";
    const auto bash = eci::test::run_local(bash_stdin_argv(script.size(), marker, 4),
                                           script + "ab\ncd", open_stdin);
    CHECK_FALSE(bash.timed_out);
    CHECK(bash.out == "ab\nc");
    CHECK(user_stderr(bash, marker) == std::pair<std::string, std::optional<int>>{"", 5});

    // A directory that does not exist is the command's failure, said by the shell.
    const auto bad_dir =
        eci::test::run_local(exit_status_argv({"true"}, marker, "/nonexistent-dir"), "");
    auto [err, code] = user_stderr(bad_dir, marker);
    CHECK(code.value_or(0) != 0);
    CHECK(err.find("nonexistent-dir") != std::string::npos);
}

TEST_CASE("sandbox wrappers: a killed command shows no wrapper text on stderr", "[sandbox-core]") {
    const auto marker = make_exit_marker("dead0001");
    const std::string command = "echo before >&2; kill -9 $$";
    for (const auto& argv :
         {bash_base64_argv(command, marker), bash_stdin_argv(command.size(), marker),
          exit_status_argv({"bash", "-c", command}, marker)}) {
        const std::string input = argv[0] == "bash" && argv[2].find("mktemp") != std::string::npos
                                      ? command
                                      : std::string();
        const auto run = eci::test::run_local(argv, input);
        INFO(argv[2]);
        auto [err, code] = user_stderr(run, marker);
        // dash (/bin/sh of Debian images) says only "Killed", as it would locally; bash would
        // name the wrapper's pipeline, and is silenced.
        if (argv[0] == "/bin/sh")
            CHECK((err == "before\n" || err == "before\nKilled\n"));
        else
            CHECK(err == "before\n");
        CHECK(code == 137);
    }
}

TEST_CASE("sandbox exit marker: removed in one chunk or split anywhere", "[sandbox-core]") {
    const std::string marker = make_exit_marker("feedface");
    const std::string stream = "warn: x\n" + marker + "42\nafter";
    for (std::size_t split = 0; split <= stream.size(); ++split) {
        ExitMarkerFilter filter(marker);
        std::string out = filter.feed(stream.substr(0, split));
        out += filter.feed(stream.substr(split));
        out += filter.finish();
        INFO("split " << split);
        CHECK(out == "warn: x\nafter");
        REQUIRE(filter.exit_code().has_value());
        CHECK(*filter.exit_code() == 42);
    }
}

TEST_CASE("sandbox exit marker: a TTY's CRLF report is removed, split anywhere", "[sandbox-core]") {
    // On a pseudo-terminal (eci-sandbox shell) the line discipline writes the report's
    // newline as "\r\n".
    const std::string marker = make_exit_marker("7e1e7e1e");
    const std::string stream = "exit\r\n" + marker + "3\r\n";
    for (std::size_t split = 0; split <= stream.size(); ++split) {
        ExitMarkerFilter filter(marker);
        std::string out = filter.feed(stream.substr(0, split));
        out += filter.feed(stream.substr(split));
        out += filter.finish();
        INFO("split " << split);
        CHECK(out == "exit\r\n");
        REQUIRE(filter.exit_code().has_value());
        CHECK(*filter.exit_code() == 3);
    }
    // A lone carriage return without a code is no report.
    ExitMarkerFilter bare(marker);
    std::string out = bare.feed(marker + "\r\n");
    out += bare.finish();
    CHECK(out == marker + "\r\n");
    CHECK_FALSE(bare.exit_code().has_value());
}

TEST_CASE("sandbox exit marker: byte-by-byte, forged and incomplete reports", "[sandbox-core]") {
    const std::string marker = make_exit_marker("n1");
    SECTION("byte by byte") {
        ExitMarkerFilter filter(marker);
        const std::string stream = "ab" + marker + "0\n";
        std::string out;
        for (char c : stream)
            out += filter.feed(std::string(1, c));
        out += filter.finish();
        CHECK(out == "ab");
        CHECK(filter.exit_code() == 0);
    }
    SECTION("a malformed report passes through") {
        ExitMarkerFilter filter(marker);
        std::string out = filter.feed(marker + "x1\n");
        out += filter.finish();
        CHECK(out == marker + "x1\n");
        CHECK_FALSE(filter.exit_code().has_value());
    }
    SECTION("a code above 255 is no report (256 would read as success modulo 256)") {
        for (const std::string code : {"256", "300", "512", "0256"}) {
            ExitMarkerFilter filter(marker);
            std::string out = filter.feed(marker + code + "\n");
            out += filter.finish();
            CHECK(out == marker + code + "\n");
            CHECK_FALSE(filter.exit_code().has_value());
        }
    }
    SECTION("an unfinished report is output at the end") {
        ExitMarkerFilter filter(marker);
        std::string out = filter.feed("z" + marker + "12");
        CHECK(out == "z");
        out += filter.finish();
        CHECK(out == "z" + marker + "12");
        CHECK_FALSE(filter.exit_code().has_value());
    }
    SECTION("a different nonce is ordinary output") {
        ExitMarkerFilter filter(marker);
        const std::string other = make_exit_marker("n2") + "3\n";
        std::string out = filter.feed(other);
        out += filter.finish();
        CHECK(out == other);
        CHECK_FALSE(filter.exit_code().has_value());
    }
}
