// SPDX-License-Identifier: Apache-2.0
// The client side of TLS: the shared asio::ssl::context, per-connection SNI and host name
// verification, and the mapping of handshake failures to eci::Error.
#pragma once

#include <eci/result.hpp>

#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/system/error_code.hpp>

#include <memory>
#include <string>
#include <string_view>

namespace eci::detail {

/// How a client checks the servers it talks to.
struct TlsClientOptions {
    /// Verify the server's certificate chain and host name. Off only for local experiments.
    bool verify_peer = true;
    /// A PEM file with extra trusted CA certificates, used in addition to the system's
    /// default verify paths. Empty: system CAs only.
    std::string ca_file;
};

/// Builds a client TLS context: TLS 1.2 or newer, the system's default CAs plus
/// `options.ca_file`, peer verification as configured.
///
/// Errors: ErrorKind::invalid_argument naming the path when `ca_file` cannot be read or holds
/// no certificate; ErrorKind::tls when OpenSSL refuses the setup otherwise.
/// Thread safety: the returned context may be shared by connections on any thread once built.
Result<std::shared_ptr<boost::asio::ssl::context>> make_client_tls_context(
    const TlsClientOptions& options);

/// The stream every client TLS connection uses.
using TlsStream = boost::asio::ssl::stream<boost::beast::tcp_stream>;

/// Prepares one connection to `host`:`port` before its handshake: SNI (for host names, not IP
/// literals, as RFC 6066 requires); when `verify_peer`, a verify callback that checks the leaf
/// certificate against `host` with asio::ssl::host_name_verification and records a mismatch as
/// X509_V_ERR_HOSTNAME_MISMATCH (so the error names the cause); and the offer of the session
/// cached for exactly this host:port (tls_session_cache.hpp), so a repeated connection
/// resumes instead of doing a full handshake. Check tls_session_resumed() afterwards.
///
/// Errors: ErrorKind::tls when OpenSSL refuses the SNI name.
Result<void> prepare_tls_connection(TlsStream& stream, const std::string& host,
                                    std::string_view port, bool verify_peer);

/// Maps a failed client handshake to an eci::Error of kind tls. When the failure is a
/// certificate that was not trusted, the message says so, includes OpenSSL's verify reason
/// (e.g. "self-signed certificate in certificate chain") and names the setting that fixes it
/// (ECI_SANDBOX_CA_FILE or TlsConfig::ca_file). `endpoint` is "host:port".
Error tls_handshake_error(SSL* ssl, boost::system::error_code ec, const std::string& endpoint);

/// Whether `ec` is a TLS-level failure (as opposed to a plain transport error such as a reset).
bool is_tls_error(boost::system::error_code ec) noexcept;

}  // namespace eci::detail
