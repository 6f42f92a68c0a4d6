// SPDX-License-Identifier: Apache-2.0
// ExecWebSocket and run_exec_stream against the scripted loopback server.
#include "net/exec_websocket.hpp"
#include "emulator/certificate_authority.hpp"
#include "support/connect_proxy.hpp"
#include "support/ws_test_server.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <catch2/catch.hpp>

#include <chrono>
#include <optional>
#include <random>

namespace asio = boost::asio;
using namespace std::chrono_literals;
using eci::ErrorKind;
using eci::Result;
using eci::detail::encode_frame;
using eci::detail::ExecChannel;
using eci::detail::ExecClosed;
using eci::detail::ExecFrame;
using eci::detail::ExecStreamOutcome;
using eci::detail::ExecWebSocket;
using eci::detail::ExecWebSocketOptions;
using eci::detail::OutputCollector;
using eci::detail::run_exec_stream;
using eci::test::WsEnding;
using eci::test::WsExitMode;
using eci::test::WsTestMessage;
using eci::test::WsTestScript;
using eci::test::WsTestServer;
using Clock = std::chrono::steady_clock;

namespace {

template <class T>
asio::awaitable<void> store_into(asio::awaitable<T> body, std::optional<T>* result) {
    result->emplace(co_await std::move(body));
}

// Runs `body` on `ioc` and fails the test unless it completes within `limit`.
template <class T>
T run_with_limit(asio::io_context& ioc, asio::awaitable<T> body,
                 std::chrono::milliseconds limit = 10s) {
    std::optional<T> result;
    std::exception_ptr failure;
    asio::co_spawn(ioc, store_into(std::move(body), &result), [&](std::exception_ptr e) {
        failure = e;
        ioc.stop();
    });
    ioc.run_for(limit);
    if (failure)
        std::rethrow_exception(failure);
    REQUIRE(result.has_value());  // the hard deadline of every test
    return std::move(*result);
}

WsTestMessage out(std::string_view text) {
    return {encode_frame(ExecChannel::stdout_, text)};
}
WsTestMessage err(std::string_view text) {
    return {encode_frame(ExecChannel::stderr_, text)};
}

struct Fixture {
    asio::io_context ioc;
    asio::ssl::context tls{asio::ssl::context::tls_client};
    ExecWebSocketOptions options;

    // Connects to the server and runs the whole stream; the collector outlives the call.
    Result<ExecStreamOutcome> stream(WsTestServer& server, OutputCollector& collector,
                                     std::optional<std::string> stdin_data = std::nullopt,
                                     Clock::duration deadline_in = 5s) {
        return stream_url(server.url(), collector, std::move(stdin_data), deadline_in);
    }

    Result<ExecStreamOutcome> stream_url(std::string url, OutputCollector& collector,
                                         std::optional<std::string> stdin_data = std::nullopt,
                                         Clock::duration deadline_in = 5s) {
        ExecWebSocket socket(ioc.get_executor(), tls, options);
        return run_with_limit(
            ioc,
            [](ExecWebSocket& ws, std::string target, std::optional<std::string> input,
               Clock::time_point deadline,
               OutputCollector& output) -> asio::awaitable<Result<ExecStreamOutcome>> {
                auto connected = co_await ws.connect(target);
                if (!connected)
                    co_return connected.error();
                co_return co_await run_exec_stream(ws, std::move(input), deadline, output);
            }(socket, std::move(url), std::move(stdin_data), Clock::now() + deadline_in,
                                        collector));
    }
};

}  // namespace

