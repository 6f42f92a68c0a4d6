// list_all against a hostile server (issue 19, item 5): a NextToken that never ends and fat
// pages are bounded by ListOptions::max_pages and max_bytes instead of being kept until
// memory runs out.
#include <eci/sandbox_client.hpp>

#include "support/run_with_deadline.hpp"
#include "support/tls_test_server.hpp"

#include <fmt/format.h>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <string>

namespace asio = boost::asio;
using eci::ErrorKind;
using eci::test::TestAction;
using eci::test::TestRequest;
using eci::test::TestResponse;
using eci::test::TlsTestServer;
using namespace std::chrono_literals;

namespace {

// One page of `count` sandboxes, each with a name of `name_bytes` bytes, and a fresh token.
TestResponse page(int number, int count, std::size_t name_bytes) {
    boost::json::array groups;
    for (int i = 0; i < count; ++i) {
        groups.push_back(boost::json::object{
            {"ContainerGroupId", fmt::format("eci-p{}-{}", number, i)},
            {"ContainerGroupName", std::string(name_bytes, 'n')},
            {"Status", "Running"},
        });
    }
    TestResponse response;
    response.headers = {{"Content-Type", "application/json;charset=utf-8"}};
    response.body = boost::json::serialize(boost::json::object{
        {"RequestId", fmt::format("REQ-{}", number)},
        {"TotalCount", 1000000},
        {"NextToken", fmt::format("token-{}", number + 1)},
        {"ContainerGroups", std::move(groups)},
    });
    return response;
}

eci::AsyncEciSandbox client_for(asio::io_context& io, const TlsTestServer& server) {
    eci::ClientConfig config;
    config.credentials = {"LTAIlistbounds01", "list-bounds-secret", ""};
    config.endpoint = {"https", "localhost", server.port()};
    config.tls.ca_file = server.ca_file();
    config.lease.tag_sandboxes = false;
    auto client = eci::AsyncEciSandbox::create(io.get_executor(), config);
    REQUIRE(client.ok());
    return std::move(client).value();
}

}  // namespace

TEST_CASE("list bounds: a NextToken that never ends stops at max_pages", "[list][bounds]") {
    asio::io_context io;
    int served = 0;
    TlsTestServer server(io, [&](const TestRequest&) -> TestAction {
        ++served;
        return page(served, 20, 10);
    });
    auto client = client_for(io, server);
    eci::test::run_with_deadline(io, [&]() -> asio::awaitable<void> {
        eci::ListOptions options;
        options.max_pages = 5;
        auto listed = co_await client.list_all(options);
        REQUIRE_FALSE(listed.ok());
        CHECK(listed.error().kind == ErrorKind::protocol);
        CHECK_THAT(listed.error().message, Catch::Contains("max_pages"));
    });
    // Before the bound: 100000 pages, every one kept.
    CHECK(served == 5);
}

TEST_CASE("list bounds: fat pages stop at max_bytes", "[list][bounds]") {
    asio::io_context io;
    int served = 0;
    TlsTestServer server(io, [&](const TestRequest&) -> TestAction {
        ++served;
        return page(served, 20, 50 * 1024);  // ~1 MiB a page
    });
    auto client = client_for(io, server);
    eci::test::run_with_deadline(io, [&]() -> asio::awaitable<void> {
        eci::ListOptions options;
        options.max_bytes = 2500000;  // passed during the third page (~1 MB each)
        auto listed = co_await client.list_all(options);
        REQUIRE_FALSE(listed.ok());
        CHECK(listed.error().kind == ErrorKind::protocol);
        CHECK_THAT(listed.error().message, Catch::Contains("max_bytes"));
        CHECK(listed.error().request_id == "REQ-3");
    });
    CHECK(served == 3);
}
