// SPDX-License-Identifier: Apache-2.0
// Transport: the emulator's listener and its HTTP/1.1 keep-alive sessions over TLS or plain
// TCP. It accepts under the connection limits, reads each request under a deadline, refuses
// what is too large, hands API requests to the Router and WebSocket upgrades to the
// ExecGateway, and writes the replies. Every open connection is in the ConnectionRegistry,
// through which the server's teardown closes them.
#pragma once

#include "emulator/connection_registry.hpp"
#include "emulator/exec_gateway.hpp"
#include "emulator/execution.hpp"
#include "emulator/options.hpp"
#include "emulator/router.hpp"
#include "emulator/stats.hpp"

#include <eci/result.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

namespace eci::emulator {

class Transport {
  public:
    /// `stopping` is the server's flag: once set, sessions end without another read.
    Transport(Strand strand, const EmulatorOptions& options, Stats& stats,
              ConnectionRegistry& connections, Router& router, ExecGateway& exec,
              const bool& stopping, KeepAlive keep_alive);
    ~Transport();
    Transport(const Transport&) = delete;
    Transport& operator=(const Transport&) = delete;

    /// Serves TLS with this certificate chain and key (PEM) instead of plain HTTP.
    /// Errors: tls when OpenSSL refuses them.
    Result<void> use_tls(const std::string& certificate_chain_pem,
                         const std::string& private_key_pem);

    /// Binds and listens on `address`:`port` (0: any free port) and fixes the connection
    /// limit; returns the port bound. Call after the runtime raised the descriptor limit.
    /// Errors: invalid_argument naming the address when it cannot listen there.
    Result<std::uint16_t> listen(const boost::asio::ip::address& address, std::uint16_t port);

    /// Starts accepting (on the strand).
    void start();

    /// Closes the listener; the open connections are closed through the registry.
    void close();

    /// Accepted and not yet closed connections (slots held), and their limit.
    std::size_t open_connections() const noexcept { return open_connections_; }
    std::size_t connection_limit() const noexcept { return connection_limit_; }

  private:
    /// One accepted connection's place under the connection limits; released on destruction.
    class ConnectionSlot;

    boost::asio::awaitable<void> accept_loop();
    /// Whether a connection from `peer` fits under the limits; if so it now holds a slot.
    std::unique_ptr<ConnectionSlot> take_connection_slot(const boost::asio::ip::address& peer);
    boost::asio::awaitable<void> serve_connection(boost::asio::ip::tcp::socket socket,
                                                  std::unique_ptr<ConnectionSlot> slot);
    template <class Stream>
    boost::asio::awaitable<void> serve_http(Stream stream);

    Strand strand_;
    const EmulatorOptions& options_;
    Stats& stats_;
    ConnectionRegistry& connections_;
    Router& router_;
    ExecGateway& exec_;
    const bool& stopping_;
    KeepAlive keep_alive_;
    boost::asio::ip::tcp::acceptor acceptor_;
    std::optional<boost::asio::ssl::context> ssl_;
    std::size_t connection_limit_ = 0;  ///< max_connections, capped by RLIMIT_NOFILE (listen())
    std::size_t open_connections_ = 0;  ///< accepted and not yet closed (slots held)
    std::map<boost::asio::ip::address, std::size_t> connections_per_peer_;
};

}  // namespace eci::emulator