TEST_CASE("exec websocket: stdout and stderr are kept apart, text frames are stdout",
          "[exec_websocket]") {
    Fixture f;
    WsTestScript script;
    script.messages = {out("hello "), err("warning\n"), {"text frame", true}, out("world")};
    WsTestServer server(f.ioc.get_executor(), script);
    OutputCollector collector;
    auto outcome = f.stream(server, collector);
    REQUIRE(outcome.ok());
    CHECK(outcome->closed_normally);
    CHECK(outcome->close_code == 1000);
    CHECK(outcome->close_reason == "process exited");
    CHECK_FALSE(outcome->exit_code);  // mode "none": the server said nothing
    CHECK(collector.stdout_text() == "hello text frameworld");
    CHECK(collector.stderr_text() == "warning\n");
    CHECK(collector.combined_text() == "hello warning\ntext frameworld");
    CHECK(server.last_target() == "/exec/?s=TEST-TOKEN");
    CHECK(server.last_user_agent() == "eci-sandbox");
}

TEST_CASE("exec websocket: each exit-status mode yields the exit code", "[exec_websocket]") {
    const auto [mode, code] = GENERATE(table<WsExitMode, int>({{WsExitMode::channel4, 0},
                                                               {WsExitMode::channel4, 3},
                                                               {WsExitMode::k8s, 0},
                                                               {WsExitMode::k8s, 42}}));
    Fixture f;
    WsTestScript script;
    script.messages = {out("done")};
    script.exit_mode = mode;
    script.exit_code = code;
    WsTestServer server(f.ioc.get_executor(), script);
    OutputCollector collector;
    auto outcome = f.stream(server, collector);
    REQUIRE(outcome.ok());
    CHECK(outcome->closed_normally);
    REQUIRE(outcome->exit_code);
    CHECK(*outcome->exit_code == code);
    CHECK(outcome->ignored_frames == 0);
    CHECK(collector.stdout_text() == "done");
}

TEST_CASE("exec websocket: frames on channels 3 and 4 that are no status are ignored",
          "[exec_websocket]") {
    Fixture f;
    WsTestScript script;
    script.messages = {{encode_frame(ExecChannel::channel4, R"({"Width":80,"Height":24})")},
                       {encode_frame(ExecChannel::channel3, "plain error text")},
                       out("x")};
    script.exit_mode = WsExitMode::channel4;
    script.exit_code = 5;
    WsTestServer server(f.ioc.get_executor(), script);
    OutputCollector collector;
    auto outcome = f.stream(server, collector);
    REQUIRE(outcome.ok());
    CHECK(outcome->ignored_frames == 2);
    CHECK(outcome->exit_code == 5);
    CHECK(collector.stdout_text() == "x");
}

TEST_CASE("exec websocket: a 1 MiB stdin round trip in bounded frames", "[exec_websocket]") {
    Fixture f;
    std::string input(1024 * 1024, '\0');
    std::mt19937 random(7);
    for (auto& c : input)
        c = static_cast<char>(random() & 0xff);
    WsTestScript script;
    script.echo_stdin_bytes = input.size();
    script.exit_mode = WsExitMode::channel4;
    WsTestServer server(f.ioc.get_executor(), script);
    OutputCollector collector(2 * input.size());
    ExecWebSocket socket(f.ioc.get_executor(), f.tls, f.options);
    auto outcome = run_with_limit(
        f.ioc,
        [](ExecWebSocket& ws, std::string url, std::string data,
           OutputCollector& output) -> asio::awaitable<Result<ExecStreamOutcome>> {
            auto connected = co_await ws.connect(url);
            if (!connected)
                co_return connected.error();
            co_return co_await run_exec_stream(ws, std::move(data), Clock::now() + 8s, output);
        }(socket, server.url(), input, collector));
    REQUIRE(outcome.ok());
    CHECK(outcome->stdin_complete);
    CHECK(outcome->exit_code == 0);
    CHECK(server.received_stdin() == input);
    CHECK(collector.stdout_text() == input);
    CHECK(server.largest_stdin_payload() == 32 * 1024);
    CHECK(server.stdin_frames() == 32);
    CHECK(socket.counters().bytes_sent == input.size() + 32);  // one channel byte per frame
    CHECK(socket.counters().bytes_received >= input.size() + 32);
    CHECK(socket.counters().connections == 1);
}

