// SPDX-License-Identifier: Apache-2.0
// TlsConfig::verify_peer = false is for a local emulator only: every client created with it
// says so through the library's logger, at warn level, each time.
#include <eci/async_sandbox.hpp>
#include <eci/blocking.hpp>
#include <eci/openapi_client.hpp>

#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

namespace {

struct Captured {
    std::vector<std::pair<eci::LogLevel, std::string>> lines;
    std::size_t warnings_about_verification() const {
        return static_cast<std::size_t>(
            std::count_if(lines.begin(), lines.end(), [](const auto& line) {
                return line.first == eci::LogLevel::warn &&
                       line.second.find("verification is OFF") != std::string::npos;
            }));
    }
};

eci::Logger capture_into(Captured& captured) {
    eci::Logger logger;
    logger.level = eci::LogLevel::warn;
    logger.sink = [&captured](eci::LogLevel level, std::string_view message) {
        captured.lines.emplace_back(level, std::string(message));
    };
    return logger;
}

eci::ClientConfig local_config(bool verify_peer) {
    eci::ClientConfig config;
    config.credentials = {"LTAIwarntest", "warn-test-secret-Xy12", ""};
    config.region_id = "cn-hangzhou";
    config.endpoint = {"https", "127.0.0.1", 1};  // never called
    config.tls.verify_peer = verify_peer;
    return config;
}

}  // namespace

TEST_CASE("tls warning: verify_peer = false warns at every client creation", "[tls_warning]") {
    boost::asio::io_context io;
    Captured captured;
    for (int i = 0; i < 2; ++i) {
        auto client = eci::AsyncEciSandbox::from_config(io.get_executor(), local_config(false),
                                                        capture_into(captured));
        REQUIRE(client.ok());
    }
    CHECK(captured.warnings_about_verification() == 2);
    auto api =
        eci::OpenApiClient::create(io.get_executor(), local_config(false), capture_into(captured));
    REQUIRE(api.ok());
    CHECK(captured.warnings_about_verification() == 3);
    auto blocking = eci::EciSandbox::from_config(local_config(false), capture_into(captured));
    REQUIRE(blocking.ok());
    CHECK(captured.warnings_about_verification() == 4);
    for (const auto& line : captured.lines)
        CHECK(line.second.find("warn-test-secret") == std::string::npos);
}

TEST_CASE("tls warning: a verifying client logs no such warning", "[tls_warning]") {
    boost::asio::io_context io;
    Captured captured;
    auto client = eci::AsyncEciSandbox::from_config(io.get_executor(), local_config(true),
                                                    capture_into(captured));
    REQUIRE(client.ok());
    CHECK(captured.warnings_about_verification() == 0);
}
