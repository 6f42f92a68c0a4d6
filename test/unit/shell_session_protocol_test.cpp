// SPDX-License-Identifier: Apache-2.0
// The framing of ShellSession without any socket: the stream framer fed in every chunking,
// and the command lines run by a real local bash, several in one shell.
#include "core/shell_session_protocol.hpp"
#include "core/shell_wrappers.hpp"
#include "support/local_shell.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

using namespace eci::detail;
using eci::test::run_local;

namespace {

const std::string end_marker = make_exit_marker("0123456789abcdef0123456789abcdef");
const std::string begin_marker = session_begin_marker(end_marker);

// Feeds `stream` to a fresh framer in chunks of `step` bytes.
std::string frame_in_chunks(const std::string& stream, std::size_t step,
                            SessionStreamFramer& framer) {
    std::string out;
    for (std::size_t at = 0; at < stream.size(); at += step)
        out += framer.feed(std::string_view(stream).substr(at, step));
    return out;
}

std::string fmt_nonce(std::size_t i) {
    std::string nonce = "0123456789abcdef0123456789abcde";
    nonce.push_back(static_cast<char>('0' + i % 10));
    return nonce;
}

}  // namespace

TEST_CASE("shell session protocol: markers share the nonce", "[shell-session]") {
    CHECK(begin_marker == "__ECI_BEGIN_0123456789abcdef0123456789abcdef__");
    const auto line = session_command_line("echo hi", begin_marker, end_marker);
    CHECK(line.back() == '\n');
    CHECK(std::count(line.begin(), line.end(), '\n') == 1);
    // The command text never appears raw.
    CHECK(line.find("echo hi") == std::string::npos);
}

TEST_CASE(
    "shell session protocol: the framer drops what precedes the begin line and ends at "
    "the report, in any chunking",
    "[shell-session]") {
    const std::string stream = "stray from a background job\n" + begin_marker +
                               "\nline one\n__ECI_EXIT_ffffffffffffffffffffffffffffffff__0\n"
                               "partial" +
                               end_marker + "42\nlate stray\n";
    for (std::size_t step : {1u, 2u, 3u, 7u, 16u, 64u, 4096u}) {
        SessionStreamFramer framer(begin_marker, end_marker);
        const auto out = frame_in_chunks(stream, step, framer);
        INFO("chunk size " << step);
        CHECK(framer.begun());
        REQUIRE(framer.exit_code().has_value());
        CHECK(*framer.exit_code() == 42);
        CHECK(framer.dropped_bytes() == std::string("stray from a background job\n").size());
        // A fake report with another nonce is output like any other.
        CHECK(out.rfind("line one\n__ECI_EXIT_ffffffffffffffffffffffffffffffff__0\npartial", 0) ==
              0);
        CHECK(out.find(end_marker) == std::string::npos);
    }
    SessionStreamFramer unfinished(begin_marker, end_marker);
    CHECK(unfinished.feed(begin_marker + "\nabc__ECI_EX").empty() == false);
    CHECK_FALSE(unfinished.exit_code());
    CHECK(unfinished.finish() == "__ECI_EX");
    SessionStreamFramer never(begin_marker, end_marker);
    CHECK(never.feed("no begin here").empty());
    CHECK_FALSE(never.begun());
    CHECK(never.finish().empty());
}

