// SPDX-License-Identifier: Apache-2.0
// An in-process HTTP/1.1 server (HTTPS by default) on 127.0.0.1 with an ephemeral port, for
// tests of the transport and of everything built on it. Each request goes to a handler that
// says what to do: answer, answer late, close, or send raw bytes.
#pragma once

#include "net/http_client.hpp"

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace eci::test {

struct TestRequest {
    std::string method;
    std::string target;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    /// First header with this name (case-insensitive), or "".
    std::string header(std::string_view name) const;
};

/// A normal answer. `keep_alive` false adds Connection: close and ends the connection.
struct TestResponse {
    unsigned status = 200;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    bool keep_alive = true;
};
/// Answer after a delay; the server notices (and counts) a client that closes meanwhile.
struct ReplyAfter {
    std::chrono::milliseconds delay{0};
    TestResponse response;
};
/// Close the connection without answering.
struct CloseWithoutReply {};
/// Answer as if keeping the connection alive, then close the socket (no TLS close_notify):
/// what a keep-alive connection looks like after the server's idle timeout.
struct ReplyThenClose {
    TestResponse response;
};
/// Send these bytes instead of an HTTP response, then close (or not).
struct SendRaw {
    std::string bytes;
    bool close_after = true;
};
/// Send these bytes one at a time, `interval` apart, then close: a server that trickles.
struct Trickle {
    std::string bytes;
    std::chrono::milliseconds interval{1000};
};
using TestAction =
    std::variant<TestResponse, ReplyAfter, CloseWithoutReply, ReplyThenClose, SendRaw, Trickle>;
using TestHandler = std::function<TestAction(const TestRequest&)>;

struct TestServerOptions {
    bool tls = true;
    /// Names the generated server certificate is valid for.
    std::vector<std::string> dns_names{"localhost"};
    std::vector<std::string> ip_addresses{"127.0.0.1", "::1"};
};

/// The server. Starts accepting in the constructor (on `io`, which the test runs); the
/// handler is called on `io`'s thread. Not thread-safe: use from the io_context's thread.
class TlsTestServer {
  public:
    TlsTestServer(boost::asio::io_context& io, TestHandler handler, TestServerOptions options = {});
    ~TlsTestServer();
    TlsTestServer(const TlsTestServer&) = delete;
    TlsTestServer& operator=(const TlsTestServer&) = delete;

    std::uint16_t port() const;
    /// The CA that signed the server certificate, as PEM and as a file (deleted with the server).
    const std::string& ca_pem() const;
    const std::string& ca_file() const;

    std::size_t accepted_connections() const;
    std::size_t tls_handshakes() const;  ///< completed server-side handshakes
    std::size_t requests() const;
    std::size_t closed_connections() const;  ///< connections that ended, for whatever reason

    /// Stops accepting and closes every connection.
    void stop();

    struct State;

  private:
    std::shared_ptr<State> state_;
};

/// HttpClient options that reach `server`: https to 127.0.0.1 on its port, trusting its CA,
/// 5 s connect and read timeouts. Tests change what they exercise on the copy.
eci::detail::HttpClientOptions http_client_options(const TlsTestServer& server);

}  // namespace eci::test
