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

TEST_CASE("logger: structured fields reach a record sink apart and a plain sink appended",
          "[logger][fields]") {
    eci::LogFields fields;
    fields.action = "DeleteContainerGroup";
    fields.sandbox_id = "eci-123";
    fields.request_id = "REQ-9";
    fields.attempt = 2;
    fields.latency = std::chrono::microseconds(5230);
    fields.dispatch = eci::Dispatch::refused;
    fields.error_kind = eci::ErrorKind::throttled;
    fields.error_code = "Throttling";

    // A logger written before fields existed: a level and a sink, aggregate-initialised.
    Captured plain;
    eci::Logger old_style{eci::LogLevel::debug, [&plain](eci::LogLevel level, std::string_view m) {
                              plain.lines.emplace_back(level, std::string(m));
                          }};
    eci::detail::log(old_style, eci::LogLevel::info, fields, "call {}", "done");
    eci::detail::log(old_style, eci::LogLevel::info, eci::LogFields{}, "no fields");
    REQUIRE(plain.lines.size() == 2);
    CHECK(plain.lines[0].second ==
          "call done [action=DeleteContainerGroup sandbox_id=eci-123 request_id=REQ-9 attempt=2 "
          "latency_us=5230 dispatch=refused error_kind=throttled error_code=Throttling]");
    CHECK(plain.lines[1].second == "no fields");

    std::vector<std::string> seen;
    eci::Logger structured;
    structured.level = eci::LogLevel::debug;
    structured.sink = [&seen](eci::LogLevel, std::string_view) { seen.emplace_back("plain"); };
    structured.record_sink = [&seen](const eci::LogRecord& record) {
        seen.push_back(fmt::format("{}|{}|{}|{}|{}|{}", record.level, record.message,
                                   record.fields.action, record.fields.sandbox_id,
                                   record.fields.attempt, record.fields.latency->count()));
    };
    CHECK(structured.enabled(eci::LogLevel::debug));
    eci::detail::log(structured, eci::LogLevel::debug, fields, "attempt {}", 2);
    eci::detail::log(structured, eci::LogLevel::trace, fields, "below the level");
    REQUIRE(seen.size() == 1);  // the record sink instead of the plain one, never both
    CHECK(seen[0] == "debug|attempt 2|DeleteContainerGroup|eci-123|2|5230");

    // A record sink alone enables the logger; its exceptions are swallowed too.
    eci::Logger only_records;
    only_records.level = eci::LogLevel::info;
    only_records.record_sink = [](const eci::LogRecord&) { throw std::runtime_error("broken"); };
    CHECK(only_records.enabled(eci::LogLevel::warn));
    CHECK_NOTHROW(eci::detail::log(only_records, eci::LogLevel::warn, fields, "x"));
}

TEST_CASE("logger: format_fields renders only the fields that are set", "[logger][fields]") {
    CHECK(eci::format_fields(eci::LogFields{}).empty());
    eci::LogFields fields;
    fields.exit_code = 0;
    fields.endpoint = "127.0.0.1:8443";
    CHECK(eci::format_fields(fields) == "exit_code=0 endpoint=127.0.0.1:8443");
}

TEST_CASE("logger: disabled structured messages format nothing", "[logger][fields]") {
    Captured captured;
    const eci::Logger logger = capture_into(captured, eci::LogLevel::warn);
    int formats = 0;
    eci::LogFields fields;
    fields.action = "ExecContainerCommand";
    eci::detail::log(logger, eci::LogLevel::debug, fields, "{}", CountsFormats{&formats});
    CHECK(formats == 0);
    CHECK(captured.lines.empty());
}
