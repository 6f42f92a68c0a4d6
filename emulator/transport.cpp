// SPDX-License-Identifier: Apache-2.0
#include "emulator/transport.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include <fmt/format.h>

#include <sys/resource.h>

#include <algorithm>

namespace eci::emulator {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;
using TlsStream = asio::ssl::stream<beast::tcp_stream>;

namespace {

constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t max_body_bytes = 8 * 1024 * 1024;
constexpr std::size_t max_header_bytes = 64 * 1024;
constexpr auto io_phase_timeout = std::chrono::seconds(30);

void close_socket(tcp::socket& socket) {
    boost::system::error_code ignored;
    socket.shutdown(tcp::socket::shutdown_both, ignored);
    socket.close(ignored);
}

tcp::socket& lowest_socket(beast::tcp_stream& stream) {
    return stream.socket();
}
tcp::socket& lowest_socket(TlsStream& stream) {
    return stream.next_layer().socket();
}

void finish_stream(beast::tcp_stream& stream) {
    boost::system::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

}  // namespace

// ------------------------------------------------------------------------------------------
// Connection limits

class Transport::ConnectionSlot {
  public:
    // Holds the server: a coroutine's parameters outlive its locals (its own keep-alive).
    ConnectionSlot(std::shared_ptr<const void> hold, Transport& transport, asio::ip::address peer)
        : hold_(std::move(hold)), transport_(transport), peer_(std::move(peer)) {
        ++transport_.open_connections_;
        ++transport_.connections_per_peer_[peer_];
    }
    ~ConnectionSlot() {
        --transport_.open_connections_;
        auto found = transport_.connections_per_peer_.find(peer_);
        if (found != transport_.connections_per_peer_.end() && --found->second == 0)
            transport_.connections_per_peer_.erase(found);
    }
    ConnectionSlot(const ConnectionSlot&) = delete;
    ConnectionSlot& operator=(const ConnectionSlot&) = delete;

  private:
    std::shared_ptr<const void> hold_;
    Transport& transport_;
    asio::ip::address peer_;
};

std::unique_ptr<Transport::ConnectionSlot> Transport::take_connection_slot(
    const asio::ip::address& peer) {
    if (open_connections_ >= connection_limit_)
        return nullptr;
    if (auto found = connections_per_peer_.find(peer);
        found != connections_per_peer_.end() &&
        found->second >= options_.max_connections_per_peer) {
        return nullptr;
    }
    return std::make_unique<ConnectionSlot>(keep_alive_(), *this, peer);
}

// ------------------------------------------------------------------------------------------
// Setting up, starting, closing

Transport::Transport(Strand strand, const EmulatorOptions& options, Stats& stats,
                     ConnectionRegistry& connections, Router& router, ExecGateway& exec,
                     const bool& stopping, KeepAlive keep_alive)
    : strand_(std::move(strand)),
      options_(options),
      stats_(stats),
      connections_(connections),
      router_(router),
      exec_(exec),
      stopping_(stopping),
      keep_alive_(std::move(keep_alive)),
      acceptor_(strand_) {}

Transport::~Transport() = default;

Result<void> Transport::use_tls(const std::string& certificate_chain_pem,
                                const std::string& private_key_pem) {
    ssl_.emplace(asio::ssl::context::tls_server);
    // An idle connection gives its TLS read and write buffers back, so many idle clients
    // cost less memory.
    SSL_CTX_set_mode(ssl_->native_handle(), SSL_MODE_RELEASE_BUFFERS);
    // Session tickets stay on (OpenSSL's default; no no_ticket option): clients resume
    // their sessions, as against the real service, instead of a full handshake each time.
    boost::system::error_code ec;
    ssl_->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                          asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                          asio::ssl::context::no_tlsv1_1,
                      ec);
    ssl_->use_certificate_chain(asio::buffer(certificate_chain_pem), ec);
    if (!ec)
        ssl_->use_private_key(asio::buffer(private_key_pem), asio::ssl::context::pem, ec);
    if (ec) {
        return Error::make(ErrorKind::tls,
                           fmt::format("cannot load the server certificate: {}", ec.message()));
    }
    return {};
}

Result<std::uint16_t> Transport::listen(const asio::ip::address& address, std::uint16_t port) {
    // After Runtime::create, which raises the soft descriptor limit to the hard one: half of
    // it stays for sandbox processes and exec pipes, so connections can never exhaust it.
    connection_limit_ = options_.max_connections;
    if (struct rlimit limit{};
        ::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY) {
        connection_limit_ = std::min<std::size_t>(
            connection_limit_,
            std::max<std::size_t>(16, static_cast<std::size_t>(limit.rlim_cur / 2)));
    }

    boost::system::error_code ec;
    tcp::endpoint endpoint(address, port);
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec)
        acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec)
        acceptor_.bind(endpoint, ec);
    if (!ec)
        acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
        return Error::make(
            ErrorKind::invalid_argument,
            fmt::format("cannot listen on {}:{}: {}", address.to_string(), port, ec.message()));
    }
    auto bound = acceptor_.local_endpoint(ec);
    return bound.port();
}

void Transport::start() {
    // The server is held from now on, not only once the loop first runs.
    asio::co_spawn(
        strand_, [this, hold = keep_alive_()]() { return accept_loop(); }, asio::detached);
}

void Transport::close() {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
}

// ------------------------------------------------------------------------------------------
// Accepting and serving connections

