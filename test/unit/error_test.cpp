// SPDX-License-Identifier: Apache-2.0
#include <eci/result.hpp>

#include <fmt/format.h>
#include <catch2/catch.hpp>
#include <string>
#include <utility>

TEST_CASE("Error formats kind, code, status, messages and RequestId on one line") {
    eci::Error error;
    error.kind = eci::ErrorKind::throttled;
    error.code = "Throttling.User";
    error.http_status = 400;
    error.message = "the service throttled the call";
    error.service_message = "Request was denied due to user flow control.";
    error.request_id = "1C3A-REQ";
    const std::string line = fmt::format("{}", error);
    CHECK(line ==
          "throttled Throttling.User (HTTP 400): the service throttled the call; service said: "
          "Request was denied due to user flow control. [RequestId: 1C3A-REQ]");
    CHECK(line.find('\n') == std::string::npos);
}

TEST_CASE("Error::is_retryable covers throttling, 5xx and transport failures only") {
    auto make = [](eci::ErrorKind kind, int status, std::string code) {
        eci::Error e = eci::Error::make(kind, "x");
        e.http_status = status;
        e.code = std::move(code);
        return e;
    };
    CHECK(make(eci::ErrorKind::throttled, 400, "Throttling.User").is_retryable());
    CHECK(make(eci::ErrorKind::network, 0, "").is_retryable());
    CHECK(make(eci::ErrorKind::service, 503, "ServiceUnavailable").is_retryable());
    CHECK(make(eci::ErrorKind::service, 500, "InternalError").is_retryable());
    CHECK_FALSE(make(eci::ErrorKind::service, 400, "IncorrectStatus").is_retryable());
    CHECK_FALSE(make(eci::ErrorKind::invalid_argument, 400, "InvalidParameter").is_retryable());
    CHECK_FALSE(make(eci::ErrorKind::auth, 400, "SignatureDoesNotMatch").is_retryable());
    CHECK_FALSE(make(eci::ErrorKind::cancelled, 0, "").is_retryable());
}

TEST_CASE("Result holds a value or an error and never throws on expected failures") {
    eci::Result<int> good = 42;
    REQUIRE(good.ok());
    CHECK(*good == 42);
    eci::Result<int> bad = eci::Error::make(eci::ErrorKind::not_found, "no such sandbox");
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.error().kind == eci::ErrorKind::not_found);
    CHECK(bad.value_or(7) == 7);
    CHECK_THROWS_AS(bad.value(), eci::BadResultAccess);
    eci::Result<void> done;
    CHECK(done.ok());
    eci::Result<void> failed = eci::Error::make(eci::ErrorKind::timeout, "late");
    CHECK(failed.error().error_code() == eci::ErrorKind::timeout);
    CHECK(failed.error().error_code().category().name() == std::string("eci"));
}

TEST_CASE("Result throws one exception type for both wrong accesses") {
    // value() on an error and error() on a success are the same programming error; before
    // 0.2, error() on a success threw std::bad_variant_access (or read an empty optional).
    eci::Result<int> good = 42;
    CHECK_THROWS_AS(good.error(), eci::BadResultAccess);
    CHECK_THROWS_AS(std::move(good).error(), eci::BadResultAccess);
    try {
        (void)good.error();
        FAIL("error() on a success did not throw");
    } catch (const eci::BadResultAccess& e) {
        CHECK(e.error().kind == eci::ErrorKind::invalid_argument);
        CHECK(std::string(e.what()).find("error() called on a success") != std::string::npos);
    }
    const eci::Result<std::string> const_good = std::string("x");
    CHECK_THROWS_AS(const_good.error(), eci::BadResultAccess);

    eci::Result<void> done;
    CHECK_THROWS_AS(done.error(), eci::BadResultAccess);
    const eci::Result<void> const_done;
    CHECK_THROWS_AS(const_done.error(), eci::BadResultAccess);

    eci::Result<int> bad = eci::Error::make(eci::ErrorKind::not_found, "no such sandbox");
    try {
        (void)bad.value();
        FAIL("value() on an error did not throw");
    } catch (const eci::BadResultAccess& e) {
        CHECK(e.error().kind == eci::ErrorKind::not_found);
        CHECK(e.error().message == "no such sandbox");
    }
}