TEST_CASE("exec websocket: a drop mid-stream is a network error and keeps the partial output",
          "[exec_websocket]") {
    Fixture f;
    WsTestScript script;
    script.messages = {out("partial"), err("e")};
    script.ending = WsEnding::drop;
    WsTestServer server(f.ioc.get_executor(), script);
    OutputCollector collector;
    auto outcome = f.stream(server, collector);
    REQUIRE_FALSE(outcome.ok());
    CHECK(outcome.error().kind == ErrorKind::network);
    CHECK(outcome.error().dispatch == eci::Dispatch::unknown);
    CHECK_THAT(outcome.error().message, Catch::Contains("without a close frame"));
    CHECK(collector.stdout_text() == "partial");
    CHECK(collector.stderr_text() == "e");
}

TEST_CASE("exec websocket: a half-dead server is detected by pings and the idle timeout",
          "[exec_websocket]") {
    Fixture f;
    f.options.idle_timeout = 300ms;
    WsTestScript script;
    script.messages = {out("before the stall")};
    script.ending = WsEnding::stall;  // never reads: our pings go unanswered
    WsTestServer server(f.ioc.get_executor(), script);
    OutputCollector collector;
    const auto start = Clock::now();
    auto outcome = f.stream(server, collector, std::nullopt, 30s);
    const auto elapsed = Clock::now() - start;
    REQUIRE_FALSE(outcome.ok());
    CHECK(outcome.error().kind == ErrorKind::timeout);
    CHECK_THAT(outcome.error().message, Catch::Contains("idle timeout"));
    CHECK(elapsed >= 250ms);
    CHECK(elapsed < 3s);
    CHECK(collector.stdout_text() == "before the stall");
}

TEST_CASE("exec websocket: an oversize message is a protocol error", "[exec_websocket]") {
    Fixture f;
    f.options.max_message_bytes = 1024;
    WsTestScript script;
    script.messages = {out("fits")};
    script.ending = WsEnding::oversize;
    script.oversize_bytes = 4096;
    WsTestServer server(f.ioc.get_executor(), script);
    OutputCollector collector;
    auto outcome = f.stream(server, collector);
    REQUIRE_FALSE(outcome.ok());
    CHECK(outcome.error().kind == ErrorKind::protocol);
    CHECK_THAT(outcome.error().message, Catch::Contains("1024"));
    CHECK(collector.stdout_text() == "fits");
}

TEST_CASE("exec websocket: garbage and unknown channels are protocol errors", "[exec_websocket]") {
    const auto ending = GENERATE(WsEnding::garbage, WsEnding::unknown_channel);
    Fixture f;
    WsTestScript script;
    script.messages = {out("ok")};
    script.ending = ending;
    WsTestServer server(f.ioc.get_executor(), script);
    OutputCollector collector;
    const auto start = Clock::now();
    auto outcome = f.stream(server, collector);
    CHECK(Clock::now() - start < 2s);
    REQUIRE_FALSE(outcome.ok());
    CHECK(outcome.error().kind == ErrorKind::protocol);
    CHECK(collector.stdout_text() == "ok");
}

TEST_CASE("exec websocket: the deadline ends the stream with a timeout and partial output",
          "[exec_websocket]") {
    Fixture f;
    WsTestScript script;
    script.messages = {out("some "), out("output")};
    script.ending = WsEnding::stall;
    WsTestServer server(f.ioc.get_executor(), script);
    OutputCollector collector;
    const auto start = Clock::now();
    auto outcome = f.stream(server, collector, std::string("stdin nobody reads"), 300ms);
    const auto elapsed = Clock::now() - start;
    REQUIRE_FALSE(outcome.ok());
    CHECK(outcome.error().kind == ErrorKind::timeout);
    CHECK_THAT(outcome.error().message, Catch::Contains("deadline"));
    CHECK(elapsed >= 300ms);
    CHECK(elapsed < 2s);
    CHECK(collector.stdout_text() == "some output");
}