asio::awaitable<void> Transport::accept_loop() {
    const auto hold = keep_alive_();
    while (!stopping_) {
        auto [ec, socket] = co_await acceptor_.async_accept(strand_, tuple_awaitable);
        if (ec) {
            if (stopping_ || ec == asio::error::operation_aborted)
                co_return;
            // Out of descriptors and the like: back off briefly instead of spinning.
            asio::steady_timer pause(strand_, std::chrono::milliseconds(50));
            co_await pause.async_wait(tuple_awaitable);
            continue;
        }
        // Over a connection limit: closed at once, before any byte is read, so neither the
        // descriptor nor TLS state is held for it.
        boost::system::error_code peer_ec;
        const auto peer = socket.remote_endpoint(peer_ec);
        auto slot = peer_ec ? nullptr : take_connection_slot(peer.address());
        if (!slot) {
            ++stats_.connections_refused;
            boost::system::error_code ignored;
            socket.close(ignored);
            continue;
        }
        // A TLS response leaves in several records (header, body): without TCP_NODELAY the
        // second waits for the client's delayed ACK, ~40 ms per call on keep-alive.
        boost::system::error_code ignored;
        socket.set_option(tcp::no_delay(true), ignored);
        asio::co_spawn(strand_, serve_connection(std::move(socket), std::move(slot)),
                       asio::detached);
    }
}

asio::awaitable<void> Transport::serve_connection(tcp::socket socket,
                                                  std::unique_ptr<ConnectionSlot> slot) {
    const auto hold = keep_alive_();  // keeps the server alive while this connection runs
    (void)slot;                       // held until the connection ends
    if (ssl_) {
        TlsStream stream(beast::tcp_stream(std::move(socket)), *ssl_);
        stream.next_layer().expires_after(options_.handshake_timeout);
        auto [ec] =
            co_await stream.async_handshake(asio::ssl::stream_base::server, tuple_awaitable);
        if (ec || stopping_)
            co_return;
        co_await serve_http(std::move(stream));
    } else {
        co_await serve_http(beast::tcp_stream(std::move(socket)));
    }
}

template <class Stream>
asio::awaitable<void> Transport::serve_http(Stream stream) {
    const auto hold = keep_alive_();
    tcp::socket& socket = lowest_socket(stream);
    auto registration = connections_.add([&socket] { close_socket(socket); });

    boost::system::error_code ec;
    auto remote = socket.remote_endpoint(ec);
    bool remote_is_loopback = !ec && remote.address().is_loopback();

    beast::flat_buffer buffer;
    bool first_request = true;
    while (!stopping_) {
        http::request_parser<http::string_body> parser;
        parser.body_limit(max_body_bytes);
        parser.header_limit(max_header_bytes);
        // The whole request must arrive within the timeout (a deadline, not an inactivity
        // timer), so a client trickling bytes cannot hold the connection either.
        beast::get_lowest_layer(stream).expires_after(first_request ? options_.handshake_timeout
                                                                    : options_.idle_timeout);
        first_request = false;
        auto [read_ec, n] = co_await http::async_read(stream, buffer, parser, tuple_awaitable);
        (void)n;
        if (stopping_)
            break;
        if (read_ec == http::error::body_limit || read_ec == http::error::header_limit) {
            // Say why before closing: a client gets a clear refusal, not a bare reset. The
            // rest of the request is never read, so the connection cannot be reused.
            const bool body = read_ec == http::error::body_limit;
            Reply refusal =
                router_.refuse(body ? errors::request_too_large("body", max_body_bytes)
                                    : errors::request_too_large("header", max_header_bytes));
            http::response<http::string_body> res{static_cast<http::status>(refusal.status), 11};
            res.set(http::field::server, "eci-emulator");
            res.set(http::field::content_type, refusal.content_type);
            res.keep_alive(false);
            res.body() = std::move(refusal.body);
            res.prepare_payload();
            beast::get_lowest_layer(stream).expires_after(io_phase_timeout);
            co_await http::async_write(stream, res, tuple_awaitable);
            break;
        }
        if (read_ec)
            break;
        beast::get_lowest_layer(stream).expires_never();
        http::request<http::string_body> req = parser.release();
        ++stats_.http_requests;

        if (beast::websocket::is_upgrade(req)) {
            registration.release();  // the gateway registers the WebSocket itself
            co_await exec_.serve(std::move(stream), std::move(req));
            co_return;
        }

        eci::detail::Headers headers;
        for (const auto& field : req)
            headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
        Reply reply =
            co_await router_.handle(std::string(req.method_string()), std::string(req.target()),
                                    std::move(headers), std::move(req.body()), remote_is_loopback);
        if (reply.drop_connection) {
            close_socket(socket);
            co_return;
        }
        http::response<http::string_body> res{static_cast<http::status>(reply.status),
                                              req.version()};
        res.set(http::field::server, "eci-emulator");
        res.set(http::field::content_type, reply.content_type);
        res.keep_alive(req.keep_alive());
        res.body() = std::move(reply.body);
        res.prepare_payload();
        beast::get_lowest_layer(stream).expires_after(io_phase_timeout);
        auto [write_ec, written] = co_await http::async_write(stream, res, tuple_awaitable);
        (void)written;
        if (write_ec || !res.keep_alive())
            break;
    }
    if (stopping_)
        co_return;
    if constexpr (std::is_same_v<Stream, TlsStream>) {
        beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(5));
        co_await stream.async_shutdown(tuple_awaitable);
    } else {
        finish_stream(stream);
    }
}

}  // namespace eci::emulator
