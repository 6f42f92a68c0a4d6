// SPDX-License-Identifier: Apache-2.0
#include "support/tls_test_server.hpp"

#include "emulator/certificate_authority.hpp"

#include <fmt/format.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <atomic>
#include <filesystem>
#include <map>
#include <stdexcept>

#include <unistd.h>

namespace eci::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;

namespace {
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

std::string unique_temp_path(std::string_view stem) {
    static std::atomic<unsigned> counter{0};
    return (std::filesystem::temp_directory_path() /
            fmt::format("{}-{}-{}.pem", stem, ::getpid(), counter++))
        .string();
}
}  // namespace

std::string TestRequest::header(std::string_view name) const {
    for (const auto& [key, value] : headers)
        if (beast::iequals(key, name))
            return value;
    return {};
}

struct TlsTestServer::State {
    State(asio::io_context& io, TestHandler h, TestServerOptions opts)
        : executor(io.get_executor()),
          handler(std::move(h)),
          options(std::move(opts)),
          acceptor(io),
          tls_context(ssl::context::tls_server) {}

    asio::any_io_executor executor;
    TestHandler handler;
    TestServerOptions options;
    tcp::acceptor acceptor;
    ssl::context tls_context;
    std::string ca_pem;
    std::string ca_file;
    std::uint16_t port = 0;
    std::size_t accepted = 0, handshakes = 0, requests = 0, closed = 0;
    std::map<std::uint64_t, beast::tcp_stream*> live;  // for stop()
    std::uint64_t next_id = 0;
};

namespace {

using State = TlsTestServer::State;

// Registers a live connection so stop() can close it; counts it closed on the way out.
struct LiveConnection {
    LiveConnection(State& s, beast::tcp_stream& stream) : state(s), id(s.next_id++) {
        state.live[id] = &stream;
    }
    ~LiveConnection() {
        state.live.erase(id);
        ++state.closed;
    }
    State& state;
    std::uint64_t id;
};

http::response<http::string_body> to_message(const TestResponse& response, bool keep_alive) {
    http::response<http::string_body> message{static_cast<http::status>(response.status), 11};
    for (const auto& [name, value] : response.headers)
        message.insert(name, value);
    message.body() = response.body;
    message.keep_alive(keep_alive);
    message.prepare_payload();
    return message;
}

// Waits `delay`; returns false if the client closed the connection meanwhile (the socket
// became readable with nothing to read).
asio::awaitable<bool> delay_unless_closed(beast::tcp_stream& tcp, std::chrono::milliseconds delay) {
    using namespace asio::experimental::awaitable_operators;
    asio::steady_timer timer(tcp.get_executor(), delay);
    auto which = co_await (timer.async_wait(use_tuple) ||
                           tcp.socket().async_wait(tcp::socket::wait_read, use_tuple));
    if (which.index() == 0)
        co_return true;
    boost::system::error_code ec;
    co_return tcp.socket().is_open() && tcp.socket().available(ec) > 0 && !ec;
}

template <class Stream>
asio::awaitable<void> serve(std::shared_ptr<State> state, beast::tcp_stream& tcp, Stream& stream) {
    beast::flat_buffer buffer;
    for (;;) {
        http::request_parser<http::string_body> parser;
        parser.body_limit(64 * 1024 * 1024);
        auto [read_ec, read] = co_await http::async_read(stream, buffer, parser, use_tuple);
        (void)read;
        if (read_ec)
            co_return;
        ++state->requests;
        auto message = parser.release();
        TestRequest request;
        request.method = std::string(message.method_string());
        request.target = std::string(message.target());
        for (const auto& field : message)
            request.headers.emplace_back(std::string(field.name_string()),
                                         std::string(field.value()));
        request.body = std::move(message.body());
        const bool client_keep_alive = message.keep_alive();

        TestAction action = state->handler(request);
        if (std::holds_alternative<CloseWithoutReply>(action))
            co_return;
        if (auto* raw = std::get_if<SendRaw>(&action)) {
            auto [ec, n] = co_await asio::async_write(stream, asio::buffer(raw->bytes), use_tuple);
            (void)n;
            if (ec || raw->close_after)
                co_return;
            continue;
        }
        if (auto* trickle = std::get_if<Trickle>(&action)) {
            asio::steady_timer pause(stream.get_executor());
            for (char byte : trickle->bytes) {
                auto [ec, n] =
                    co_await asio::async_write(stream, asio::buffer(&byte, 1), use_tuple);
                (void)n;
                if (ec)
                    co_return;
                pause.expires_after(trickle->interval);
                co_await pause.async_wait(use_tuple);
            }
            co_return;
        }
        TestResponse response;
        bool close_after = false;
        if (auto* late = std::get_if<ReplyAfter>(&action)) {
            if (!co_await delay_unless_closed(tcp, late->delay))
                co_return;
            response = late->response;
        } else if (auto* then_close = std::get_if<ReplyThenClose>(&action)) {
            response = then_close->response;
            close_after = true;
        } else {
            response = std::get<TestResponse>(action);
        }
        const bool keep_alive = client_keep_alive && response.keep_alive;
        auto reply = to_message(response, keep_alive || close_after);
        auto [write_ec, written] = co_await http::async_write(stream, reply, use_tuple);
        (void)written;
        if (write_ec || !keep_alive || close_after)
            co_return;
    }
}

asio::awaitable<void> session(std::shared_ptr<State> state, tcp::socket socket) {
    ++state->accepted;
    ssl::stream<beast::tcp_stream> stream(beast::tcp_stream(std::move(socket)), state->tls_context);
    beast::tcp_stream& tcp = stream.next_layer();
    {
        LiveConnection live(*state, tcp);
        if (state->options.tls) {
            auto [ec] = co_await stream.async_handshake(ssl::stream_base::server, use_tuple);
            if (!ec) {
                ++state->handshakes;
                co_await serve(state, tcp, stream);
            }
        } else {
            co_await serve(state, tcp, tcp);
        }
        // No close_notify: tests want abrupt closes, and the client must cope with them.
        boost::system::error_code ignored;
        tcp.socket().shutdown(tcp::socket::shutdown_both, ignored);
        tcp.close();
    }
}

asio::awaitable<void> accept_loop(std::shared_ptr<State> state) {
    for (;;) {
        auto [ec, socket] = co_await state->acceptor.async_accept(use_tuple);
        if (!state->acceptor.is_open())
            co_return;
        if (ec)
            continue;
        asio::co_spawn(state->executor, session(state, std::move(socket)), asio::detached);
    }
}

}  // namespace