TEST_CASE(
    "shell session protocol: several command lines in one local bash keep their codes, "
    "streams, stdin and shell apart",
    "[shell-session]") {
    struct Case {
        std::string script;
        std::string out;
        std::string err;
        int code;
    };
    const std::vector<Case> cases = {
        {"echo out; echo err >&2; exit 3", "out\n", "err\n", 3},
        {"cd /; export EMPTY=x; read -r line; rc=$?; echo \"got[$line]\"; exit $rc", "got[]\n", "",
         1},
        {"pwd | grep -qx / && echo moved || echo stayed; echo \"[${EMPTY-}]\"", "stayed\n[]\n", "",
         0},
        {"printf 'no newline'", "no newline", "", 0},
        {"cat <<'EOF'\nheredoc $HOME\nEOF", "heredoc $HOME\n", "", 0},
        {"printf '%s' 'it'\"'\"'s 世界'; (exit 7)", "it's 世界", "", 7},
        {"if then", "", "", 2},
    };
    std::string input;
    std::vector<std::pair<std::string, std::string>> markers;
    for (std::size_t i = 0; i < cases.size(); ++i) {
        const auto end = make_exit_marker(fmt_nonce(i));
        const auto begin = session_begin_marker(end);
        markers.emplace_back(begin, end);
        input += session_command_line(cases[i].script, begin, end);
    }
    input += std::string(session_exit_line());
    eci::test::LocalRunOptions options;
    options.keep_stdin_open = true;
    const auto run = run_local({"bash", "--noprofile", "--norc"}, input, options);
    REQUIRE_FALSE(run.timed_out);
    CHECK(run.exit_code == 0);
    std::size_t out_at = 0;
    std::size_t err_at = 0;
    for (std::size_t i = 0; i < cases.size(); ++i) {
        INFO("command " << i << ": " << cases[i].script);
        SessionStreamFramer out(markers[i].first, markers[i].second);
        SessionStreamFramer err(markers[i].first, markers[i].second);
        // Each framer sees the whole remaining stream, as the session's reader would.
        const auto stdout_text = out.feed(std::string_view(run.out).substr(out_at));
        const auto stderr_text = err.feed(std::string_view(run.err).substr(err_at));
        REQUIRE(out.exit_code().has_value());
        REQUIRE(err.exit_code().has_value());
        CHECK(*out.exit_code() == cases[i].code);
        CHECK(*err.exit_code() == cases[i].code);
        CHECK(stdout_text.substr(0, cases[i].out.size()) == cases[i].out);
        if (cases[i].code != 2)
            CHECK(stderr_text.substr(0, cases[i].err.size()) == cases[i].err);
        else
            CHECK_FALSE(stderr_text.empty());  // bash's syntax error message
        out_at = run.out.find(markers[i].second, out_at) + markers[i].second.size();
        err_at = run.err.find(markers[i].second, err_at) + markers[i].second.size();
    }
}

TEST_CASE("shell session protocol: which failed shell starts are tried again",
          "[shell-session][no-leak]") {
    using eci::detail::shell_start_retryable;
    auto error = [](eci::ErrorKind kind, int status = 0) {
        auto e = eci::Error::make(kind, "x");
        e.http_status = status;
        e.dispatch = eci::Dispatch::not_sent;
        return e;
    };
    // The WebSocket dropped during the probe, a throttled or unavailable ExecContainerCommand,
    // a connect that timed out: transient.
    CHECK(shell_start_retryable(error(eci::ErrorKind::network), false, 0));
    CHECK(shell_start_retryable(error(eci::ErrorKind::throttled, 400), false, 0));
    CHECK(shell_start_retryable(error(eci::ErrorKind::service, 503), false, 0));
    CHECK(shell_start_retryable(error(eci::ErrorKind::timeout), false, 0));
    // A close before the begin line: a few times, then it is a missing shell.
    CHECK(shell_start_retryable(error(eci::ErrorKind::protocol), true, 1));
    CHECK(shell_start_retryable(error(eci::ErrorKind::protocol), true, 3));
    CHECK_FALSE(shell_start_retryable(error(eci::ErrorKind::protocol), true, 4));
    // Refusals and the caller's cancellation: final.
    CHECK_FALSE(shell_start_retryable(error(eci::ErrorKind::protocol), false, 0));
    CHECK_FALSE(shell_start_retryable(error(eci::ErrorKind::invalid_argument, 400), false, 0));
    CHECK_FALSE(shell_start_retryable(error(eci::ErrorKind::not_found, 400), false, 0));
    CHECK_FALSE(shell_start_retryable(error(eci::ErrorKind::cancelled), false, 0));
}
