// SPDX-License-Identifier: Apache-2.0
// An in-process emulator on an ephemeral port with its own io_context, and helpers to drive
// it with the test client under a hard deadline.
#pragma once

#include "emulator/emulator.hpp"
#include "support/test_api_client.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include <catch2/catch.hpp>

#include <chrono>
#include <exception>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace eci::test {

namespace asio = boost::asio;

/// Options for tests: TLS on, no start delay, fixed credentials.
inline emulator::EmulatorOptions fast_options() {
    emulator::EmulatorOptions options;
    options.start_delay = std::chrono::milliseconds(0);
    options.access_key_id = "LTAItestkey";
    options.access_key_secret = "test-secret";
    options.region_id = "cn-hangzhou";
    return options;
}

/// Where and how the test client reaches an emulator that is ready.
inline TestEndpoint endpoint_of(const emulator::ReadyInfo& ready) {
    TestEndpoint e;
    e.host = "127.0.0.1";
    e.port = ready.port;
    e.tls = ready.scheme == "https";
    e.ca_pem = ready.ca_pem;
    e.region_id = ready.region_id;
    e.access_key_id = ready.access_key_id;
    e.access_key_secret = ready.access_key_secret;
    e.security_token = ready.security_token;
    return e;
}

class Harness {
  public:
    explicit Harness(emulator::EmulatorOptions options = fast_options()) {
        auto started = emulator::Emulator::start(io.get_executor(), std::move(options));
        if (!started)
            FAIL("emulator did not start: " << started.error().to_string());
        emulator = std::move(*started);
    }

    TestEndpoint endpoint() const { return endpoint_of(emulator->ready()); }

    TestApiClient client() { return TestApiClient(io.get_executor(), endpoint()); }

    /// Runs `body` (a coroutine function) and then stops the emulator, failing the test when
    /// both do not finish within `deadline`.
    template <class Body>
    void run(Body body, std::chrono::seconds deadline = std::chrono::seconds(60)) {
        bool done = false;
        std::exception_ptr error;
        asio::co_spawn(
            io,
            [&]() -> asio::awaitable<void> {
                co_await body();
                co_await emulator->stop();
            },
            [&](std::exception_ptr e) {
                done = true;
                error = e;
                io.stop();
            });
        io.run_for(deadline);
        if (error)
            std::rethrow_exception(error);
        REQUIRE(done);
    }

    asio::io_context io;
    std::unique_ptr<emulator::Emulator> emulator;
};

// GCC 12 cannot keep a braced initializer list alive across a co_await ("array used as
// initializer"), so tests build parameter lists with these instead of `{{"Name", value}}`.

/// Params from alternating names and values: P("A", "1", "B", b).
template <class... A>
eci::detail::Params P(A&&... args) {
    static_assert(sizeof...(A) % 2 == 0, "P() takes name/value pairs");
    std::vector<std::string> flat;
    (flat.emplace_back(std::forward<A>(args)), ...);
    eci::detail::Params params;
    for (std::size_t i = 0; i + 1 < flat.size(); i += 2)
        params.emplace_back(flat[i], flat[i + 1]);
    return params;
}

/// A list of strings: V("sleep", "600").
template <class... A>
std::vector<std::string> V(A&&... args) {
    std::vector<std::string> out;
    (out.emplace_back(std::forward<A>(args)), ...);
    return out;
}

/// Command-line arguments: SV("--listen", "127.0.0.1:0").
template <class... A>
std::vector<std::string_view> SV(A... args) {
    return {std::string_view(args)...};
}

inline asio::awaitable<void> sleep_for(std::chrono::milliseconds duration) {
    asio::steady_timer timer(co_await asio::this_coro::executor, duration);
    co_await timer.async_wait(asio::use_awaitable);
}

/// A CreateContainerGroup request for one container named "main" running `command`.
inline eci::detail::Params create_params(std::string name, std::vector<std::string> command = {},
                                         eci::detail::Params extra = {}) {
    eci::detail::Params params{{"ContainerGroupName", std::move(name)},
                               {"Container.1.Name", "main"},
                               {"Container.1.Image", "registry.example/ubuntu:22.04"},
                               {"Container.1.Cpu", "1"},
                               {"Container.1.Memory", "2"}};
    for (std::size_t i = 0; i < command.size(); ++i) {
        params.emplace_back("Container.1.Command." + std::to_string(i + 1), command[i]);
    }
    params.insert(params.end(), extra.begin(), extra.end());
    return params;
}

/// Calls and requires a transport-level success.
inline asio::awaitable<TestReply> must_call(TestApiClient& client, std::string action,
                                            eci::detail::Params params, CallOptions options = {}) {
    auto reply = co_await client.call(std::move(action), std::move(params), std::move(options));
    if (!reply)
        FAIL("transport failure: " << reply.error().to_string());
    co_return std::move(*reply);
}

inline asio::awaitable<std::string> create_sandbox(TestApiClient& client, std::string name,
                                                   std::vector<std::string> command = {},
                                                   eci::detail::Params extra = {}) {
    auto reply =
        co_await must_call(client, "CreateContainerGroup",
                           create_params(std::move(name), std::move(command), std::move(extra)));
    INFO(reply.body);
    REQUIRE(reply.status == 200);
    co_return reply.str("ContainerGroupId");
}

/// The ContainerGroup object of `id` (null when not listed).
inline asio::awaitable<boost::json::value> describe_one(TestApiClient& client, std::string id) {
    auto reply = co_await must_call(client, "DescribeContainerGroups",
                                    P("ContainerGroupIds", "[\"" + id + "\"]"));
    INFO(reply.body);
    REQUIRE(reply.status == 200);
    const auto& groups = reply.json.at("ContainerGroups").as_array();
    if (groups.empty())
        co_return nullptr;
    co_return groups.front();
}

/// Polls until the sandbox has `status` (or the deadline passes); returns the last status.
inline asio::awaitable<std::string> wait_status(
    TestApiClient& client, std::string id, std::string status,
    std::chrono::milliseconds timeout = std::chrono::seconds(15)) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    std::string last;
    for (;;) {
        auto group = co_await describe_one(client, id);
        last = group.is_null() ? "<gone>" : std::string(group.at("Status").as_string());
        if (last == status || std::chrono::steady_clock::now() > deadline)
            co_return last;
        co_await sleep_for(std::chrono::milliseconds(20));
    }
}

inline std::int64_t stat_number(const boost::json::value& stats, std::string_view section,
                                std::string_view key) {
    const auto* object = stats.as_object().if_contains(section);
    if (!object)
        return 0;
    if (key.empty())
        return object->to_number<std::int64_t>();
    const auto* value = object->as_object().if_contains(key);
    return value ? value->to_number<std::int64_t>() : 0;
}

}  // namespace eci::test
