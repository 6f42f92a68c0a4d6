// SPDX-License-Identifier: Apache-2.0
// Client-side TLS session resumption: each client TLS context remembers the latest session
// (TLS 1.3 ticket or TLS 1.2 session) it received per server host:port and offers it to the
// next connection to that same host:port, which then skips the certificate exchange, its
// verification and the key exchange's signature (most of a handshake's CPU).
#pragma once

#include <openssl/ssl.h>

#include <cstddef>
#include <string_view>

namespace eci::detail {

/// Most host:port entries one context remembers; beyond it the oldest entry is dropped.
inline constexpr std::size_t tls_session_cache_capacity = 64;

/// Turns on session resumption for the client context `context`: sessions the servers issue
/// are stored in a cache owned by the context (freed with it), keyed by the host:port that
/// offer_tls_session() attached to the connection. Call once, before the context is used.
/// Thread safety: the cache is guarded by a mutex: connections of one context may run on any
/// threads.
void enable_tls_session_cache(SSL_CTX* context);

/// Ties the connection `ssl` (before its handshake) to `host`:`port` and offers the session
/// cached for exactly that host:port, if any and still resumable. A session is never offered
/// to another host or port than the one it was established with, so the certificate and
/// host name checks of that first, full handshake still hold for the resumed one (a resumed
/// handshake does not see the certificate again). The server may decline; then a full
/// handshake (with all checks) happens. No effect when the context has no cache.
void offer_tls_session(SSL* ssl, std::string_view host, std::string_view port);

/// Whether the completed handshake of `ssl` resumed an earlier session.
bool tls_session_resumed(const SSL* ssl) noexcept;

/// How many host:port entries the cache of `context` holds (for tests); 0 without a cache.
std::size_t tls_session_cache_size(SSL_CTX* context);

}  // namespace eci::detail