TEST_CASE("exec websocket: cancellation ends a pending stream promptly", "[exec_websocket][serial]") {
    Fixture f;
    WsTestScript script;
    script.messages = {out("first")};
    script.ending = WsEnding::stall;
    WsTestServer server(f.ioc.get_executor(), script);
    asio::cancellation_signal cancel;
    std::optional<Clock::time_point> cancelled_at;
    // Cancel once the first output arrived: the reader is then parked in a read.
    OutputCollector collector(1024, [&](ExecChannel, std::string_view) {
        asio::post(f.ioc, [&] {
            cancelled_at = Clock::now();
            cancel.emit(asio::cancellation_type::terminal);
        });
    });
    ExecWebSocket socket(f.ioc.get_executor(), f.tls, f.options);
    std::optional<Result<ExecStreamOutcome>> outcome;
    Clock::time_point finished_at;
    asio::co_spawn(f.ioc,
                   store_into(
                       [](ExecWebSocket& ws, std::string url,
                          OutputCollector& output) -> asio::awaitable<Result<ExecStreamOutcome>> {
                           auto connected = co_await ws.connect(url);
                           if (!connected)
                               co_return connected.error();
                           co_return co_await run_exec_stream(ws, std::nullopt, Clock::now() + 30s,
                                                              output);
                       }(socket, server.url(), collector),
                       &outcome),
                   asio::bind_cancellation_slot(cancel.slot(), [&](std::exception_ptr e) {
                       REQUIRE_FALSE(e);
                       finished_at = Clock::now();
                       f.ioc.stop();
                   }));
    f.ioc.run_for(10s);
    REQUIRE(outcome.has_value());
    REQUIRE(cancelled_at.has_value());
    REQUIRE_FALSE(outcome->ok());
    CHECK(outcome->error().kind == ErrorKind::cancelled);
    CHECK(finished_at - *cancelled_at < 100ms);
    CHECK_FALSE(socket.is_open());
    CHECK(collector.stdout_text() == "first");
}

TEST_CASE("exec websocket: a refused upgrade reports the HTTP status", "[exec_websocket]") {
    const auto [status, kind] = GENERATE(table<unsigned, ErrorKind>(
        {{404, ErrorKind::protocol}, {403, ErrorKind::auth}, {503, ErrorKind::service}}));
    Fixture f;
    WsTestScript script;
    script.reject_status = status;
    WsTestServer server(f.ioc.get_executor(), script);
    ExecWebSocket socket(f.ioc.get_executor(), f.tls, f.options);
    auto connected = run_with_limit(f.ioc, socket.connect(server.url()));
    REQUIRE_FALSE(connected.ok());
    CHECK(connected.error().kind == kind);
    CHECK(connected.error().http_status == static_cast<int>(status));
    CHECK(connected.error().dispatch == eci::Dispatch::refused);
    CHECK(connected.error().endpoint == fmt::format("127.0.0.1:{}", server.port()));
    CHECK(connected.error().service_message == "token expired");
    // The single-use token never appears in what we report.
    CHECK_THAT(connected.error().to_string(), !Catch::Contains("TEST-TOKEN"));
    CHECK(socket.counters().connections == 0);
}

TEST_CASE("exec websocket: a refusal body that echoes the URL does not print the exec token",
          "[exec_websocket][redact]") {
    Fixture f;
    WsTestScript script;
    script.reject_status = 403;
    // The body quotes the request line, the full URL and the token as a JSON field.
    script.reject_body =
        "refused GET /exec/?s=EXEC-TOKEN-SHOULD-NOT-LEAK HTTP/1.1 "
        "(wss://eci-cn-hangzhou.aliyun.com/exec/?s=EXEC-TOKEN-SHOULD-NOT-LEAK) "
        R"({"token":"EXEC-TOKEN-SHOULD-NOT-LEAK"})";
    WsTestServer server(f.ioc.get_executor(), script);
    ExecWebSocket socket(f.ioc.get_executor(), f.tls, f.options);
    auto connected =
        run_with_limit(f.ioc, socket.connect(server.url("/exec/?s=EXEC-TOKEN-SHOULD-NOT-LEAK")));
    REQUIRE_FALSE(connected.ok());
    const auto& error = connected.error();
    CHECK(error.http_status == 403);
    CHECK_THAT(error.service_message, Catch::Contains("refused GET /exec/?s=<redacted>"));
    CHECK_THAT(error.service_message, !Catch::Contains("EXEC-TOKEN"));
    CHECK_THAT(error.to_string(), !Catch::Contains("EXEC-TOKEN"));
}

