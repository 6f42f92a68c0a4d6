// SPDX-License-Identifier: Apache-2.0
// The client side of ECI's exec WebSocket: one connection to the WebSocketUri that
// ExecContainerCommand returned, carrying channel-prefixed frames (core/exec_frames.hpp).
#pragma once

#include "core/exec_frames.hpp"

#include <eci/result.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace boost::asio::ssl {
class context;
}

namespace eci::detail {

/// Settings of one exec WebSocket connection. Every field has a usable default.
struct ExecWebSocketOptions {
    /// Resolving, TCP connect and (with a proxy) the CONNECT exchange, together. Default 10 s;
    /// must be > 0.
    std::chrono::steady_clock::duration connect_timeout = std::chrono::seconds(10);
    /// TLS handshake plus the WebSocket upgrade, together. Default 10 s; must be > 0.
    std::chrono::steady_clock::duration handshake_timeout = std::chrono::seconds(10);
    /// The closing handshake of close(). Default 5 s; must be > 0.
    std::chrono::steady_clock::duration close_timeout = std::chrono::seconds(5);
    /// How long a connection may stay silent. With `keep_alive_pings`, a ping goes out after
    /// half of it; if nothing at all (not even the pong) arrives within the whole of it, the
    /// pending read fails with ErrorKind::timeout. Default 30 s; 0 disables (a dead server is
    /// then only noticed by the caller's deadline).
    std::chrono::steady_clock::duration idle_timeout = std::chrono::seconds(30);
    /// Send pings when idle (see idle_timeout). Default true.
    bool keep_alive_pings = true;
    /// The largest incoming message (channel byte included); larger -> ErrorKind::protocol.
    /// Default 1 MiB; must be > 0.
    std::size_t max_message_bytes = 1024 * 1024;
    /// The largest stdin payload per frame; write_stdin() splits longer data. Default 32 KiB;
    /// must be > 0.
    std::size_t max_stdin_frame_bytes = 32 * 1024;
    /// An HTTP proxy, "http://[user:password@]host:port", reached with CONNECT. Empty: connect
    /// directly. The credentials travel in Proxy-Authorization (Basic) and are never logged.
    std::string proxy_url;
    /// Hosts that bypass proxy_url, in ProxyConfig::no_proxy syntax, matched against the
    /// WebSocket URL's own host and port (which need not be the API endpoint's). Default empty.
    std::string no_proxy;
    /// Refuse ws:// URLs (invalid for a client whose API endpoint is https: the exec token
    /// and the session would cross the network in clear). Default false.
    bool require_tls = false;
    /// The User-Agent of the upgrade request.
    std::string user_agent = "eci-sandbox";
};

/// One received data frame: its channel and payload (channel byte removed).
struct ExecFrame {
    ExecChannel channel = ExecChannel::stdout_;
    std::string payload;
};

/// The server closed the connection with a close frame.
struct ExecClosed {
    std::uint16_t code = 0;  ///< the close code (1000 normal); 0 when the frame had none
    std::string reason;      ///< the close reason the server sent (service text)
};

/// What read() produces: the next frame, or the end of the session.
using ExecEvent = std::variant<ExecFrame, ExecClosed>;

/// Traffic counters of one ExecWebSocket.
struct ExecWebSocketCounters {
    std::uint64_t bytes_sent = 0;      ///< message bytes written (channel bytes included)
    std::uint64_t bytes_received = 0;  ///< message bytes read (channel bytes included)
    std::uint64_t connections = 0;     ///< successful connect() calls
    /// TLS handshakes (wss://) that resumed an earlier session instead of a full handshake.
    std::uint64_t tls_resumptions = 0;
};

/// A client connection to an exec WebSocket (ws:// or wss://).
///
/// Usage: connect(), then one reader coroutine calling read() until ExecClosed or an error,
/// and at most one writer calling write_stdin() (or close()). At most one read and one write
/// may be pending at any time: that is the caller's responsibility, as with Beast's streams.
///
/// Errors of every operation are eci::Error values; nothing throws for expected failures.
/// After any error the socket is closed and the object can only be connect()ed anew.
///
/// Cancellation: every operation honours terminal cancellation through the awaiting
/// coroutine's cancellation slot (e.g. the `||` operator or a bound cancellation signal): the
/// operation completes promptly with ErrorKind::cancelled and the socket is closed.
///
/// Lifetimes: the object and the ssl::context must outlive every pending operation. The
/// token in the URL is never put into an error or a log line (only host:port is).
///
/// Thread safety: none; use from one strand (the executor given to the constructor).
class ExecWebSocket {
  public:
    /// `tls_context` is used for wss:// URLs only, shared with HTTPS (make_client_tls_context):
    /// it decides whether peers are verified (it does by default); each connection sets SNI
    /// and checks the host name itself (prepare_tls_connection).
    ExecWebSocket(boost::asio::any_io_executor executor, boost::asio::ssl::context& tls_context,
                  ExecWebSocketOptions options = {});
    ~ExecWebSocket();
    ExecWebSocket(const ExecWebSocket&) = delete;
    ExecWebSocket& operator=(const ExecWebSocket&) = delete;

