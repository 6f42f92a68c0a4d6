// SPDX-License-Identifier: Apache-2.0
// The server's one teardown: Emulator::stop() and the destructor's close_now() clear the same
// resources. close_now() used to be a second copy that forgot the exec tickets.
#include "harness.hpp"

#include "emulator/server.hpp"

#include "core/encoding.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>

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
