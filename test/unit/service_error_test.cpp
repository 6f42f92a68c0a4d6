// SPDX-License-Identifier: Apache-2.0
#include "core/service_error.hpp"

#include <fmt/format.h>
#include <boost/json/serialize.hpp>
#include <catch2/catch.hpp>

using eci::ErrorKind;
using eci::detail::error_from_response;

namespace {

eci::Error reply(unsigned status, std::string_view code) {
    return error_from_response(
        status,
        fmt::format(R"({{"RequestId":"R-1","HostId":"eci.cn-hangzhou.aliyuncs.com",)"
                    R"("Code":"{}","Message":"m","Recommend":"x"}})",
                    code),
        "eci.cn-hangzhou.aliyuncs.com");
}

bool printable_ascii(std::string_view text) {
    for (char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte < 0x20 || byte >= 0x7f)
            return false;
    }
    return true;
}

}  // namespace

TEST_CASE("service_error: a JSON error body fills code, messages, RequestId and endpoint",
          "[service_error]") {
    const eci::Error e = error_from_response(
        400,
        R"({"RequestId":"6E2F-REQ","Message":"Request was denied due to user flow control.",)"
        R"("Recommend":"https://api.aliyun.com/troubleshoot?q=Throttling.User","HostId":"eci.cn-hangzhou.aliyuncs.com","Code":"Throttling.User"})",
        "eci.cn-hangzhou.aliyuncs.com");
    CHECK(e.kind == ErrorKind::throttled);
    CHECK(e.code == "Throttling.User");
    CHECK(e.service_message == "Request was denied due to user flow control.");
    CHECK(e.request_id == "6E2F-REQ");
    CHECK(e.http_status == 400);
    CHECK(e.endpoint == "eci.cn-hangzhou.aliyuncs.com");
    CHECK_FALSE(e.message.empty());
    CHECK(e.is_retryable());
}

TEST_CASE("service_error: each code family maps to its kind", "[service_error]") {
    struct Case {
        unsigned status;
        const char* code;
        ErrorKind kind;
    };
    const Case cases[] = {
        {400, "Throttling", ErrorKind::throttled},
        {400, "Throttling.User", ErrorKind::throttled},
        {429, "Throttling.Api", ErrorKind::throttled},
        {400, "SignatureDoesNotMatch", ErrorKind::auth},
        {400, "IncompleteSignature", ErrorKind::auth},
        {404, "InvalidAccessKeyId.NotFound", ErrorKind::auth},
        {400, "InvalidAccessKeyId.Inactive", ErrorKind::auth},
        {400, "InvalidTimeStamp.Expired", ErrorKind::auth},
        {400, "InvalidTimeStamp.Format", ErrorKind::auth},
        {400, "SignatureNonceUsed", ErrorKind::auth},
        {400, "InvalidSecurityToken.Expired", ErrorKind::auth},
        {400, "InvalidSecurityToken.MismatchWithAccessKey", ErrorKind::auth},
        {400, "MissingSecurityToken", ErrorKind::auth},
        {403, "Forbidden", ErrorKind::auth},
        {403, "Forbidden.RAM", ErrorKind::auth},
        {403, "Forbidden.AccessKeyDisabled", ErrorKind::auth},
        {400, "InvalidParameter.NotFound", ErrorKind::not_found},
        {404, "ContainerGroup.NotFound", ErrorKind::not_found},
        {404, "ResourceNotFound", ErrorKind::not_found},
        {404, "InvalidAction.NotFound", ErrorKind::invalid_argument},
        {404, "InvalidApi.NotFound", ErrorKind::invalid_argument},
        {400, "InvalidRegion.NotFound", ErrorKind::invalid_argument},
        {400, "InvalidParameter", ErrorKind::invalid_argument},
        {400, "InvalidParameter.ValueExceeded", ErrorKind::invalid_argument},
        {400, "MissingParameter", ErrorKind::invalid_argument},
        {400, "MissingContainerGroupId", ErrorKind::invalid_argument},
        {400, "InvalidContainerGroupName", ErrorKind::invalid_argument},
        {400, "IdempotentParameterMismatch", ErrorKind::invalid_argument},
        {403, "InvalidAction", ErrorKind::invalid_argument},
        {500, "InternalError", ErrorKind::service},
        {503, "ServiceUnavailable", ErrorKind::service},
        {500, "SomethingNew", ErrorKind::service},
        {502, "InvalidParameter", ErrorKind::service},  // a 5xx is the service's failure
        {400, "IncorrectStatus", ErrorKind::service},
        {400, "OperationConflict", ErrorKind::service},
        {400, "DryRunOperation", ErrorKind::service},
    };
    for (const Case& c : cases) {
        INFO(c.code << " " << c.status);
        const eci::Error e = reply(c.status, c.code);
        CHECK(e.kind == c.kind);
        CHECK(e.code == c.code);
        CHECK(e.request_id == "R-1");
        CHECK(e.kind == eci::detail::error_kind_for_code(c.code, c.status));
    }
    CHECK(reply(503, "ServiceUnavailable").is_retryable());
    CHECK_FALSE(reply(400, "IncorrectStatus").is_retryable());
}

TEST_CASE("service_error: lower-case keys are read too", "[service_error]") {
    const eci::Error e = error_from_response(
        404,
        R"({"requestId":"r-2","hostId":"h","code":"ContainerGroup.NotFound","message":"gone"})",
        "ep");
    CHECK(e.kind == ErrorKind::not_found);
    CHECK(e.code == "ContainerGroup.NotFound");
    CHECK(e.service_message == "gone");
    CHECK(e.request_id == "r-2");
}