TlsTestServer::TlsTestServer(asio::io_context& io, TestHandler handler, TestServerOptions options)
    : state_(std::make_shared<State>(io, std::move(handler), std::move(options))) {
    emulator::CertificateOptions certificate_options;
    certificate_options.dns_names = state_->options.dns_names;
    certificate_options.ip_addresses = state_->options.ip_addresses;
    auto certificates = emulator::generate_certificates(certificate_options);
    if (!certificates)
        throw std::runtime_error(certificates.error().to_string());
    state_->ca_pem = certificates->ca_certificate_pem;
    state_->ca_file = unique_temp_path("eci-test-ca");
    auto written = emulator::write_pem_file(state_->ca_file, state_->ca_pem);
    if (!written)
        throw std::runtime_error(written.error().to_string());
    state_->tls_context.use_certificate_chain(asio::buffer(certificates->server_certificate_pem));
    state_->tls_context.use_private_key(asio::buffer(certificates->server_private_key_pem),
                                        ssl::context::pem);

    tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), 0);
    state_->acceptor.open(endpoint.protocol());
    state_->acceptor.set_option(tcp::acceptor::reuse_address(true));
    state_->acceptor.bind(endpoint);
    state_->acceptor.listen();
    state_->port = state_->acceptor.local_endpoint().port();
    asio::co_spawn(state_->executor, accept_loop(state_), asio::detached);
}

TlsTestServer::~TlsTestServer() {
    stop();
    std::error_code ignored;
    std::filesystem::remove(state_->ca_file, ignored);
}

void TlsTestServer::stop() {
    boost::system::error_code ignored;
    state_->acceptor.close(ignored);
    for (auto& [id, stream] : state_->live)
        stream->socket().close(ignored);
}

std::uint16_t TlsTestServer::port() const {
    return state_->port;
}
const std::string& TlsTestServer::ca_pem() const {
    return state_->ca_pem;
}
const std::string& TlsTestServer::ca_file() const {
    return state_->ca_file;
}
std::size_t TlsTestServer::accepted_connections() const {
    return state_->accepted;
}
std::size_t TlsTestServer::tls_handshakes() const {
    return state_->handshakes;
}
std::size_t TlsTestServer::requests() const {
    return state_->requests;
}
std::size_t TlsTestServer::closed_connections() const {
    return state_->closed;
}

eci::detail::HttpClientOptions http_client_options(const TlsTestServer& server) {
    eci::detail::HttpClientOptions options;
    options.scheme = "https";
    options.host = "127.0.0.1";
    options.port = server.port();
    options.ca_file = server.ca_file();
    options.connect_timeout = std::chrono::seconds(5);
    options.read_timeout = std::chrono::seconds(5);
    return options;
}

}  // namespace eci::test
