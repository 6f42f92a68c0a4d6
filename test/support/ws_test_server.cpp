// SPDX-License-Identifier: Apache-2.0
#include "support/ws_test_server.hpp"

#include "core/exec_frames.hpp"

#include <fmt/format.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/beast/websocket/stream.hpp>

#include <algorithm>
#include <chrono>

namespace eci::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using detail::ExecChannel;

struct WsTestServer::State {
    State(asio::any_io_executor ex, WsTestScript s, ssl::context* tls)
        : executor(ex),
          script(std::move(s)),
          tls_context(tls),
          acceptor(ex, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)),
          stop_signal(ex, std::chrono::steady_clock::time_point::max()),
          port(acceptor.local_endpoint().port()) {}

    asio::any_io_executor executor;
    WsTestScript script;
    ssl::context* tls_context;
    tcp::acceptor acceptor;
    asio::steady_timer stop_signal;  // held connections wait on it until stop()
    std::uint16_t port;
    bool stopped = false;
    std::size_t connections = 0;
    std::string received_stdin;
    std::size_t stdin_frames = 0;
    std::size_t largest_stdin_payload = 0;
    std::string last_target;
    std::string last_user_agent;
};

namespace {

using State = WsTestServer::State;

asio::awaitable<void> hold(std::shared_ptr<State> state) {
    co_await state->stop_signal.async_wait(asio::as_tuple(asio::use_awaitable));
}

template <class Stream>
void drop(Stream& stream) {
    boost::system::error_code ignored;
    auto& socket = beast::get_lowest_layer(stream).socket();
    socket.shutdown(tcp::socket::shutdown_both, ignored);
    socket.close(ignored);
}

// Plays the script on one connection whose transport (TCP or TLS) is ready.
template <class Stream>
asio::awaitable<void> play(std::shared_ptr<State> state, Stream stream) {
    const WsTestScript& script = state->script;
    if (script.stall_before_upgrade) {
        co_await hold(state);
        co_return;
    }
    beast::flat_buffer buffer;
    http::request<http::string_body> request;
    auto [read_ec, read_bytes] =
        co_await http::async_read(stream, buffer, request, asio::as_tuple(asio::use_awaitable));
    if (read_ec)
        co_return;
    state->last_target = std::string(request.target());
    state->last_user_agent = std::string(request[http::field::user_agent]);
    if (script.reject_status != 0) {
        http::response<http::string_body> response{static_cast<http::status>(script.reject_status),
                                                   request.version()};
        response.body() = script.reject_body;
        response.keep_alive(false);
        response.prepare_payload();
        co_await http::async_write(stream, response, asio::as_tuple(asio::use_awaitable));
        drop(stream);
        co_return;
    }

    websocket::stream<Stream> ws(std::move(stream));
    auto [accept_ec] = co_await ws.async_accept(request, asio::as_tuple(asio::use_awaitable));
    if (accept_ec)
        co_return;

    for (const auto& message : script.messages) {
        ws.text(message.text);
        auto [ec, n] = co_await ws.async_write(asio::buffer(message.data),
                                               asio::as_tuple(asio::use_awaitable));
        if (ec)
            co_return;
    }
    ws.binary(true);

    std::size_t echoed = 0;
    while (echoed < script.echo_stdin_bytes) {
        beast::flat_buffer incoming;
        auto [ec, n] = co_await ws.async_read(incoming, asio::as_tuple(asio::use_awaitable));
        if (ec)
            co_return;
        const std::string message = beast::buffers_to_string(incoming.data());
        auto frame = detail::decode_frame(message, ws.got_text());
        if (!frame || frame->channel != ExecChannel::stdin_)
            continue;
        state->received_stdin.append(frame->payload);
        ++state->stdin_frames;
        state->largest_stdin_payload =
            std::max(state->largest_stdin_payload, frame->payload.size());
        const std::string reply = detail::encode_frame(ExecChannel::stdout_, frame->payload);
        auto [write_ec, written] =
            co_await ws.async_write(asio::buffer(reply), asio::as_tuple(asio::use_awaitable));
        if (write_ec)
            co_return;
        echoed += frame->payload.size();
    }

    if (script.ending == WsEnding::close || script.ending == WsEnding::close_then_cut) {
        std::string exit_frame;
        if (script.exit_mode == WsExitMode::channel4)
            exit_frame = detail::encode_channel4_exit_frame(script.exit_code);
        else if (script.exit_mode == WsExitMode::k8s)
            exit_frame = detail::encode_k8s_status_frame(script.exit_code);
        if (!exit_frame.empty()) {
            auto [ec, n] = co_await ws.async_write(asio::buffer(exit_frame),
                                                   asio::as_tuple(asio::use_awaitable));
            if (ec)
                co_return;
        }
    }
    switch (script.ending) {
        case WsEnding::close: {
            co_await ws.async_close(
                websocket::close_reason(static_cast<websocket::close_code>(script.close_code),
                                        "process exited"),
                asio::as_tuple(asio::use_awaitable));
            co_return;
        }
        case WsEnding::close_then_cut: {
            // A close frame written by hand (FIN + opcode 8, unmasked as a server's is): Beast
            // would wait for the reply and, over TLS, send close_notify.
            const std::string reason = "process exited";
            std::string frame{'\x88', static_cast<char>(2 + reason.size()),
                              static_cast<char>(script.close_code >> 8),
                              static_cast<char>(script.close_code & 0xff)};
            frame += reason;
            co_await asio::async_write(ws.next_layer(), asio::buffer(frame),
                                       asio::as_tuple(asio::use_awaitable));
            drop(ws);
            co_return;
        }
        case WsEnding::drop:
            drop(ws);
            co_return;
        case WsEnding::stall:
            co_await hold(state);
            co_return;
        case WsEnding::oversize: {
            const std::string big =
                detail::encode_frame(ExecChannel::stdout_, std::string(script.oversize_bytes, 'o'));
            co_await ws.async_write(asio::buffer(big), asio::as_tuple(asio::use_awaitable));
            co_await hold(state);
            co_return;
        }
        case WsEnding::garbage: {
            // A reserved opcode (0xF) without FIN: no valid WebSocket frame starts like this.
            static constexpr char garbage[] = "\x0f\x7fnot a websocket frame";
            co_await asio::async_write(ws.next_layer(), asio::buffer(garbage, sizeof garbage - 1),
                                       asio::as_tuple(asio::use_awaitable));
            // Then end our side, as a confused server would: Beast's closing handshake after
            // the violation ends at our EOF.
            boost::system::error_code ignored;
            beast::get_lowest_layer(ws).socket().shutdown(tcp::socket::shutdown_send, ignored);
            co_await hold(state);
            co_return;
        }
        case WsEnding::flood: {
            // A server that streams without end: only the client's own bounds stop it.
            const std::string chunk =
                detail::encode_frame(ExecChannel::stdout_, std::string(script.oversize_bytes, 'A'));
            for (;;) {
                auto [ec, n] = co_await ws.async_write(asio::buffer(chunk),
                                                       asio::as_tuple(asio::use_awaitable));
                if (ec)
                    co_return;
                if (script.flood_interval.count() > 0) {
                    asio::steady_timer pause(ws.get_executor(), script.flood_interval);
                    co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
                }
            }
        }
        case WsEnding::unknown_channel: {
            const std::string message = std::string(1, '\x09') + "what";
            co_await ws.async_write(asio::buffer(message), asio::as_tuple(asio::use_awaitable));
            co_await hold(state);
            co_return;
        }
    }
}

asio::awaitable<void> serve(std::shared_ptr<State> state, tcp::socket socket) {
    beast::tcp_stream tcp_stream(std::move(socket));
    if (state->tls_context == nullptr) {
        co_await play(state, std::move(tcp_stream));
        co_return;
    }
    ssl::stream<beast::tcp_stream> tls(std::move(tcp_stream), *state->tls_context);
    auto [ec] =
        co_await tls.async_handshake(ssl::stream_base::server, asio::as_tuple(asio::use_awaitable));
    if (ec)
        co_return;  // e.g. the client refused our certificate
    co_await play(state, std::move(tls));
}

asio::awaitable<void> accept_loop(std::shared_ptr<State> state) {
    for (;;) {
        auto [ec, socket] =
            co_await state->acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
        if (ec || state->stopped)
            co_return;
        ++state->connections;
        asio::co_spawn(state->executor, serve(state, std::move(socket)), asio::detached);
    }
}

}  // namespace