TEST_CASE("service_error: a JSON body without a Code maps by HTTP status", "[service_error]") {
    CHECK(error_from_response(429, "{}", "ep").kind == ErrorKind::throttled);
    CHECK(error_from_response(403, R"({"Message":"no"})", "ep").kind == ErrorKind::auth);
    CHECK(error_from_response(502, "{}", "ep").kind == ErrorKind::service);
    const eci::Error e = error_from_response(404, "{}", "ep");
    CHECK(e.kind == ErrorKind::service);  // a bare 404 is a wrong URL, not a missing sandbox
    CHECK(e.code.empty());
}

TEST_CASE("service_error: a non-JSON or truncated body is a protocol error with a safe excerpt",
          "[service_error]") {
    const eci::Error html = error_from_response(
        502, "<html>\r\n<head><title>502 Bad Gateway</title></head>\n\x1b[31m</html>", "ep:443");
    CHECK(html.kind == ErrorKind::protocol);
    CHECK(html.http_status == 502);
    CHECK(html.endpoint == "ep:443");
    CHECK_THAT(html.message, Catch::Contains("<html>\\r\\n<head><title>502 Bad Gateway"));
    CHECK_THAT(html.message, Catch::Contains("\\x1b[31m"));
    CHECK(printable_ascii(html.message));

    const eci::Error truncated = error_from_response(400, R"({"Code":"Thrott)", "ep");
    CHECK(truncated.kind == ErrorKind::protocol);
    CHECK_THAT(truncated.message, Catch::Contains("{\\\"Code\\\":\\\"Thrott"));
    CHECK(printable_ascii(truncated.message));

    const eci::Error array = error_from_response(400, "[1]", "ep");
    CHECK(array.kind == ErrorKind::protocol);

    // Long bodies are cut, bytes >= 0x80 and NULs escaped.
    std::string big(5000, 'a');
    big[3] = '\0';
    big[4] = '\xe4';
    const eci::Error long_body = error_from_response(500, big, "ep");
    CHECK(long_body.kind == ErrorKind::protocol);
    CHECK(printable_ascii(long_body.message));
    CHECK_THAT(long_body.message, Catch::Contains("aaa\\x00\\xe4aaa"));
    CHECK(long_body.message.size() < 400);
    CHECK_THAT(long_body.message, Catch::Contains("..."));
}

TEST_CASE("service_error: sanitized_excerpt escapes and cuts", "[service_error]") {
    using eci::detail::sanitized_excerpt;
    CHECK(sanitized_excerpt("ok") == "ok");
    CHECK(sanitized_excerpt("a\tb\"c\\") == "a\\tb\\\"c\\\\");
    CHECK(sanitized_excerpt("abcdef", 3) == "abc...");
    CHECK(sanitized_excerpt(std::string_view("\x7f\x01", 2)) == "\\x7f\\x01");
}

TEST_CASE("service_error: parse_success_body limits depth and wants an object", "[service_error]") {
    const auto ok = eci::detail::parse_success_body(R"({"RequestId":"r","TotalCount":1})");
    REQUIRE(ok.ok());
    CHECK(ok->as_object().at("TotalCount") == 1);

    const std::string deep = std::string(65, '[') + std::string(65, ']');
    const auto too_deep = eci::detail::parse_success_body("{\"a\":" + deep + "}");
    REQUIRE_FALSE(too_deep.ok());
    CHECK(too_deep.error().kind == ErrorKind::protocol);

    const std::string fine = std::string(60, '[') + std::string(60, ']');
    CHECK(eci::detail::parse_success_body("{\"a\":" + fine + "}").ok());

    const auto not_json = eci::detail::parse_success_body("OK\n");
    REQUIRE_FALSE(not_json.ok());
    CHECK(not_json.error().kind == ErrorKind::protocol);
    CHECK_THAT(not_json.error().message, Catch::Contains("OK\\n"));

    CHECK_FALSE(eci::detail::parse_success_body("\"text\"").ok());
    CHECK_FALSE(eci::detail::parse_success_body("").ok());
    CHECK_FALSE(eci::detail::parse_success_body(R"({"a":1)").ok());
}

TEST_CASE("service_error: emulator-side bodies and errors look like the service's",
          "[service_error]") {
    const auto body = eci::detail::service_error_body("REQ-9", "eci.cn-hangzhou.aliyuncs.com",
                                                      "IncorrectStatus", "bad status");
    CHECK(body.at("RequestId") == "REQ-9");
    CHECK(body.at("HostId") == "eci.cn-hangzhou.aliyuncs.com");
    CHECK(body.at("Code") == "IncorrectStatus");
    CHECK(body.at("Message") == "bad status");
    CHECK(body.at("Recommend") ==
          "https://api.aliyun.com/troubleshoot?q=IncorrectStatus&product=Eci&requestId=REQ-9");

    // What the emulator sends, the client maps back.
    const eci::Error back = error_from_response(400, boost::json::serialize(body), "ep");
    CHECK(back.code == "IncorrectStatus");
    CHECK(back.service_message == "bad status");
    CHECK(back.request_id == "REQ-9");

    const eci::Error made = eci::detail::make_service_error("Throttling.User", "slow down", 429);
    CHECK(made.kind == ErrorKind::throttled);
    CHECK(made.http_status == 429);
    CHECK(made.message == "slow down");

    const eci::Error missing = eci::detail::missing_parameter_error("RegionId");
    CHECK(missing.kind == ErrorKind::invalid_argument);
    CHECK(missing.code == "MissingParameter");
    CHECK(missing.http_status == 400);
    const eci::Error invalid = eci::detail::invalid_parameter_error("Limit");
    CHECK(invalid.message == "The specified parameter \"Limit\" is not valid.");
}
