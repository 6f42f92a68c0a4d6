// SPDX-License-Identifier: Apache-2.0
#include "net/http_connection_pool.hpp"

#include "net/coroutine_support.hpp"

#include <fmt/format.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/this_coro.hpp>

#include <algorithm>

namespace eci::detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using boost::system::error_code;

namespace {

// Closes a healthy connection politely: TLS close_notify with a short deadline, then the
// socket. Runs detached and owns the connection, so it needs nothing else alive.
asio::awaitable<void> shut_down(HttpConnectionPtr connection) {
    if (connection->tls) {
        connection->tcp().expires_after(std::chrono::seconds(1));
        auto [ec] = co_await connection->stream.async_shutdown(use_tuple);
        // ssl::error::stream_truncated means the peer closed without its own close_notify.
        // Harmless here: every response was complete (Beast reports a cut-off message as
        // http::error::partial_message), and we are closing anyway. Other errors likewise
        // change nothing but the politeness of the goodbye.
        (void)ec;
    }
    connection->abort();
}

// Unregisters a waiter whose wait ended without a grant (timeout, cancellation, exception),
// and returns an unclaimed grant to the pool.
struct WaiterGuard {
    HttpConnectionPool& pool;
    HttpPoolWaiter& waiter;
    ~WaiterGuard() {
        if (!waiter.granted) {
            auto it = std::find(pool.waiters.begin(), pool.waiters.end(), &waiter);
            if (it != pool.waiters.end())
                pool.waiters.erase(it);
        } else if (waiter.connection) {
            pool.give_back(std::move(waiter.connection));
        } else {
            pool.release_slot();  // granted a slot to open a connection, but gave up
        }
    }
};

}  // namespace

HttpConnection::HttpConnection(asio::any_io_executor executor,
                               std::shared_ptr<ssl::context> context)
    : tls_context(std::move(context)),
      stream(beast::tcp_stream(executor), *tls_context),
      deadline(executor) {
    buffer.reserve(read_buffer_bytes);
}

void HttpConnection::abort() {
    error_code ignored;
    tcp().socket().shutdown(tcp::socket::shutdown_both, ignored);
    tcp().close();
}

HttpConnectionPool::HttpConnectionPool(asio::any_io_executor ex, const HttpClientOptions& opts,
                                       HttpClientStats& counters)
    : executor(std::move(ex)), options(opts), stats(counters) {}

Error HttpConnectionPool::make_error(ErrorKind kind, std::string message, Dispatch dispatch) const {
    Error error = Error::make(kind, std::move(message));
    error.endpoint = endpoint;
    error.dispatch = dispatch;
    return error;
}

void HttpConnectionPool::release_slot() {
    if (!waiters.empty()) {
        HttpPoolWaiter* waiter = waiters.front();
        waiters.pop_front();
        waiter->granted = true;
        waiter->timer.cancel();
        return;
    }
    --open_connections;
}

void HttpConnectionPool::give_back(HttpConnectionPtr connection) {
    // idle_timeout 0 means "never reuse": one TLS handshake per request.
    if (closed || options.idle_timeout <= Clock::duration::zero()) {
        asio::co_spawn(executor, shut_down(std::move(connection)), asio::detached);
        release_slot();
        return;
    }
    connection->idle_since = Clock::now();
    if (!waiters.empty()) {
        HttpPoolWaiter* waiter = waiters.front();
        waiters.pop_front();
        waiter->granted = true;
        waiter->connection = std::move(connection);
        waiter->timer.cancel();
        return;
    }
    idle.push_back(std::move(connection));
    retire_expired(Clock::now());
}

// Idle connections expire lazily, whenever one is given back or taken (try_acquire), not on a
// timer: a pending timer would keep the program's io_context::run() going for idle_timeout
// after its last call (30 s by default). A pool left unused keeps its sockets until its next
// use or its destruction. Oldest first, at the front.
void HttpConnectionPool::retire_expired(Clock::time_point now) {
    while (!idle.empty() && idle.front()->idle_since + options.idle_timeout <= now) {
        HttpConnectionPtr oldest = std::move(idle.front());
        idle.erase(idle.begin());
        retire(std::move(oldest));
    }
}

