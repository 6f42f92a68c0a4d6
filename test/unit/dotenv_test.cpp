// SPDX-License-Identifier: Apache-2.0
#include "core/dotenv.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <utility>
#include <vector>

namespace {

using Entries = std::vector<std::pair<std::string, std::string>>;

Entries parse_ok(std::string_view text) {
    auto result = eci::detail::parse_dotenv(text);
    if (!result.ok())
        FAIL("parse failed: " << result.error().to_string());
    return result.value();
}

std::string parse_error(std::string_view text) {
    auto result = eci::detail::parse_dotenv(text);
    REQUIRE_FALSE(result.ok());
    CHECK(result.error().kind == eci::ErrorKind::invalid_argument);
    return result.error().message;
}

}  // namespace

TEST_CASE("dotenv: plain assignments, blank lines, comments and export", "[dotenv]") {
    const Entries entries = parse_ok(
        "# a comment\n"
        "\n"
        "A=1\n"
        "   \t\n"
        "export B=two\n"
        "  C = spaced value  \n"
        "D=\n"
        "    # indented comment\n"
        "E.F-G=x\n");
    CHECK(entries ==
          Entries{{"A", "1"}, {"B", "two"}, {"C", "spaced value"}, {"D", ""}, {"E.F-G", "x"}});
}

TEST_CASE("dotenv: inline comments need whitespace before '#' in unquoted values", "[dotenv]") {
    CHECK(parse_ok("A=value # note\n") == Entries{{"A", "value"}});
    CHECK(parse_ok("A=value\t# note\n") == Entries{{"A", "value"}});
    CHECK(parse_ok("A=va#lue\n") == Entries{{"A", "va#lue"}});
    CHECK(parse_ok("A=#value\n") == Entries{{"A", "#value"}});
    CHECK(parse_ok("A= # only a comment\n") == Entries{{"A", ""}});
}

TEST_CASE("dotenv: single quotes are literal and may span lines", "[dotenv]") {
    CHECK(parse_ok("A='x # not a comment \\n $HOME'\n") ==
          Entries{{"A", "x # not a comment \\n $HOME"}});
    CHECK(parse_ok("A='line1\nline2'\nB=2\n") == Entries{{"A", "line1\nline2"}, {"B", "2"}});
    CHECK(parse_ok("A='v' # trailing comment\n") == Entries{{"A", "v"}});
    CHECK(parse_ok("A=''\n") == Entries{{"A", ""}});
}

TEST_CASE("dotenv: double quotes decode escapes and may span lines", "[dotenv]") {
    CHECK(parse_ok(R"(A="a\nb\tc\"d\\e\'f")") == Entries{{"A", "a\nb\tc\"d\\e'f"}});
    CHECK(parse_ok("A=\"keep \\q as is\"") == Entries{{"A", "keep \\q as is"}});
    CHECK(parse_ok("A=\"-----BEGIN\nbody\n-----END\"\nB=after\n") ==
          Entries{{"A", "-----BEGIN\nbody\n-----END"}, {"B", "after"}});
    CHECK(parse_ok("A=\"x # y\"  # comment\n") == Entries{{"A", "x # y"}});
}

TEST_CASE("dotenv: CRLF line ends, a byte-order mark and UTF-8 values", "[dotenv]") {
    CHECK(parse_ok("\xEF\xBB\xBF"
                   "A=1\r\nB=\"x\r\ny\"\r\n# c\r\nC=\xE4\xB8\x8A\xE6\xB5\xB7\r\n") ==
          Entries{{"A", "1"}, {"B", "x\ny"}, {"C", "\xE4\xB8\x8A\xE6\xB5\xB7"}});
    CHECK(parse_ok("A=1") == Entries{{"A", "1"}});  // no final newline
}

TEST_CASE("dotenv: repeated keys are all reported in order", "[dotenv]") {
    CHECK(parse_ok("A=1\nA=2\n") == Entries{{"A", "1"}, {"A", "2"}});
}

TEST_CASE("dotenv: syntax errors name the line and never the value", "[dotenv]") {
    CHECK(parse_error("A=1\nB=2\nsecretvalue-without-equals\n") ==
          "line 3: expected '=' after "
          "the variable name");
    CHECK(parse_error("A=1\n=hunter2\n") == "line 2: expected a variable name");
    CHECK(parse_error("1A=x\n") == "line 1: expected a variable name");
    const std::string unterminated = parse_error("A=1\nB=\"hunter2\nC=3\n");
    CHECK(unterminated == "line 2: unterminated double-quoted value");
    CHECK(parse_error("A='hunter2\n") == "line 1: unterminated single-quoted value");
    const std::string trailing = parse_error("A=1\n\nB='x'hunter2\n");
    CHECK(trailing == "line 3: unexpected text after the closing quote");
    CHECK(trailing.find("hunter2") == std::string::npos);
    CHECK(unterminated.find("hunter2") == std::string::npos);
}

TEST_CASE("dotenv: the line number counts lines inside multi-line values", "[dotenv]") {
    CHECK(parse_error("A=\"1\n2\n3\"\nbroken\n") ==
          "line 4: expected '=' after the variable "
          "name");
}