WsTestServer::WsTestServer(asio::any_io_executor executor, WsTestScript script)
    : state_(std::make_shared<State>(executor, std::move(script), nullptr)) {
    asio::co_spawn(executor, accept_loop(state_), asio::detached);
}

WsTestServer::WsTestServer(asio::any_io_executor executor, WsTestScript script,
                           ssl::context& tls_context)
    : state_(std::make_shared<State>(executor, std::move(script), &tls_context)) {
    asio::co_spawn(executor, accept_loop(state_), asio::detached);
}

WsTestServer::~WsTestServer() {
    stop();
}

void WsTestServer::stop() {
    state_->stopped = true;
    boost::system::error_code ignored;
    state_->acceptor.close(ignored);
    state_->stop_signal.cancel();
}

std::uint16_t WsTestServer::port() const {
    return state_->port;
}

std::string WsTestServer::url(std::string_view target, std::string_view host) const {
    return fmt::format("{}://{}:{}{}", state_->tls_context ? "wss" : "ws", host, port(), target);
}

std::size_t WsTestServer::connections() const {
    return state_->connections;
}
const std::string& WsTestServer::received_stdin() const {
    return state_->received_stdin;
}
std::size_t WsTestServer::stdin_frames() const {
    return state_->stdin_frames;
}
std::size_t WsTestServer::largest_stdin_payload() const {
    return state_->largest_stdin_payload;
}
const std::string& WsTestServer::last_target() const {
    return state_->last_target;
}
const std::string& WsTestServer::last_user_agent() const {
    return state_->last_user_agent;
}

}  // namespace eci::test
