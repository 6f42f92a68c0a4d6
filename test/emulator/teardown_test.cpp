// SPDX-License-Identifier: Apache-2.0
// The server's one teardown: Emulator::stop() and the destructor's close_now() clear the same
// resources. close_now() used to be a second copy that forgot the exec tickets.
#include "harness.hpp"

#include "emulator/server.hpp"

#include "core/ecs_metadata.hpp"
#include "core/encoding.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include <string>

using namespace eci::test;
using namespace std::chrono_literals;

TEST_CASE("emulator: stop and close_now both clear every resource, exec tickets included",
          "[emulator][teardown]") {
    const bool via_stop = GENERATE(false, true);
    INFO((via_stop ? "stop()" : "close_now()"));
    asio::io_context io;
    auto server = std::make_shared<eci::emulator::Server>(io.get_executor(), fast_options());
    auto opened = server->open();
    REQUIRE(opened.ok());
    server->start();

    bool done = false;
    std::exception_ptr error;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            TestApiClient client(io.get_executor(), endpoint_of(server->ready()));
            std::string id = co_await create_sandbox(client, "teardown", V("sleep", "600"));
            REQUIRE(co_await wait_status(client, id, "Running") == "Running");
            // A granted exec URL nobody opened: a ticket the teardown must forget.
            auto granted =
                co_await must_call(client, "ExecContainerCommand",
                                   P("ContainerGroupId", id, "ContainerName", "main", "Command",
                                     eci::detail::json_array_string(V("true"))));
            INFO(granted.body);
            REQUIRE(granted.status == 200);
            auto before = boost::json::parse(server->stats_json());
            REQUIRE(stat_number(before, "exec_tickets", "") == 1);
            REQUIRE(stat_number(before, "sandboxes", "") == 1);

            if (via_stop) {
                co_await asio::co_spawn(server->strand(), server->stop(), asio::use_awaitable);
            } else {
                server->close_now();
            }

            auto after = boost::json::parse(server->stats_json());
            INFO(boost::json::serialize(after));
            CHECK(stat_number(after, "exec_tickets", "") == 0);
            CHECK(stat_number(after, "sandboxes", "") == 0);
            CHECK(stat_number(after, "connections", "") == 0);
        },
        [&](std::exception_ptr e) {
            done = true;
            error = e;
            io.stop();
        });
    io.run_for(60s);
    if (error)
        std::rethrow_exception(error);
    REQUIRE(done);
}

// The metadata service is one of the server's parts: the same teardown closes its listener
// and its keep-alive connections (it used to be stopped by the Emulator facade on the side).
TEST_CASE("emulator: stop and close_now close the metadata service's listener and connections",
          "[emulator][teardown][metadata]") {
    namespace http = boost::beast::http;
    using tcp = asio::ip::tcp;
    const bool via_stop = GENERATE(false, true);
    INFO((via_stop ? "stop()" : "close_now()"));
    asio::io_context io;
    auto options = fast_options();
    options.metadata.enabled = true;
    options.metadata.role_name = "teardown-role";
    auto server = std::make_shared<eci::emulator::Server>(io.get_executor(), std::move(options));
    REQUIRE(server->open().ok());
    server->start();
    const std::string endpoint = server->ready().metadata_endpoint;
    REQUIRE_FALSE(endpoint.empty());
    const auto colon = endpoint.rfind(':');
    const tcp::endpoint target(asio::ip::make_address(endpoint.substr(0, colon)),
                               static_cast<std::uint16_t>(std::stoi(endpoint.substr(colon + 1))));

    bool done = false;
    std::exception_ptr error;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            boost::beast::tcp_stream stream(io);
            stream.expires_after(5s);
            co_await stream.async_connect(target, asio::use_awaitable);
            http::request<http::empty_body> request(
                http::verb::get, std::string(eci::detail::security_credentials_path), 11);
            request.set(http::field::host, endpoint);
            request.keep_alive(true);
            co_await http::async_write(stream, request, asio::use_awaitable);
            boost::beast::flat_buffer buffer;
            http::response<http::string_body> response;
            co_await http::async_read(stream, buffer, response, asio::use_awaitable);
            REQUIRE(response.result_int() == 200);
            REQUIRE(response.body() == "teardown-role");
            REQUIRE(response.keep_alive());  // the connection stays open for the teardown
            REQUIRE(server->metadata_stats().role_list_requests == 1);

            if (via_stop) {
                co_await asio::co_spawn(server->strand(), server->stop(), asio::use_awaitable);
            } else {
                server->close_now();
            }

            // The open connection is closed (not left to its 10 s idle deadline)...
            stream.expires_after(5s);
            char byte = 0;
            auto [read_error, n] = co_await stream.async_read_some(
                asio::buffer(&byte, 1), asio::as_tuple(asio::use_awaitable));
            CHECK(read_error);
            CHECK(read_error != boost::beast::error::timeout);
            // ...and nothing listens any more.
            tcp::socket again(io);
            auto [connect_error] =
                co_await again.async_connect(target, asio::as_tuple(asio::use_awaitable));
            CHECK(connect_error == asio::error::connection_refused);
        },
        [&](std::exception_ptr e) {
            done = true;
            error = e;
            io.stop();
        });
    io.run_for(30s);
    if (error)
        std::rethrow_exception(error);
    REQUIRE(done);
}
