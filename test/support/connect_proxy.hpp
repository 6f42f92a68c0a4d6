// A minimal HTTP CONNECT proxy for tests on 127.0.0.1 (ephemeral port): it records each
// CONNECT request, opens the tunnel and splices bytes both ways.
#pragma once

#include <boost/asio/any_io_executor.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace eci::test {

class ConnectProxy {
  public:
    /// `refuse_status` != 0: answer every CONNECT with that status instead of tunnelling.
    explicit ConnectProxy(boost::asio::any_io_executor executor, unsigned refuse_status = 0);
    ~ConnectProxy();
    ConnectProxy(const ConnectProxy&) = delete;
    ConnectProxy& operator=(const ConnectProxy&) = delete;

    std::uint16_t port() const;
    std::string url() const;                        ///< "http://127.0.0.1:PORT"
    std::size_t tunnels() const;                    ///< tunnels opened
    const std::string& last_target() const;         ///< the last CONNECT request target
    const std::string& last_authorization() const;  ///< its Proxy-Authorization header

    struct State;

  private:
    std::shared_ptr<State> state_;
};

}  // namespace eci::test
