// SPDX-License-Identifier: Apache-2.0
// The coroutine API from a consumer: any_io_executor, co_spawn and an awaitable of the library
// in a translation unit of the consumer's (compiled by clang in "package: clang consumer",
// where GCC's and clang's manglings of Asio's executor specializations must meet).
#include "async_check.hpp"

#include <eci/sandbox.hpp>

#include <fmt/core.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <exception>
#include <string>

namespace asio = boost::asio;

eci::ClientConfig eci_consumer_refused_config() {
    eci::ClientConfig config;
    config.credentials.access_key_id = "LTAIconsumer0000";
    config.credentials.access_key_secret = "consumer-secret";
    config.region_id = "cn-hangzhou";
    config.endpoint.scheme = "http";
    config.endpoint.host = "127.0.0.1";
    config.endpoint.port = 1;  // nothing listens on port 1: connect is refused at once
    config.retry.enabled = false;
    config.timeouts.connect = std::chrono::seconds(5);
    return config;
}

int eci_consumer_async_check() {
    asio::io_context io;
    const eci::ClientConfig config = eci_consumer_refused_config();
    auto client = eci::AsyncEciSandbox::from_config(io.get_executor(), config);
    if (!client) {
        fmt::print(stderr, "async create failed: {}\n", client.error().to_string());
        return 1;
    }
    int rc = 2;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
            auto info = co_await client->get_sandbox("eci-consumer-none");
            if (info.ok() || info.error().kind != eci::ErrorKind::network) {
                fmt::print(stderr, "async: expected a network error, got {}\n",
                           info.ok() ? std::string("success") : info.error().to_string());
                rc = 3;
                co_return;
            }
            rc = 0;
        },
        [&](const std::exception_ptr& error) {
            if (error) {
                rc = 4;
            }
        });
    io.run();
    return rc;
}
