// SPDX-License-Identifier: Apache-2.0
// A scripted exec WebSocket server for tests: listens on 127.0.0.1 (ephemeral port) and plays
// the same script on every connection, so a test can provoke each behaviour a client must
// survive: output, echo, the three exit-status modes, drops, stalls, oversize and garbage.
#pragma once

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace boost::asio::ssl {
class context;
}

namespace eci::test {

/// How the server reports the exit status before it closes (the emulator's --exit-status).
enum class WsExitMode {
    none,      ///< a bare normal close
    channel4,  ///< a channel-4 frame holding the decimal code, then close
    k8s,       ///< a channel-3 Kubernetes v1.Status JSON, then close
};

/// What the server does after its frames (and the echo) are done.
enum class WsEnding {
    close,            ///< exit frame per exit_mode, then a close frame with close_code
    drop,             ///< shut the TCP connection down without a close frame
    stall,            ///< keep the connection but never read or write again (no pongs)
    oversize,         ///< send one stdout message of oversize_bytes, then stall
    garbage,          ///< write bytes that are not a WebSocket frame, shut down sending
    unknown_channel,  ///< send a binary message on channel 9, then stall
    /// Exit frame per exit_mode and a close frame with close_code, then TCP closed at once:
    /// no wait for the client's reply and no TLS close_notify.
    close_then_cut,
    flood,            ///< send stdout messages of oversize_bytes until the client goes away
};

/// One message the server sends (already framed: channel byte included when binary).
struct WsTestMessage {
    std::string data;
    bool text = false;
};

/// The per-connection behaviour.
struct WsTestScript {
    /// Answer the upgrade with this HTTP status (and reject_body) instead of accepting. 0: accept.
    unsigned reject_status = 0;
    std::string reject_body = "token expired";
    /// Accept the TCP connection but never answer the upgrade request.
    bool stall_before_upgrade = false;
    /// Sent in order right after the upgrade.
    std::vector<WsTestMessage> messages;
    /// Then echo stdin payloads back on stdout until this many bytes were echoed. 0: no echo.
    std::size_t echo_stdin_bytes = 0;
    WsEnding ending = WsEnding::close;
    WsExitMode exit_mode = WsExitMode::none;
    int exit_code = 0;
    std::uint16_t close_code = 1000;
    std::size_t oversize_bytes = 4096;
    /// WsEnding::flood: the pause between two messages (0: as fast as the client reads).
    std::chrono::milliseconds flood_interval{0};
};

/// The server. It runs on the given executor (single-threaded tests: run the io_context).
/// Accessors are safe from the same thread while the io_context is not running inside them.
class WsTestServer {
  public:
    /// A ws:// server.
    WsTestServer(boost::asio::any_io_executor executor, WsTestScript script);
    /// A wss:// server presenting the certificate of `tls_context` (must outlive the server).
    WsTestServer(boost::asio::any_io_executor executor, WsTestScript script,
                 boost::asio::ssl::context& tls_context);
    ~WsTestServer();
    WsTestServer(const WsTestServer&) = delete;
    WsTestServer& operator=(const WsTestServer&) = delete;

    std::uint16_t port() const;
    /// "ws://127.0.0.1:PORT" + target (wss:// for a TLS server); `host` replaces 127.0.0.1.
    std::string url(std::string_view target = "/exec/?s=TEST-TOKEN",
                    std::string_view host = "127.0.0.1") const;

    std::size_t connections() const;            ///< TCP connections accepted
    const std::string& received_stdin() const;  ///< all stdin payloads, concatenated
    std::size_t stdin_frames() const;           ///< stdin frames received
    std::size_t largest_stdin_payload() const;  ///< the largest stdin payload of one frame
    const std::string& last_target() const;     ///< the request target of the last upgrade
    const std::string& last_user_agent() const;

    /// Stops accepting and releases held connections (also done by the destructor).
    void stop();

    struct State;

  private:
    std::shared_ptr<State> state_;
};

}  // namespace eci::test
