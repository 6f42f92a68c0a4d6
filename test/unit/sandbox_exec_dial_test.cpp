// SPDX-License-Identifier: Apache-2.0
// How AsyncEciSandbox dials the exec WebSocket that ExecContainerCommand hands out: the proxy
// decision is made for the WebSocket's own host (not the API's), TimeoutConfig::connect bounds
// its connect, and an https client refuses a ws:// URL. A scripted API server answers every
// call with a WebSocketUri pointing at a scripted WebSocket server on another host name.
// A start that fails there fails alike on every exec path (one start, lib/sandbox/exec_start).
#include <eci/async_sandbox.hpp>
#include <eci/interactive_exec.hpp>
#include <eci/shell_session.hpp>

#include "emulator/certificate_authority.hpp"
#include "support/connect_proxy.hpp"
#include "support/run_with_deadline.hpp"
#include "support/tls_test_server.hpp"
#include "support/ws_test_server.hpp"

#include "core/exec_frames.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <catch2/catch.hpp>

#include <fmt/format.h>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace asio = boost::asio;
using namespace std::chrono_literals;
using eci::ErrorKind;
using eci::test::TestAction;
using eci::test::TestRequest;
using eci::test::TestResponse;
using eci::test::TlsTestServer;
using eci::test::WsExitMode;
using eci::test::WsTestScript;
using eci::test::WsTestServer;

namespace {

/// A wss:// server certificate (for 127.0.0.1 and localhost) and its CA.
struct WsCertificates {
    asio::ssl::context server{asio::ssl::context::tls_server};
    std::string ca_pem;
    WsCertificates() {
        auto generated = eci::emulator::generate_certificates();
        REQUIRE(generated.ok());
        ca_pem = generated->ca_certificate_pem;
        server.use_certificate_chain(asio::buffer(generated->server_certificate_pem));
        server.use_private_key(asio::buffer(generated->server_private_key_pem),
                               asio::ssl::context::pem);
    }
};

/// A file holding both CAs (the API server's and the WebSocket server's); removed at the end.
struct CaBundle {
    explicit CaBundle(const std::string& pem) {
        path = (std::filesystem::temp_directory_path() /
                fmt::format("eci-dial-ca-{}-{}.pem", ::getpid(), counter()++))
                   .string();
        REQUIRE(eci::emulator::write_pem_file(path, pem).ok());
    }
    ~CaBundle() { std::remove(path.c_str()); }
    static int& counter() {
        static int value = 0;
        return value;
    }
    std::string path;
};

/// The API: every call is answered as ExecContainerCommand with `ws_url`.
TestAction exec_reply(const std::string& ws_url) {
    TestResponse response;
    response.headers = {{"Content-Type", "application/json"}};
    response.body =
        fmt::format(R"({{"RequestId":"req-dial","WebSocketUri":"{}","HttpUrl":""}})", ws_url);
    return response;
}

WsTestScript finishing_script() {
    WsTestScript script;
    script.messages = {{eci::detail::encode_frame(eci::detail::ExecChannel::stdout_, "dialed")}};
    script.exit_mode = WsExitMode::k8s;
    script.exit_code = 0;
    return script;
}

eci::ClientConfig config_for(std::string scheme, std::string api_host, std::uint16_t port,
                             std::string ca_file) {
    eci::ClientConfig config;
    config.credentials = {"LTAIdialtest", "dial-test-secret", ""};
    config.region_id = "cn-hangzhou";
    config.endpoint = {std::move(scheme), std::move(api_host), port};
    config.tls.ca_file = std::move(ca_file);
    config.retry.initial_backoff = 5ms;
    config.retry.max_backoff = 20ms;
    config.rate_limit.enabled = false;
    return config;
}

struct ExecAttempt {
    std::optional<eci::Result<eci::CommandResult>> result;
    std::chrono::steady_clock::duration elapsed{};
};

ExecAttempt run_exec(asio::io_context& io, eci::ClientConfig config) {
    auto client = eci::AsyncEciSandbox::from_config(io.get_executor(), std::move(config));
    REQUIRE(client.ok());
    ExecAttempt attempt;
    eci::test::run_with_deadline(io, [&]() -> asio::awaitable<void> {
        eci::ExecOptions options;
        options.timeout = 30s;               // far beyond every bound under test
        options.container_name = "sandbox";  // known: no DescribeContainerGroups first
        std::vector<std::string> argv{"echo", "x"};
        const auto start = std::chrono::steady_clock::now();
        attempt.result =
            co_await client->exec_command("eci-dial", std::move(argv), std::move(options));
        attempt.elapsed = std::chrono::steady_clock::now() - start;
    });
    REQUIRE(attempt.result);
    return attempt;
}

}  // namespace