void HttpConnectionPool::retire(HttpConnectionPtr connection) {
    asio::co_spawn(executor, shut_down(std::move(connection)), asio::detached);
    release_slot();
}

void HttpConnectionPool::close() {
    closed = true;
    for (auto& connection : idle) {
        connection->abort();
        release_slot();
    }
    idle.clear();
}

HttpLease::HttpLease(HttpConnectionPool& pool, HttpConnectionPtr reused_connection)
    : connection(std::move(reused_connection)), pool_(&pool) {
    reused = connection != nullptr;
}

HttpLease::HttpLease(HttpLease&& other) noexcept
    : connection(std::move(other.connection)), reused(other.reused), pool_(other.pool_) {
    other.pool_ = nullptr;
}

HttpLease::~HttpLease() {
    if (!pool_)
        return;
    discard_connection();
    pool_->release_slot();
}

void HttpLease::discard_connection() {
    if (connection)
        connection->abort();
    connection.reset();
    reused = false;
}

void HttpLease::finish(bool keep_alive) {
    if (keep_alive)
        pool_->give_back(std::move(connection));
    else
        pool_->retire(std::move(connection));
    pool_ = nullptr;
}

std::optional<HttpLease> try_acquire_connection(HttpConnectionPool& pool) {
    pool.retire_expired(Clock::now());
    if (!pool.idle.empty()) {
        // Most recently used first: the warmest socket, the least likely closed by the server.
        HttpConnectionPtr connection = std::move(pool.idle.back());
        pool.idle.pop_back();
        return std::optional<HttpLease>(std::in_place, pool, std::move(connection));
    }
    if (pool.open_connections < pool.options.max_connections) {
        ++pool.open_connections;
        return std::optional<HttpLease>(std::in_place, pool, nullptr);
    }
    return std::nullopt;
}

asio::awaitable<Result<HttpLease>> acquire_connection(HttpConnectionPool& pool) {
    if (auto lease = try_acquire_connection(pool))
        co_return std::move(*lease);

    HttpPoolWaiter waiter(pool.executor);
    waiter.timer.expires_after(pool.options.acquire_timeout);
    pool.waiters.push_back(&waiter);
    WaiterGuard guard{pool, waiter};
    co_await waiter.timer.async_wait(use_tuple);  // granted, timed out or cancelled: see below
    const asio::cancellation_state state = co_await asio::this_coro::cancellation_state;
    if (state.cancelled() != asio::cancellation_type::none)
        co_return pool.make_error(ErrorKind::cancelled,
                                  "cancelled while waiting for a free connection",
                                  Dispatch::not_sent);
    if (!waiter.granted)
        co_return pool.make_error(
            ErrorKind::timeout,
            fmt::format("no connection to {} became free within {} ms (max_connections = {})",
                        pool.endpoint, milliseconds_of(pool.options.acquire_timeout),
                        pool.options.max_connections),
            Dispatch::not_sent);
    // The slot (and connection, if any) now belongs to the lease, not the guard.
    waiter.granted = false;
    co_return HttpLease(pool, std::move(waiter.connection));
}

asio::awaitable<Result<HttpConnectionPtr>> open_connection(HttpConnectionPool& pool) {
    // One deadline for the whole dial, TLS handshake included (HttpClientOptions).
    const auto deadline = Clock::now() + pool.options.connect_timeout;
    auto connection = std::make_unique<HttpConnection>(pool.executor, pool.tls_context);
    auto dialed = co_await dial_tcp(connection->tcp(), pool.dial_plan, deadline);
    if (!dialed)
        co_return std::move(dialed).error();
    ++pool.stats.connections_opened;
    if (pool.tls) {
        auto handshake = co_await handshake_tls(connection->stream, pool.dial_plan, deadline);
        if (!handshake)
            co_return std::move(handshake).error();
        connection->tls = true;
        ++pool.stats.tls_handshakes;
        if (handshake->resumed)
            ++pool.stats.tls_resumptions;
    }
    connection->tcp().expires_never();
    co_return connection;
}

}  // namespace eci::detail