TEST_CASE("exec websocket: connect failures are network errors with dispatch not_sent",
          "[exec_websocket]") {
    Fixture f;
    // A port nobody listens on: bind one, learn it, close it.
    std::uint16_t port = 0;
    {
        asio::ip::tcp::acceptor probe(f.ioc, {asio::ip::make_address("127.0.0.1"), 0});
        port = probe.local_endpoint().port();
    }
    ExecWebSocket socket(f.ioc.get_executor(), f.tls, f.options);
    auto connected =
        run_with_limit(f.ioc, socket.connect(fmt::format("ws://127.0.0.1:{}/exec/?s=T", port)));
    REQUIRE_FALSE(connected.ok());
    CHECK(connected.error().kind == ErrorKind::network);
    CHECK(connected.error().dispatch == eci::Dispatch::not_sent);
}

TEST_CASE("exec websocket: a server that never answers the upgrade times out", "[exec_websocket]") {
    Fixture f;
    f.options.handshake_timeout = 200ms;
    WsTestScript script;
    script.stall_before_upgrade = true;
    WsTestServer server(f.ioc.get_executor(), script);
    ExecWebSocket socket(f.ioc.get_executor(), f.tls, f.options);
    auto connected = run_with_limit(f.ioc, socket.connect(server.url()));
    REQUIRE_FALSE(connected.ok());
    CHECK(connected.error().kind == ErrorKind::timeout);
    CHECK(connected.error().dispatch == eci::Dispatch::not_sent);
}

TEST_CASE("exec websocket: URLs other than ws:// and wss:// are refused", "[exec_websocket]") {
    Fixture f;
    ExecWebSocket socket(f.ioc.get_executor(), f.tls, f.options);
    for (std::string url : {"http://127.0.0.1/exec", "not a url", "ws:///path"}) {
        auto connected = run_with_limit(f.ioc, socket.connect(url));
        f.ioc.restart();
        REQUIRE_FALSE(connected.ok());
        CHECK(connected.error().kind == ErrorKind::invalid_argument);
    }
}

TEST_CASE("exec websocket: read, write and close by hand", "[exec_websocket]") {
    Fixture f;
    WsTestScript script;
    script.messages = {out("ready")};
    script.echo_stdin_bytes = 5;
    script.exit_mode = WsExitMode::k8s;
    script.exit_code = 2;
    WsTestServer server(f.ioc.get_executor(), script);
    ExecWebSocket socket(f.ioc.get_executor(), f.tls, f.options);
    auto events = run_with_limit(
        f.ioc,
        [](ExecWebSocket& ws,
           std::string url) -> asio::awaitable<Result<std::vector<std::string>>> {
            std::vector<std::string> seen;
            auto connected = co_await ws.connect(url);
            if (!connected)
                co_return connected.error();
            auto written = co_await ws.write_stdin("ab");
            if (!written)
                co_return written.error();
            written = co_await ws.write_stdin("cde");
            if (!written)
                co_return written.error();
            for (;;) {
                auto event = co_await ws.read();
                if (!event)
                    co_return event.error();
                if (auto* closed = std::get_if<ExecClosed>(&*event)) {
                    seen.push_back(fmt::format("closed {}", closed->code));
                    break;
                }
                auto& frame = std::get<ExecFrame>(*event);
                seen.push_back(fmt::format("{}:{}", eci::detail::to_string(frame.channel),
                                           frame.channel == ExecChannel::channel3
                                               ? std::to_string(*eci::detail::parse_exit_status(
                                                     frame.channel, frame.payload))
                                               : frame.payload));
            }
            auto closed = co_await ws.close();  // already closed: a no-op
            if (!closed)
                co_return closed.error();
            co_return seen;
        }(socket, server.url()));
    REQUIRE(events.ok());
    CHECK(*events == std::vector<std::string>{"stdout:ready", "stdout:ab", "stdout:cde",
                                              "channel3:2", "closed 1000"});
    CHECK_FALSE(socket.is_open());
}

