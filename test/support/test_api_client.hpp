// SPDX-License-Identifier: Apache-2.0
// A minimal ECI OpenAPI client for tests: Beast HTTP(S) over one connection per call, signed
// with lib/core's signers (ACS3 or RPC V2) or deliberately mis-signed, plus an exec WebSocket
// client that keeps stdout, stderr and other channels apart. Tests only: no retries, no pool.
#pragma once

#include "core/params.hpp"

#include <eci/result.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/json/value.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace eci::test {

/// Where the server is and who we are.
struct TestEndpoint {
    std::string host = "127.0.0.1";
    std::uint16_t port = 0;
    bool tls = true;
    std::string ca_pem;  ///< trusted CA (TLS); verification is always on
    std::string region_id;
    std::string access_key_id;
    std::string access_key_secret;
    std::string security_token;
};

/// How one call is signed and sent; defaults give a correct ACS3 POST with the params in the
/// query string, as the SDK sends it.
struct CallOptions {
    // User-provided: GCC 12 miscompiles prvalue aggregates with string-literal default
    // member initializers passed to coroutines (double free).
    CallOptions() {}
    enum class Signing { acs3, rpc_v2, none };
    Signing signing = Signing::acs3;
    std::string method = "POST";
    bool form_body = false;  ///< params in an x-www-form-urlencoded body instead of the query
    std::optional<std::string> timestamp;      ///< override the date/Timestamp (ISO 8601)
    std::optional<std::string> nonce;          ///< override the nonce
    std::optional<std::string> secret;         ///< sign with this secret instead
    std::optional<std::string> access_key_id;  ///< claim this key id instead
    bool corrupt_signature = false;            ///< flip a character of the signature
    bool omit_security_token = false;
    /// Write the query as JS encodeURIComponent does (`!'()*` raw) in reverse order.
    bool lenient_query = false;
    /// Write the query (and a form body) as Python's urlencode does, i.e. quote_plus: a space
    /// as `+`, every byte but `A-Za-z0-9_.-~` as %XX (so `!'()*` and `+` are escaped).
    bool python_form = false;
    std::vector<std::pair<std::string, std::string>> extra_headers;  ///< signed if x-acs-*
};

/// A reply: status, body, and the body parsed as JSON (null when it is not JSON).
struct TestReply {
    unsigned status = 0;
    std::string body;
    boost::json::value json;
    bool ok() const { return status == 200; }
    /// The error Code of an error body, or "".
    std::string code() const;
    /// A string member of the top-level object, or "".
    std::string str(std::string_view key) const;
};

class TestApiClient {
  public:
    TestApiClient(boost::asio::any_io_executor executor, TestEndpoint endpoint);

    /// Calls `action` with `params` (RegionId is added when absent). Errors: transport
    /// failures (network/tls) and a connection closed without a reply (network).
    boost::asio::awaitable<Result<TestReply>> call(std::string action, eci::detail::Params params,
                                                   CallOptions options = {});

    /// Sends `count` copies of an unsigned GET of `target` over ONE connection (keep-alive)
    /// and returns every reply.
    boost::asio::awaitable<Result<std::vector<TestReply>>> get_many(std::string target, int count);

    const TestEndpoint& endpoint() const noexcept { return endpoint_; }

  private:
    boost::asio::any_io_executor executor_;
    TestEndpoint endpoint_;
};

/// What an exec WebSocket delivered.
struct ExecTranscript {
    std::string stdout_data;
    std::string stderr_data;
    std::vector<std::pair<int, std::string>> other;  ///< channel, payload (status frames)
    int close_code = -1;             ///< the server's close code; -1 when the socket was cut
    bool handshake_refused = false;  ///< the upgrade was answered with an HTTP error
    unsigned http_status = 0;        ///< that HTTP status
};

/// What the exec client sends, in order, once connected.
struct ExecScript {
    ExecScript() {}                   // see CallOptions
    std::vector<std::string> frames;  ///< raw binary frames (first byte = channel)
    /// Called on each received frame; may return frames to send in reply.
    std::function<std::vector<std::string>(int channel, std::string_view payload)> on_frame;
    /// Stop reading after this many bytes of stdout and drop the TCP connection (a client
    /// that vanishes mid-stream); 0 = read to the end.
    std::size_t vanish_after_stdout_bytes = 0;
    /// Pause between reads (a slow reader); 0 = none.
    std::chrono::milliseconds read_pause{0};
};

/// Connects to a WebSocketUri (ws:// or wss://) and collects frames until the server closes.
/// Errors: a malformed URI (invalid_argument) or a transport failure before the upgrade.
boost::asio::awaitable<Result<ExecTranscript>> run_exec_socket(
    boost::asio::any_io_executor executor, std::string uri, std::string ca_pem,
    ExecScript script = {});

}  // namespace eci::test
