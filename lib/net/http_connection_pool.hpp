// SPDX-License-Identifier: Apache-2.0
// The HTTP client's keep-alive connection pool: its connections, the slots they occupy
// (max_connections), the FIFO of callers waiting for one, idle expiry, and opening a new
// connection through the dialer. What goes over a connection is http_exchange.hpp's.
#pragma once

#include "net/http_client.hpp"
#include "net/tls_context.hpp"
#include "net/tls_dialer.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace eci::detail {

/// One connection. The TLS stream always exists (cheap) so that plain HTTP and HTTPS share
/// one type; plain connections do their I/O on the TCP layer below it.
struct HttpConnection {
    HttpConnection(boost::asio::any_io_executor executor,
                   std::shared_ptr<boost::asio::ssl::context> context);
    ~HttpConnection() { *alive = false; }
    HttpConnection(const HttpConnection&) = delete;
    HttpConnection& operator=(const HttpConnection&) = delete;

    /// Beast reads into what the buffer can hold without growing, at least 512 bytes: from
    /// an empty buffer a response of a few KiB took one read (an SSL_read, with OpenSSL's
    /// error-queue bookkeeping) per 512 bytes. One TLS record holds up to 16 KiB.
    static constexpr std::size_t read_buffer_bytes = 16 * 1024;

    boost::beast::tcp_stream& tcp() { return stream.next_layer(); }

    /// Closes the socket at once: for connections that saw an error or were cancelled.
    void abort();

    std::shared_ptr<boost::asio::ssl::context> tls_context;  // outlives the SSL object
    TlsStream stream;
    bool tls = false;
    boost::beast::flat_buffer buffer;
    std::chrono::steady_clock::time_point idle_since{};

    /// The read_timeout of the exchange in progress (http_exchange.cpp's ExchangeDeadline):
    /// one timer wait per exchange, where tcp_stream's expiry armed and cancelled its timer
    /// around every socket operation.
    boost::asio::steady_timer deadline;
    std::uint64_t exchanges = 0;  ///< ends of exchanges so far: tells a stale expiry apart
    bool timed_out = false;       ///< the deadline of the current exchange expired
    /// False once destroyed, for an expiry already queued when the connection went away.
    std::shared_ptr<bool> alive = std::make_shared<bool>(true);
};
using HttpConnectionPtr = std::unique_ptr<HttpConnection>;

/// A caller waiting for a connection slot (FIFO). Lives in the waiting coroutine's frame.
struct HttpPoolWaiter {
    explicit HttpPoolWaiter(const boost::asio::any_io_executor& executor) : timer(executor) {}
    boost::asio::steady_timer timer;
    bool granted = false;          ///< a slot was handed over (with `connection`, or to open one)
    HttpConnectionPtr connection;  ///< the idle connection handed over, if any
};

/// The pool of one HttpClient. Lives in the client's shared state; every coroutine using it
/// is awaited by a send() that keeps that state alive, so they take it by reference.
/// Thread safety: none (the HttpClient's strand).
struct HttpConnectionPool {
    HttpConnectionPool(boost::asio::any_io_executor executor, const HttpClientOptions& options,
                       HttpClientStats& stats);

    boost::asio::any_io_executor executor;
    const HttpClientOptions& options;  // the owning state's
    HttpClientStats& stats;            // the owning state's
    std::shared_ptr<boost::asio::ssl::context> tls_context;
    DialPlan dial_plan;    // where connections go: decided once, for the endpoint's host
    bool tls = false;      // https: each new connection handshakes
    std::string endpoint;  // host:port, what errors name

    // Invariant: waiters is non-empty only when open_connections == max_connections and idle
    // is empty (a freed slot or connection goes to the first waiter directly).
    std::size_t open_connections = 0;     // idle + busy + connecting
    std::vector<HttpConnectionPtr> idle;  // back() = most recently used
    std::deque<HttpPoolWaiter*> waiters;
    bool closed = false;

    Error make_error(ErrorKind kind, std::string message, Dispatch dispatch) const;

    /// A slot is free again (its connection closed): the first waiter may open a connection.
    void release_slot();
    /// A healthy connection after a complete exchange: to the first waiter, or the pool.
    void give_back(HttpConnectionPtr connection);
    /// Closes idle connections past idle_timeout, oldest first.
    void retire_expired(std::chrono::steady_clock::time_point now);
    /// Closes a connection politely (detached) and frees its slot.
    void retire(HttpConnectionPtr connection);
    /// The client went away: idle connections are closed, busy ones when given back.
    void close();
};

/// One slot of the pool, with its connection (reused from the pool, or to be opened). The
/// destructor is the error path: the connection is closed and the slot freed, never pooled.
class HttpLease {
  public:
    HttpLease(HttpConnectionPool& pool, HttpConnectionPtr reused_connection);
    HttpLease(HttpLease&& other) noexcept;
    HttpLease& operator=(HttpLease&&) = delete;
    ~HttpLease();

    /// Closes the connection but keeps the slot, to open a fresh connection in it.
    void discard_connection();
    /// After a complete exchange: back to the pool (`keep_alive`), or politely closed.
    void finish(bool keep_alive);

    HttpConnectionPtr connection;
    bool reused = false;

  private:
    HttpConnectionPool* pool_;  // null once finished or moved from
};

/// The pool's answer without waiting: an idle connection (most recently used first), or a
/// free slot to open one in. Empty when every slot is busy (then acquire_connection waits).
/// Not a coroutine: the warm path of a call takes a pooled connection without a coroutine
/// frame and a resumption of its own.
std::optional<HttpLease> try_acquire_connection(HttpConnectionPool& pool);

/// Waits (FIFO, at most acquire_timeout) for a connection or a slot.
/// Errors: timeout; cancelled (terminal cancellation of the awaiting coroutine).
boost::asio::awaitable<Result<HttpLease>> acquire_connection(HttpConnectionPool& pool);

/// Opens a connection with the dialer (resolve, connect, proxy, TLS), all within
/// connect_timeout, and counts it in the stats. Errors: dial_tcp's and handshake_tls's.
boost::asio::awaitable<Result<HttpConnectionPtr>> open_connection(HttpConnectionPool& pool);

}  // namespace eci::detail
