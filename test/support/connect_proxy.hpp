// SPDX-License-Identifier: Apache-2.0
// A loopback HTTP proxy that only does CONNECT tunnels, for tests of proxy support.
#pragma once

#include <boost/asio/io_context.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace eci::test {

struct ConnectProxyOptions {
    /// When non-empty, CONNECT requires Proxy-Authorization: Basic for these credentials
    /// (else 407).
    std::string username;
    std::string password;
};

/// Listens on 127.0.0.1 (ephemeral port) on `io`. Not thread-safe: use from io's thread.
class ConnectProxy {
  public:
    explicit ConnectProxy(boost::asio::io_context& io, ConnectProxyOptions options = {});
    ~ConnectProxy();
    ConnectProxy(const ConnectProxy&) = delete;
    ConnectProxy& operator=(const ConnectProxy&) = delete;

    std::uint16_t port() const;
    /// "http://127.0.0.1:<port>", optionally with "user:password@".
    std::string url(const std::string& user = {}, const std::string& password = {}) const;

    std::size_t tunnels() const;  ///< CONNECTs answered with 200
    /// The `host:port` of every tunnel opened, in order.
    const std::vector<std::string>& tunnel_targets() const;
    std::size_t refused_requests() const;  ///< CONNECTs refused (auth, bad target, upstream down)

    void stop();

    struct State;

  private:
    std::shared_ptr<State> state_;
};

}  // namespace eci::test