TEST_CASE("exec dial: NO_PROXY is matched against the WebSocket's host, not the API's",
          "[exec_dial]") {
    // API at "localhost", WebSocket at "127.0.0.1": the same machine under two names, so
    // NO_PROXY can name one and not the other.
    const bool websocket_bypassed = GENERATE(true, false);
    asio::io_context io;
    WsCertificates ws_certificates;
    WsTestServer ws(io.get_executor(), finishing_script(), ws_certificates.server);
    const std::string ws_url = ws.url("/exec/?s=DIAL-TOKEN", "127.0.0.1");
    TlsTestServer api(io, [&](const TestRequest&) { return exec_reply(ws_url); });
    CaBundle cas(api.ca_pem() + ws_certificates.ca_pem);
    eci::test::ConnectProxy proxy(io);

    auto config = config_for("https", "localhost", api.port(), cas.path);
    config.proxy.https_proxy = proxy.url();
    config.proxy.no_proxy = websocket_bypassed ? "127.0.0.1" : "localhost";
    auto attempt = run_exec(io, config);
    REQUIRE(attempt.result->ok());
    CHECK((*attempt.result)->stdout_text == "dialed");
    CHECK(ws.connections() == 1);

    const std::string api_target = fmt::format("localhost:{}", api.port());
    const std::string ws_target = fmt::format("127.0.0.1:{}", ws.port());
    std::vector<std::string> expected;
    if (websocket_bypassed)
        expected.push_back(api_target);  // the API is proxied, the WebSocket goes direct
    else
        expected.push_back(ws_target);  // the API goes direct, the WebSocket is proxied
    // The API may open more than one connection (each one tunnel); the WebSocket opens one.
    auto targets = proxy.tunnel_targets();
    targets.erase(std::unique(targets.begin(), targets.end()), targets.end());
    CHECK(targets == expected);
}

TEST_CASE("exec dial: a WebSocket that never answers times out by TimeoutConfig::connect",
          "[exec_dial]") {
    asio::io_context io;
    WsCertificates ws_certificates;
    WsTestScript stalled;
    stalled.stall_before_upgrade = true;  // TCP and TLS accepted, the upgrade never answered
    WsTestServer ws(io.get_executor(), stalled, ws_certificates.server);
    const std::string ws_url = ws.url();
    TlsTestServer api(io, [&](const TestRequest&) { return exec_reply(ws_url); });
    CaBundle cas(api.ca_pem() + ws_certificates.ca_pem);

    auto config = config_for("https", "127.0.0.1", api.port(), cas.path);
    config.timeouts.connect = 300ms;
    auto attempt = run_exec(io, config);
    REQUIRE_FALSE(attempt.result->ok());
    CHECK(attempt.result->error().kind == ErrorKind::timeout);
    // The WebSocket's own default (10 s) and the command's 30 s are far away.
    CHECK(attempt.elapsed >= 300ms);
    CHECK(attempt.elapsed < 5s);
    CHECK(ws.connections() >= 1);
}

TEST_CASE("exec dial: an https client refuses a ws:// WebSocketUri, a plain-http one takes it",
          "[exec_dial]") {
    const bool plain_endpoint = GENERATE(false, true);
    asio::io_context io;
    WsTestServer ws(io.get_executor(), finishing_script());  // ws://
    const std::string ws_url = ws.url("/exec/?s=PLAIN-TOKEN");
    eci::test::TestServerOptions api_options;
    api_options.tls = !plain_endpoint;
    TlsTestServer api(
        io, [&](const TestRequest&) { return exec_reply(ws_url); }, api_options);

    auto config = config_for(plain_endpoint ? "http" : "https", "127.0.0.1", api.port(),
                             plain_endpoint ? "" : api.ca_file());
    auto attempt = run_exec(io, config);
    if (plain_endpoint) {
        REQUIRE(attempt.result->ok());
        CHECK((*attempt.result)->stdout_text == "dialed");
        CHECK(ws.connections() == 1);
        return;
    }
    REQUIRE_FALSE(attempt.result->ok());
    const auto& error = attempt.result->error();
    CHECK(error.kind == ErrorKind::protocol);
    CHECK_THAT(error.message, Catch::Contains("ws://"));
    CHECK_THAT(error.to_string(), !Catch::Contains("PLAIN-TOKEN"));
    CHECK(ws.connections() == 0);  // nothing went out in clear
}

