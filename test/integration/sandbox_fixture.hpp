// SPDX-License-Identifier: Apache-2.0
// An in-process emulator over TLS (start delay 0, ephemeral port) and a client configured
// for it, for the sandbox integration tests.
#pragma once

#include "emulator/emulator.hpp"
#include "support/run_with_deadline.hpp"

#include <eci/sandbox.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <catch2/catch.hpp>

#include <boost/asio/executor_work_guard.hpp>

#include <chrono>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

namespace eci::test {

inline emulator::EmulatorOptions sandbox_emulator_options(
    emulator::ExitStatusMode mode = emulator::ExitStatusMode::none) {
    emulator::EmulatorOptions options;
    options.start_delay = std::chrono::milliseconds(0);
    options.exit_status = mode;
    options.access_key_id = "LTAIsandboxtest";
    options.access_key_secret = "sandbox-test-secret";
    options.region_id = "cn-hangzhou";
    return options;
}

/// A client configuration pointing at a started emulator, trusting its CA.
inline ClientConfig client_config_for(const emulator::ReadyInfo& ready) {
    ClientConfig config;
    config.credentials.access_key_id = ready.access_key_id;
    config.credentials.access_key_secret = ready.access_key_secret;
    config.credentials.security_token = ready.security_token;
    config.region_id = ready.region_id;
    config.endpoint.scheme = ready.scheme;
    config.endpoint.host = "127.0.0.1";
    config.endpoint.port = ready.port;
    config.tls.ca_file = ready.ca_file;
    // The emulator's limits are its own flags (--qps-limit); pacing at the real service's
    // figures would only slow the suite down. The rate-limit tests turn it on explicitly.
    config.rate_limit.enabled = false;
    return config;
}

/// The emulator and the async client on one io_context.
struct AsyncSandboxFixture {
    explicit AsyncSandboxFixture(emulator::EmulatorOptions options = sandbox_emulator_options()) {
        auto started = emulator::Emulator::start(io.get_executor(), std::move(options));
        if (!started)
            FAIL("emulator did not start: " << started.error().to_string());
        emulator = std::move(*started);
        auto created =
            AsyncEciSandbox::from_config(io.get_executor(), client_config_for(emulator->ready()));
        if (!created)
            FAIL("client: " << created.error().to_string());
        client.emplace(std::move(*created));
    }

    /// Runs `body` (returning awaitable<void>), then stops the emulator, within `deadline`.
    template <class Body>
    void run(Body body, std::chrono::seconds deadline = std::chrono::seconds(60)) {
        run_with_deadline(
            io,
            [this, body = std::move(body)]() mutable -> boost::asio::awaitable<void> {
                std::exception_ptr failure;
                try {
                    co_await body();
                } catch (...) {
                    failure = std::current_exception();
                }
                co_await emulator->stop();
                if (failure)
                    std::rethrow_exception(failure);
            },
            deadline);
    }

    boost::asio::io_context io;
    std::unique_ptr<emulator::Emulator> emulator;
    std::optional<AsyncEciSandbox> client;
};

/// Requires a successful Result, failing the test with its error's text otherwise.
template <class R>
void require_ok(const R& result) {
    if (!result.ok())
        FAIL(result.error().to_string());
}

/// How many calls of `action` (e.g. "DescribeContainerGroups") the client has made.
inline std::uint64_t api_calls(const AsyncEciSandbox& client, std::string_view action) {
    const auto stats = client.api().stats();
    const auto found = stats.api_calls.find(std::string(action));
    return found == stats.api_calls.end() ? 0 : found->second;
}

/// Creates a Running sandbox named `name` and requires success.
inline boost::asio::awaitable<AsyncSandbox> make_running_sandbox(AsyncEciSandbox& client,
                                                                 std::string name) {
    CreateOptions options;
    options.image = "registry.example/ubuntu:22.04";
    options.name = std::move(name);
    options.wait_until_running = true;
    options.wait_timeout = std::chrono::seconds(20);
    auto created = co_await client.create(std::move(options));
    if (!created)
        FAIL("create: " << created.error().to_string());
    co_return std::move(*created);
}

/// Runs `body` on a thread and fails the test if it does not finish within `deadline`.
template <class Body>
void with_deadline(Body body, std::chrono::seconds deadline) {
    auto task = std::async(std::launch::async, std::move(body));
    if (task.wait_for(deadline) != std::future_status::ready) {
        FAIL("blocking test did not finish within its deadline");
    }
    task.get();
}

}  // namespace eci::test
