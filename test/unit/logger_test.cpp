// SPDX-License-Identifier: Apache-2.0
#include <eci/logger.hpp>

#include "core/log.hpp"
#include "core/redact.hpp"

#include <catch2/catch.hpp>

#include <map>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace {

struct Captured {
    std::vector<std::pair<eci::LogLevel, std::string>> lines;
};

eci::Logger capture_into(Captured& captured, eci::LogLevel level) {
    eci::Logger logger;
    logger.level = level;
    logger.sink = [&captured](eci::LogLevel message_level, std::string_view message) {
        captured.lines.emplace_back(message_level, std::string(message));
    };
    return logger;
}

// Counts how often it is formatted, to prove disabled levels never format.
struct CountsFormats {
    int* count;
};

}  // namespace

template <>
struct fmt::formatter<CountsFormats> : fmt::formatter<std::string_view> {
    auto format(const CountsFormats& value, fmt::format_context& ctx) const {
        ++*value.count;
        return fmt::formatter<std::string_view>::format("counted", ctx);
    }
};

TEST_CASE("logger: a default logger is disabled at every level", "[logger]") {
    const eci::Logger logger;
    for (auto level : {eci::LogLevel::trace, eci::LogLevel::info, eci::LogLevel::error}) {
        CHECK_FALSE(logger.enabled(level));
    }
    eci::Logger no_sink;
    no_sink.level = eci::LogLevel::trace;
    CHECK_FALSE(no_sink.enabled(eci::LogLevel::error));
}

TEST_CASE("logger: the level filters messages and disabled messages are never formatted",
          "[logger]") {
    Captured captured;
    const eci::Logger logger = capture_into(captured, eci::LogLevel::info);
    int formats = 0;
    eci::detail::log(logger, eci::LogLevel::debug, "debug {}", CountsFormats{&formats});
    eci::detail::log(logger, eci::LogLevel::info, "info {} {}", 42, CountsFormats{&formats});
    eci::detail::log(logger, eci::LogLevel::error, "error {}", "x");
    eci::detail::log(logger, eci::LogLevel::off, "never");
    CHECK(formats == 1);
    REQUIRE(captured.lines.size() == 2);
    CHECK(captured.lines[0] == std::pair{eci::LogLevel::info, std::string("info 42 counted")});
    CHECK(captured.lines[1] == std::pair{eci::LogLevel::error, std::string("error x")});

    Captured none;
    const eci::Logger off = capture_into(none, eci::LogLevel::off);
    eci::detail::log(off, eci::LogLevel::error, "dropped");
    CHECK(none.lines.empty());
}

TEST_CASE("logger: an exception from the sink does not escape", "[logger]") {
    eci::Logger logger;
    logger.level = eci::LogLevel::trace;
    logger.sink = [](eci::LogLevel, std::string_view) { throw std::runtime_error("sink broke"); };
    CHECK_NOTHROW(eci::detail::log(logger, eci::LogLevel::warn, "x {}", 1));
}

TEST_CASE("logger: level names", "[logger]") {
    CHECK(eci::to_string(eci::LogLevel::warn) == "warn");
    CHECK(fmt::format("{}", eci::LogLevel::trace) == "trace");
    CHECK(eci::make_stderr_logger(eci::LogLevel::debug).enabled(eci::LogLevel::info));
    CHECK_FALSE(eci::make_stderr_logger(eci::LogLevel::warn).enabled(eci::LogLevel::info));
}

TEST_CASE("logger: only allow-listed headers show their values", "[logger][redact]") {
    const std::vector<std::pair<std::string, std::string>> headers = {
        {"Host", "eci.cn-hangzhou.aliyuncs.com"},
        {"Authorization", "ACS3-HMAC-SHA256 Credential=LTAI,Signature=abcdef"},
        {"x-acs-action", "DescribeContainerGroups"},
        {"X-Acs-Security-Token", "STS.token-value"},
        {"x-acs-signature-nonce", "nonce-123"},
        {"x-acs-content-sha256", "e3b0c442"},
        {"Content-Type", "application/json"},
        {"x-acs-date", "2024-01-01T00:00:00Z"},
        {"Cookie", "session=abc"},
    };
    const std::string line = eci::detail::redact_headers(headers);
    CHECK(line ==
          "Host: eci.cn-hangzhou.aliyuncs.com; Authorization: <redacted>; x-acs-action: "
          "DescribeContainerGroups; X-Acs-Security-Token: <redacted>; x-acs-signature-nonce: "
          "<redacted>; x-acs-content-sha256: <redacted>; Content-Type: application/json; "
          "x-acs-date: 2024-01-01T00:00:00Z; Cookie: <redacted>");
    for (const char* allowed : {"host", "CONTENT-TYPE", "content-length", "x-acs-action",
                                "x-acs-version", "x-acs-date", "x-acs-request-id", "User-Agent"}) {
        CHECK(eci::detail::is_loggable_header(allowed));
    }
    CHECK_FALSE(eci::detail::is_loggable_header("authorization"));
    CHECK_FALSE(eci::detail::is_loggable_header("hostx"));
    CHECK(eci::detail::loggable_header_value("x-acs-security-token", "tok") == "<redacted>");

    // Any range of pair-likes works, e.g. a map.
    const std::map<std::string, std::string> map = {{"host", "h"}, {"authorization", "s"}};
    CHECK(eci::detail::redact_headers(map) == "authorization: <redacted>; host: h");
}

TEST_CASE("logger: query redaction hides Signature, SecurityToken and the key id's tail",
          "[logger][redact]") {
    const std::string query =
        "AccessKeyId=LTAI5tAbcdefghijkmwn&Action=DescribeContainerGroups&RegionId=cn-hangzhou"
        "&Signature=abc%2Bdef%3D&SecurityToken=STS.xyz&SignatureNonce=123"
        "&ContainerGroupIds=%5B%22eci-1%22%5D&Container.1.Image=nginx"
        "&Container.1.EnvironmentVar.1.Value=hunter2&Command=%5B%22cat%22%5D&Flag";
    const std::string redacted = eci::detail::redact_query(query);
    CHECK(redacted ==
          "AccessKeyId=LTAI****mwn&Action=DescribeContainerGroups&RegionId=cn-hangzhou"
          "&Signature=<redacted>&SecurityToken=<redacted>&SignatureNonce=<redacted>"
          "&ContainerGroupIds=%5B%22eci-1%22%5D&Container.1.Image=nginx"
          "&Container.1.EnvironmentVar.1.Value=<redacted>&Command=<redacted>&Flag");
    CHECK(eci::detail::redact_query("?Action=X") == "Action=X");
    CHECK(eci::detail::redact_query("") == "");
}

TEST_CASE("logger: URL redaction hides user info, fragment and query secrets", "[logger][redact]") {
    CHECK(eci::detail::redact_url("wss://eci-ws.example.com/exec?token=abc&Action=X#frag") ==
          "wss://eci-ws.example.com/exec?token=<redacted>&Action=X");
    CHECK(eci::detail::redact_url("http://user:pass@proxy:3128/") ==
          "http://<redacted>@proxy:3128/");
    CHECK(eci::detail::redact_url("https://host/path") == "https://host/path");
}

TEST_CASE("logger: access key ids are masked to their first 4 and last 3 characters",
          "[logger][redact]") {
    CHECK(eci::detail::mask_access_key_id("LTAI5tAbcdefghijkmwn") == "LTAI****mwn");
    CHECK(eci::detail::mask_access_key_id("LTAI12345") == "****");
    CHECK(eci::detail::mask_access_key_id("") == "<none>");
}