namespace {

// How a start ends on one exec path.
struct PathFailure {
    std::string path;
    eci::Dispatch expected_dispatch;
    std::optional<eci::Error> error;  ///< empty when the path succeeded (it must not)
};

template <class T>
std::optional<eci::Error> error_of(const eci::Result<T>& result) {
    if (result.ok())
        return std::nullopt;
    return result.error();
}

// Starts one command on each exec path of the sandbox layer, each bounded by `budget`: the
// argv command (exec_command), the command on stdin (bash_ws), a shell session, an
// interactive exec.
std::vector<PathFailure> start_on_every_path(asio::io_context& io, eci::ClientConfig config,
                                             std::chrono::milliseconds budget) {
    auto client = eci::AsyncEciSandbox::from_config(io.get_executor(), std::move(config));
    REQUIRE(client.ok());
    std::vector<PathFailure> failures{
        {"exec_command", eci::Dispatch::unknown, std::nullopt},
        {"bash_ws", eci::Dispatch::not_sent, std::nullopt},
        {"ShellSession::open", eci::Dispatch::not_sent, std::nullopt},
        {"InteractiveExec::open", eci::Dispatch::unknown, std::nullopt},
    };
    eci::test::run_with_deadline(io, [&]() -> asio::awaitable<void> {
        eci::AsyncSandbox sandbox(*client, "eci-dial", "sandbox");
        eci::ExecOptions exec_options;
        exec_options.timeout = budget;
        std::vector<std::string> argv{"echo", "x"};
        auto in_argv = co_await sandbox.exec_command(argv, exec_options);
        failures[0].error = error_of(in_argv);
        std::string command = "echo x";
        auto on_stdin = co_await sandbox.bash_ws(command, exec_options);
        failures[1].error = error_of(on_stdin);
        eci::ShellSessionOptions shell_options;
        shell_options.open_timeout = budget;
        auto shell = co_await eci::ShellSession::open(sandbox, shell_options);
        failures[2].error = error_of(shell);
        eci::InteractiveExecOptions interactive_options;
        interactive_options.open_timeout = budget;
        auto interactive = co_await eci::InteractiveExec::open(sandbox, argv, interactive_options);
        failures[3].error = error_of(interactive);
    });
    return failures;
}

}  // namespace

TEST_CASE("exec dial: a failed start reads the same on every exec path", "[exec_dial]") {
    enum class Failure { no_websocket_uri, upgrade_refused, upgrade_never_answered };
    const auto failure = GENERATE(Failure::no_websocket_uri, Failure::upgrade_refused,
                                  Failure::upgrade_never_answered);
    asio::io_context io;
    WsCertificates ws_certificates;
    WsTestScript script;
    if (failure == Failure::upgrade_refused)
        script.reject_status = 403;
    if (failure == Failure::upgrade_never_answered)
        script.stall_before_upgrade = true;
    WsTestServer ws(io.get_executor(), script, ws_certificates.server);
    const std::string ws_url = failure == Failure::no_websocket_uri ? std::string() : ws.url();
    TlsTestServer api(io, [&](const TestRequest&) { return exec_reply(ws_url); });
    CaBundle cas(api.ca_pem() + ws_certificates.ca_pem);
    // The start's own deadline ends a stalled upgrade, long before TimeoutConfig::connect.
    const auto budget = failure == Failure::upgrade_never_answered ? 400ms : 10000ms;

    const auto failures =
        start_on_every_path(io, config_for("https", "127.0.0.1", api.port(), cas.path), budget);
    const auto& first = *failures.front().error;
    for (const auto& path : failures) {
        INFO(path.path);
        REQUIRE(path.error);
        INFO(path.error->to_string());
        CHECK(path.error->request_id == "req-dial");
        CHECK(path.error->dispatch == path.expected_dispatch);
        CHECK(path.error->kind == first.kind);
        if (failure == Failure::upgrade_never_answered) {
            // The text says how long this path's connect ran: the same words, not the same ms.
            CHECK(path.error->kind == ErrorKind::timeout);
            CHECK_THAT(path.error->message, Catch::Contains("connecting the exec WebSocket"));
        } else {
            CHECK(path.error->message == first.message);
        }
    }
    if (failure == Failure::no_websocket_uri) {
        CHECK(first.kind == ErrorKind::protocol);
        CHECK(first.message == "ExecContainerCommand returned no WebSocketUri");
    }
    if (failure == Failure::upgrade_refused)
        CHECK(first.kind == ErrorKind::auth);
}