    /// Connects to `url` (ws://host[:port]/path?query or wss://...), through the proxy if one
    /// is configured, performs the TLS handshake (wss: SNI set, the peer and host name
    /// verified when the context verifies peers)
    /// and the WebSocket upgrade. A previous connection is dropped first.
    ///
    /// Errors (all with Error::endpoint = host:port). Up to the TLS handshake the dial is the
    /// dialer's (tls_dialer.hpp), classified exactly as for the HTTP client, with messages that
    /// start with the stage ("resolve: ", "connect: ", "proxy: ", "TLS handshake: "):
    /// - invalid_argument: the URL is not ws:// or wss:// with a host, or the proxy URL needed
    ///   for this host does not parse;
    /// - protocol: a ws:// URL while require_tls is set (nothing is sent);
    /// - network, dispatch not_sent: resolving or connecting failed, the proxy refused;
    /// - auth, dispatch not_sent: the proxy answered CONNECT with 407 (http_status set);
    /// - timeout, dispatch not_sent: connect_timeout or handshake_timeout passed;
    /// - tls, dispatch not_sent: the TLS handshake or certificate verification failed;
    /// - the upgrade was answered with an HTTP status (http_status set, the body in
    ///   service_message, dispatch refused): auth for 401/403, throttled for 429, service for
    ///   5xx, protocol otherwise (e.g. 404 for an expired or already used token);
    /// - cancelled.
    boost::asio::awaitable<Result<void>> connect(std::string url);

    /// Reads the next message: an ExecFrame, or ExecClosed once the server closed the
    /// connection with a close frame (any code; the caller decides what a non-1000 code means).
    ///
    /// Errors: network when the connection dropped without a close frame (EOF, reset, TLS
    /// truncation); timeout when idle_timeout passed without any data or pong; protocol for a
    /// message larger than max_message_bytes, an undecodable frame (core decode_frame) or a
    /// WebSocket protocol violation; tls for a TLS failure; cancelled. Beast answers a
    /// protocol violation with a close frame and waits for the server's reply or EOF before
    /// reporting it; against a server that never answers, that wait ends after half of
    /// idle_timeout (the keep-alive timer), or never when idle_timeout is 0.
    boost::asio::awaitable<Result<ExecEvent>> read();

    /// Sends `data` to the process's stdin in binary frames of at most max_stdin_frame_bytes
    /// payload each. Empty data sends nothing. There is no end-of-input signal in this
    /// protocol: a shell session ends stdin with "exit".
    ///
    /// Errors: network (dropped, or the server closed), timeout, tls, cancelled. Some frames
    /// may have been sent before a failure.
    /// Lifetimes: `data` must stay valid until the operation completes.
    boost::asio::awaitable<Result<void>> write_stdin(std::string_view data);

    /// Sends one binary message: the `channel` byte followed by `payload` (a terminal resize
    /// on channel 3 or 4; stdin goes through write_stdin). Errors: as write_stdin.
    /// Lifetimes: `payload` must stay valid until the operation completes.
    boost::asio::awaitable<Result<void>> write_frame(ExecChannel channel, std::string_view payload);

    /// Sends a normal close (1000) and waits for the server's reply, bounded by
    /// close_timeout, then closes the socket. Never call it while another write is pending.
    ///
    /// Errors: as write_stdin; on any error the socket is closed anyway.
    boost::asio::awaitable<Result<void>> close();

    /// Whether a connection is established and not yet failed or closed.
    bool is_open() const noexcept;

    /// host:port of the current (or last) connection.
    const std::string& endpoint() const noexcept;

    const ExecWebSocketCounters& counters() const noexcept;
    const ExecWebSocketOptions& options() const noexcept;

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

/// What run_exec_stream observed.
struct ExecStreamOutcome {
    bool closed_normally = false;  ///< the server sent a close frame with code 1000
    std::uint16_t close_code = 0;  ///< the close frame's code
    std::string close_reason;      ///< the close frame's reason (service text)
    std::optional<int> exit_code;  ///< from the first channel 3/4 exit status frame, if any
    std::optional<ExitStatus> exit_status;  ///< the same, with source and server text
    std::size_t ignored_frames = 0;  ///< frames on channels 0/3/4 that were not exit statuses
    bool stdin_complete = true;      ///< all stdin was written (true when there was none)
};

/// Produces a command's stdin piece by piece, after `stdin_data`: each call returns the next
/// bytes, an empty string at the end, or an error that ends the session (the stream is then
/// closed and run_exec_stream returns that error). Called only when the previous piece was
/// written, so at most one piece is held in memory.
using StdinSource = std::function<Result<std::string>()>;

/// Runs one exec session to its end on a connected socket: writes `stdin_data` (if any),
/// then the pieces of `stdin_source` (if set), concurrently with reading every frame into
/// `output` until the server closes.
///
/// Errors: timeout when `deadline` passes first (the message says so; `output` keeps what
/// arrived); network when the connection dropped without a close frame (partial output kept);
/// every error of ExecWebSocket::read(); cancelled. A failed stdin write alone is no error:
/// the reader decides, and stdin_complete says whether all stdin went out. After an error the
/// socket is closed. Errors after the upgrade carry Dispatch::unknown: the command may have run.
///
/// Cancellation: terminal, through the awaiting coroutine's slot -> cancelled.
/// Lifetimes: `socket` and `output` must outlive the operation.
boost::asio::awaitable<Result<ExecStreamOutcome>> run_exec_stream(
    ExecWebSocket& socket, std::optional<std::string> stdin_data,
    std::chrono::steady_clock::time_point deadline, OutputCollector& output,
    StdinSource stdin_source = {});

}  // namespace eci::detail
