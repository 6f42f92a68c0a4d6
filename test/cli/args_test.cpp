// SPDX-License-Identifier: Apache-2.0
#include "cli/args.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

namespace {

using eci::cli::OptionSpec;
using eci::cli::ParsedArgs;
using eci::cli::PositionalMode;

constexpr OptionSpec specs[] = {
    {"image", true, false, "IMAGE", "image"},
    {"env", true, true, "K=V", "env"},
    {"wait", false, false, "", "wait"},
    {"json", false, false, "", "json"},
};

ParsedArgs parse_ok(std::vector<std::string> args, PositionalMode mode = PositionalMode::collect) {
    auto parsed = eci::cli::parse_args(args, specs, mode);
    if (!parsed)
        FAIL("parse failed: " << parsed.error().to_string());
    return std::move(parsed).value();
}

std::string parse_error(std::vector<std::string> args) {
    auto parsed = eci::cli::parse_args(args, specs);
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.error().kind == eci::ErrorKind::invalid_argument);
    return parsed.error().message;
}

}  // namespace

TEST_CASE("cli args: values, flags, repeats and positionals in any order", "[cli]") {
    auto parsed =
        parse_ok({"ID", "--image", "ubuntu", "--env=A=1", "--wait", "--env", "B=2=3", "PATH"});
    CHECK(parsed.value("image") == "ubuntu");
    CHECK(parsed.all("env") == std::vector<std::string>{"A=1", "B=2=3"});
    CHECK(parsed.has("wait"));
    CHECK_FALSE(parsed.has("json"));
    CHECK_FALSE(parsed.value("json").has_value());
    CHECK(parsed.all("json").empty());
    CHECK(parsed.positionals == std::vector<std::string>{"ID", "PATH"});
    CHECK_FALSE(parsed.has_separator);
}

TEST_CASE("cli args: a value may start with a dash, '-' is a positional", "[cli]") {
    auto parsed = parse_ok({"--image", "--weird", "-"});
    CHECK(parsed.value("image") == "--weird");
    CHECK(parsed.positionals == std::vector<std::string>{"-"});
    CHECK(parse_ok({"--image="}).value("image") == "");
}

TEST_CASE("cli args: everything after -- is kept untouched", "[cli]") {
    auto parsed = parse_ok({"ID", "--json", "--", "ls", "--image", "-l", "--"});
    CHECK(parsed.has_separator);
    CHECK(parsed.has("json"));
    CHECK(parsed.positionals == std::vector<std::string>{"ID"});
    CHECK(parsed.rest == std::vector<std::string>{"ls", "--image", "-l", "--"});
}

TEST_CASE("cli args: stop mode leaves the command and its arguments unparsed", "[cli]") {
    auto parsed = parse_ok({"--json", "create", "--bogus", "x"}, PositionalMode::stop);
    CHECK(parsed.has("json"));
    CHECK(parsed.positionals.empty());
    CHECK(parsed.rest == std::vector<std::string>{"create", "--bogus", "x"});
    CHECK_FALSE(parsed.has_separator);
}

TEST_CASE("cli args: usage errors name the option, never its value", "[cli]") {
    CHECK(parse_error({"--bogus"}) == "unknown option '--bogus'");
    CHECK(parse_error({"--bogus=s3cr3t"}) == "unknown option '--bogus'");
    CHECK(parse_error({"-x"}).find("'-x'") != std::string::npos);
    CHECK(parse_error({"--image"}) == "option '--image' needs a value (IMAGE)");
    CHECK(parse_error({"--wait=yes"}) == "option '--wait' takes no value");
    CHECK(parse_error({"--image", "a", "--image", "b"}) == "option '--image' given more than once");
    CHECK(parse_error({"--wait", "--wait"}) == "option '--wait' given more than once");
}

TEST_CASE("cli args: key=value, numbers and ports", "[cli]") {
    auto pair = eci::cli::parse_key_value("--env", "A=b=c");
    REQUIRE(pair.ok());
    CHECK(pair->first == "A");
    CHECK(pair->second == "b=c");
    CHECK(eci::cli::parse_key_value("--env", "A=")->second.empty());
    CHECK_FALSE(eci::cli::parse_key_value("--env", "novalue").ok());
    CHECK_FALSE(eci::cli::parse_key_value("--env", "=v").ok());

    CHECK(eci::cli::parse_number("--cpu", "0.5", 0.01, 64).value() == 0.5);
    CHECK_FALSE(eci::cli::parse_number("--cpu", "0", 0.01, 64).ok());
    CHECK_FALSE(eci::cli::parse_number("--cpu", "2x", 0.01, 64).ok());
    CHECK_FALSE(eci::cli::parse_number("--cpu", "", 0.01, 64).ok());
    CHECK_FALSE(eci::cli::parse_number("--cpu", "nan", 0.01, 64).ok());
    CHECK(eci::cli::parse_integer("--tail", "42", 1, 100).value() == 42);
    CHECK_FALSE(eci::cli::parse_integer("--tail", "101", 1, 100).ok());
    CHECK_FALSE(eci::cli::parse_integer("--tail", "4.2", 1, 100).ok());

    auto port = eci::cli::parse_port("--port", "8080");
    REQUIRE(port.ok());
    CHECK(port->first == 8080);
    CHECK(port->second.empty());
    CHECK(eci::cli::parse_port("--port", "53/udp")->second == "UDP");
    CHECK(eci::cli::parse_port("--port", "80/TCP")->second == "TCP");
    CHECK_FALSE(eci::cli::parse_port("--port", "80/SCTP").ok());
    CHECK_FALSE(eci::cli::parse_port("--port", "0").ok());
    CHECK_FALSE(eci::cli::parse_port("--port", "70000").ok());
    CHECK_FALSE(eci::cli::parse_port("--port", "/TCP").ok());
}

TEST_CASE("cli args: the help text lists every option", "[cli]") {
    const std::string text = eci::cli::format_options(specs);
    CHECK(text.find("--image IMAGE") != std::string::npos);
    CHECK(text.find("--env K=V") != std::string::npos);
    CHECK(text.find("(repeatable)") != std::string::npos);
    CHECK(text.find("--wait ") != std::string::npos);
}