TEST_CASE("exec websocket: connects through an HTTP CONNECT proxy with Basic credentials",
          "[exec_websocket]") {
    Fixture f;
    WsTestScript script;
    script.messages = {out("via proxy")};
    script.exit_mode = WsExitMode::channel4;
    script.exit_code = 4;
    WsTestServer server(f.ioc.get_executor(), script);
    eci::test::ConnectProxy proxy(f.ioc, {"user", "p@ss"});
    f.options.proxy_url = proxy.url("user", "p%40ss");
    OutputCollector collector;
    auto outcome = f.stream(server, collector);
    REQUIRE(outcome.ok());
    CHECK(outcome->exit_code == 4);
    CHECK(collector.stdout_text() == "via proxy");
    CHECK(proxy.tunnels() == 1);
    CHECK(server.connections() == 1);
}

TEST_CASE("exec websocket: a proxy that refuses CONNECT fails the connect, not_sent",
          "[exec_websocket]") {
    Fixture f;
    WsTestServer server(f.ioc.get_executor(), WsTestScript{});
    eci::test::ConnectProxy proxy(f.ioc, {"user", "right"});
    f.options.proxy_url = proxy.url("user", "wrong");
    ExecWebSocket socket(f.ioc.get_executor(), f.tls, f.options);
    auto connected = run_with_limit(f.ioc, socket.connect(server.url()));
    REQUIRE_FALSE(connected.ok());
    CHECK(connected.error().kind == ErrorKind::auth);
    CHECK(connected.error().http_status == 407);
    CHECK(connected.error().dispatch == eci::Dispatch::not_sent);
    CHECK_THAT(connected.error().to_string(), !Catch::Contains("wrong"));
    CHECK(proxy.refused_requests() == 1);
    CHECK(server.connections() == 0);
}

namespace {
// A server context with a fresh certificate for localhost/127.0.0.1, and the CA's PEM.
struct TestCertificates {
    asio::ssl::context server{asio::ssl::context::tls_server};
    std::string ca_pem;
    explicit TestCertificates(const eci::emulator::CertificateOptions& options = {}) {
        auto generated = eci::emulator::generate_certificates(options);
        REQUIRE(generated.ok());
        ca_pem = generated->ca_certificate_pem;
        server.use_certificate_chain(asio::buffer(generated->server_certificate_pem));
        server.use_private_key(asio::buffer(generated->server_private_key_pem),
                               asio::ssl::context::pem);
    }
};
}  // namespace

TEST_CASE("exec websocket: wss verifies the server against the trusted CA and host name",
          "[exec_websocket]") {
    const std::string host = GENERATE(std::string("127.0.0.1"), std::string("localhost"));
    TestCertificates certificates;
    Fixture f;
    f.tls.add_certificate_authority(asio::buffer(certificates.ca_pem));
    f.tls.set_verify_mode(asio::ssl::verify_peer);
    WsTestScript script;
    script.messages = {out("secure"), err("e")};
    script.exit_mode = WsExitMode::k8s;
    script.exit_code = 1;
    WsTestServer server(f.ioc.get_executor(), script, certificates.server);
    ExecWebSocket socket(f.ioc.get_executor(), f.tls, f.options);
    OutputCollector collector;
    auto outcome = run_with_limit(
        f.ioc,
        [](ExecWebSocket& ws, std::string url,
           OutputCollector& output) -> asio::awaitable<Result<ExecStreamOutcome>> {
            auto connected = co_await ws.connect(url);
            if (!connected)
                co_return connected.error();
            co_return co_await run_exec_stream(ws, std::nullopt, Clock::now() + 5s, output);
        }(socket, server.url("/exec/?s=T", host), collector));
    REQUIRE(outcome.ok());
    CHECK(outcome->closed_normally);
    CHECK(outcome->exit_code == 1);
    CHECK(collector.stdout_text() == "secure");
    CHECK(collector.stderr_text() == "e");
}

