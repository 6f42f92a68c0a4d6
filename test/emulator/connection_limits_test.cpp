// SPDX-License-Identifier: Apache-2.0
// Connection limits of the emulator (issue 19, item 4): connections beyond
// --max-connections-per-peer or --max-connections are closed as soon as they are accepted,
// and idle handshakes and idle keep-alive connections are closed after their timeouts.
// Small limits and timeouts keep these fast; the full-size figures are in docs/security.md.
#include "harness.hpp"

#include "net/http_client.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <string>
#include <vector>

using namespace eci::test;
using namespace std::chrono_literals;
using boost::asio::ip::tcp;

namespace {

std::uint64_t stat_of(const Harness& h, const char* name) {
    auto doc = boost::json::parse(h.emulator->stats_json()).as_object();
    return doc.at(name).to_number<std::uint64_t>();
}

// Waits until the emulator counts `n` open connections (it accepts asynchronously).
asio::awaitable<void> wait_open(const Harness& h, std::uint64_t n) {
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (stat_of(h, "open_connections") != n) {
        if (std::chrono::steady_clock::now() > deadline)
            FAIL("open_connections stayed " << stat_of(h, "open_connections") << ", not " << n);
        co_await sleep_for(5ms);
    }
}

// A raw TCP connection to the emulator from `source` (any address in 127.0.0.0/8).
asio::awaitable<tcp::socket> connect_from(const Harness& h, const char* source) {
    tcp::socket socket(co_await asio::this_coro::executor);
    socket.open(tcp::v4());
    socket.bind({asio::ip::make_address(source), 0});
    co_await socket.async_connect({asio::ip::make_address("127.0.0.1"), h.emulator->ready().port},
                                  asio::use_awaitable);
    co_return socket;
}

// Whether the server closed `socket` within `timeout` (a read ends in EOF or a reset).
asio::awaitable<bool> closed_within(tcp::socket& socket, std::chrono::milliseconds timeout) {
    socket.non_blocking(true);
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        char byte = 0;
        boost::system::error_code ec;
        socket.read_some(asio::buffer(&byte, 1), ec);
        if (ec != asio::error::would_block)
            co_return static_cast<bool>(ec);  // EOF or reset: closed; a byte: not closed
        if (std::chrono::steady_clock::now() >= deadline)
            co_return false;
        co_await sleep_for(5ms);
    }
}

}  // namespace

TEST_CASE("emulator connections: beyond the per-peer and total limits a connection is closed",
          "[emulator][limits]") {
    auto options = fast_options();
    options.max_connections = 4;
    options.max_connections_per_peer = 2;
    options.handshake_timeout = 60s;  // the held connections must not time out meanwhile
    Harness h(options);
    h.run([&]() -> asio::awaitable<void> {
        std::vector<tcp::socket> held;
        held.push_back(co_await connect_from(h, "127.0.0.1"));
        held.push_back(co_await connect_from(h, "127.0.0.1"));
        co_await wait_open(h, 2);
        // A third from the same peer: over the per-peer limit.
        auto third = co_await connect_from(h, "127.0.0.1");
        CHECK(co_await closed_within(third, 5s));
        CHECK(stat_of(h, "connections_refused") == 1);
        // Another peer still gets in, up to the total.
        held.push_back(co_await connect_from(h, "127.0.0.2"));
        held.push_back(co_await connect_from(h, "127.0.0.2"));
        co_await wait_open(h, 4);
        auto over_total = co_await connect_from(h, "127.0.0.3");
        CHECK(co_await closed_within(over_total, 5s));
        CHECK(stat_of(h, "connections_refused") == 2);
        // The held ones are still open (their handshake timeout is a minute away).
        CHECK_FALSE(co_await closed_within(held.front(), 50ms));
        // Freed slots admit legitimate clients again.
        held.clear();
        co_await wait_open(h, 0);
        auto client = h.client();
        auto reply = co_await must_call(client, "DescribeContainerGroups", P());
        CHECK(reply.status == 200);
    });
}

TEST_CASE("emulator connections: an idle handshake and an idle keep-alive are timed out",
          "[emulator][limits]") {
    auto options = fast_options();
    options.handshake_timeout = 300ms;
    options.idle_timeout = 300ms;
    Harness h(options);
    h.run([&]() -> asio::awaitable<void> {
        // Connected, never says a word: closed after the handshake timeout, not held.
        const auto started = std::chrono::steady_clock::now();
        auto silent = co_await connect_from(h, "127.0.0.1");
        CHECK(co_await closed_within(silent, 5s));
        CHECK(std::chrono::steady_clock::now() - started >= 250ms);
        co_await wait_open(h, 0);
        // A keep-alive connection after its request: the client would keep it for a minute;
        // the emulator closes it after its idle timeout.
        eci::detail::HttpClientOptions client_options;
        client_options.host = "127.0.0.1";
        client_options.port = h.emulator->ready().port;
        client_options.ca_file = h.emulator->ready().ca_file;
        client_options.idle_timeout = 60s;
        auto client = eci::detail::HttpClient::create(h.io.get_executor(), client_options);
        REQUIRE(client.ok());
        eci::detail::HttpRequest request;
        request.method = "GET";
        request.target = "/_emulator/stats";
        auto reply = co_await client->send(std::move(request));
        REQUIRE(reply.ok());
        CHECK(reply->status == 200);
        CHECK(stat_of(h, "open_connections") == 1);
        co_await wait_open(h, 0);
    });
}