TEST_CASE("exec websocket: wss refuses an untrusted certificate or a wrong host name",
          "[exec_websocket]") {
    const bool trust_ca = GENERATE(false, true);
    // With the CA trusted, the certificate names someone else than 127.0.0.1.
    eci::emulator::CertificateOptions names;
    if (trust_ca)
        names = {{"elsewhere.test"}, {"192.0.2.1"}};
    TestCertificates certificates(names);
    Fixture f;
    if (trust_ca)
        f.tls.add_certificate_authority(asio::buffer(certificates.ca_pem));
    f.tls.set_verify_mode(asio::ssl::verify_peer);
    WsTestServer server(f.ioc.get_executor(), WsTestScript{}, certificates.server);
    ExecWebSocket socket(f.ioc.get_executor(), f.tls, f.options);
    auto connected = run_with_limit(f.ioc, socket.connect(server.url()));
    REQUIRE_FALSE(connected.ok());
    CHECK(connected.error().kind == ErrorKind::tls);
    CHECK(connected.error().dispatch == eci::Dispatch::not_sent);
    if (trust_ca)
        CHECK_THAT(connected.error().message, Catch::Contains("does not match"));
}

TEST_CASE("exec websocket: a close frame, then TCP cut without close_notify, is a clean close",
          "[exec_websocket]") {
    // Output, the exit frame, a close frame 1000, then the server closes TCP at once: the
    // client's answer and its TLS teardown fail, but the session ended as it should.
    const bool secure = GENERATE(false, true);
    TestCertificates certificates;
    Fixture f;
    f.tls.add_certificate_authority(asio::buffer(certificates.ca_pem));
    f.tls.set_verify_mode(asio::ssl::verify_peer);
    WsTestScript script;
    script.messages = {out("all output")};
    script.exit_mode = WsExitMode::k8s;
    script.exit_code = 0;
    script.ending = WsEnding::close_then_cut;
    std::optional<WsTestServer> server;
    if (secure)
        server.emplace(f.ioc.get_executor(), script, certificates.server);
    else
        server.emplace(f.ioc.get_executor(), script);
    OutputCollector collector;
    auto outcome = f.stream_url(server->url(), collector);
    INFO((outcome.ok() ? std::string("ok") : outcome.error().to_string()));
    REQUIRE(outcome.ok());
    CHECK(outcome->closed_normally);
    CHECK(outcome->close_code == 1000);
    CHECK(outcome->close_reason == "process exited");
    CHECK(outcome->exit_code == 0);
    CHECK(collector.stdout_text() == "all output");
}

TEST_CASE("exec websocket: require_tls refuses a ws:// URL before connecting", "[exec_websocket]") {
    Fixture f;
    WsTestServer server(f.ioc.get_executor(), WsTestScript{});
    f.options.require_tls = true;
    ExecWebSocket socket(f.ioc.get_executor(), f.tls, f.options);
    auto connected = run_with_limit(f.ioc, socket.connect(server.url()));
    REQUIRE_FALSE(connected.ok());
    CHECK(connected.error().kind == ErrorKind::protocol);
    CHECK(connected.error().dispatch == eci::Dispatch::not_sent);
    CHECK_THAT(connected.error().message, Catch::Contains("ws://"));
    CHECK_THAT(connected.error().to_string(), !Catch::Contains("TEST-TOKEN"));
    CHECK(server.connections() == 0);
}
