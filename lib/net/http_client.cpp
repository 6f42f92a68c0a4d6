// SPDX-License-Identifier: Apache-2.0
#include "net/http_client.hpp"

#include "net/http_response_parser.hpp"
#include "net/tls_context.hpp"
#include "net/tls_session_cache.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/url/parse.hpp>

#include <algorithm>
#include <deque>
#include <optional>

namespace eci::detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using boost::system::error_code;

namespace {

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

std::string base64(std::string_view input) {
    static constexpr char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    out.reserve((input.size() + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 2 < input.size(); i += 3) {
        unsigned n = static_cast<unsigned char>(input[i]) << 16 |
                     static_cast<unsigned char>(input[i + 1]) << 8 |
                     static_cast<unsigned char>(input[i + 2]);
        out += alphabet[n >> 18 & 63];
        out += alphabet[n >> 12 & 63];
        out += alphabet[n >> 6 & 63];
        out += alphabet[n & 63];
    }
    if (i < input.size()) {
        unsigned n = static_cast<unsigned char>(input[i]) << 16;
        if (i + 1 < input.size())
            n |= static_cast<unsigned char>(input[i + 1]) << 8;
        out += alphabet[n >> 18 & 63];
        out += alphabet[n >> 12 & 63];
        out += i + 1 < input.size() ? alphabet[n >> 6 & 63] : '=';
        out += '=';
    }
    return out;
}

bool is_ipv6_literal(const std::string& host) {
    error_code ec;
    auto address = asio::ip::make_address(host, ec);
    return !ec && address.is_v6();
}

// "host:port" with IPv6 literals bracketed: the CONNECT target, and what errors name.
std::string authority(const std::string& host, std::uint16_t port) {
    return is_ipv6_literal(host) ? fmt::format("[{}]:{}", host, port)
                                 : fmt::format("{}:{}", host, port);
}

long long to_ms(Clock::duration duration) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(duration).count();
}

struct ProxyEndpoint {
    std::string host;
    std::uint16_t port = 0;
    std::string display;        // host:port, never the credentials
    std::string authorization;  // "Basic ...", or empty
};

Result<ProxyEndpoint> parse_proxy_url(const std::string& url) {
    // The URL may carry credentials: no error below quotes it.
    auto invalid = [] {
        return Error::make(ErrorKind::invalid_argument,
                           "the proxy URL is not of the form http://[user:password@]host:port");
    };
    auto parsed = boost::urls::parse_uri(url);
    if (!parsed || parsed->scheme() != "http" || !parsed->has_authority())
        return invalid();
    ProxyEndpoint proxy;
    proxy.host = std::string(parsed->host_address());
    if (proxy.host.empty())
        return invalid();
    proxy.port = parsed->has_port() ? parsed->port_number() : 80;
    if (proxy.port == 0)
        return invalid();
    proxy.display = authority(proxy.host, proxy.port);
    if (parsed->has_userinfo()) {
        std::string credentials =
            std::string(parsed->user()) + ":" + std::string(parsed->password());
        proxy.authorization = "Basic " + base64(credentials);
    }
    return proxy;
}

// One connection. The TLS stream always exists (cheap) so that plain HTTP and HTTPS share
// one type; plain connections do their I/O on the TCP layer below it.
struct Connection {
    Connection(asio::any_io_executor executor, std::shared_ptr<ssl::context> context)
        : tls_context(std::move(context)),
          stream(beast::tcp_stream(executor), *tls_context),
          deadline(executor) {
        // Beast reads into what the buffer can hold without growing, at least 512 bytes: from
        // an empty buffer a response of a few KiB took one read (an SSL_read, with OpenSSL's
        // error-queue bookkeeping) per 512 bytes. One TLS record holds up to 16 KiB.
        buffer.reserve(read_buffer_bytes);
    }

    ~Connection() { *alive = false; }
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    static constexpr std::size_t read_buffer_bytes = 16 * 1024;

    beast::tcp_stream& tcp() { return stream.next_layer(); }

    // Closes the socket at once: for connections that saw an error or were cancelled.
    void abort() {
        error_code ignored;
        tcp().socket().shutdown(tcp::socket::shutdown_both, ignored);
        tcp().close();
    }

    std::shared_ptr<ssl::context> tls_context;  // outlives the SSL object in `stream`
    TlsStream stream;
    bool tls = false;
    beast::flat_buffer buffer;
    Clock::time_point idle_since{};

    // The read_timeout of the exchange in progress: one timer wait per exchange (see
    // ExchangeDeadline), where tcp_stream's expiry armed and cancelled its timer around every
    // socket operation (a write and two or three reads per call).
    asio::steady_timer deadline;
    std::uint64_t exchanges = 0;  // ends of exchanges so far: tells a stale expiry apart
    bool timed_out = false;       // the deadline of the current exchange expired
    // False once destroyed, for an expiry already queued when the connection went away.
    std::shared_ptr<bool> alive = std::make_shared<bool>(true);
};
using ConnectionPtr = std::unique_ptr<Connection>;

// Arms `connection.deadline` for one exchange: on expiry the socket is closed (so the pending
// write or read fails at once) and `timed_out` set. The destructor (every way out of the
// exchange) disarms it; an expiry that was already queued then finds a later exchange count
// (or a destroyed connection) and does nothing.
class ExchangeDeadline {
  public:
    ExchangeDeadline(Connection& connection, Clock::duration timeout) : connection_(connection) {
        connection.timed_out = false;
        connection.deadline.expires_after(timeout);
        connection.deadline.async_wait([target = &connection, alive = connection.alive,
                                        exchange = connection.exchanges](error_code ec) {
            if (ec || !*alive || target->exchanges != exchange)
                return;
            target->timed_out = true;
            target->abort();
        });
    }
    ExchangeDeadline(const ExchangeDeadline&) = delete;
    ExchangeDeadline& operator=(const ExchangeDeadline&) = delete;
    ~ExchangeDeadline() {
        ++connection_.exchanges;
        connection_.deadline.cancel();
    }

    // What an operation's result means: once the deadline expired, a timeout, whatever the
    // operation saw (the closed socket's operation_aborted, or a success that raced it).
    error_code outcome(error_code ec) const {
        return connection_.timed_out ? error_code(beast::error::timeout) : ec;
    }

  private:
    Connection& connection_;
};

// Closes a healthy connection politely: TLS close_notify with a short deadline, then the
// socket. Runs detached and owns the connection, so it needs nothing else alive.
asio::awaitable<void> shut_down(ConnectionPtr connection) {
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

// A caller waiting for a connection slot (FIFO). Lives in the waiting coroutine's frame.
struct Waiter {
    explicit Waiter(const asio::any_io_executor& executor) : timer(executor) {}
    asio::steady_timer timer;
    bool granted = false;      // a slot was handed over (with `connection`, or to open one)
    ConnectionPtr connection;  // the idle connection handed over, if any
};

}  // namespace

struct HttpClient::State : std::enable_shared_from_this<HttpClient::State> {
    State(asio::any_io_executor ex, HttpClientOptions opts)
        : executor(std::move(ex)), options(std::move(opts)) {}

    asio::any_io_executor executor;
    HttpClientOptions options;
    std::shared_ptr<ssl::context> tls_context;
    std::optional<ProxyEndpoint> proxy;
    std::string endpoint;     // host:port
    std::string host_header;  // host, or host:port when not the scheme's default
    bool tls = false;
    HttpClientStats stats;

    // Pool. Invariant: waiters is non-empty only when open_connections == max_connections
    // and idle is empty (a freed slot or connection goes to the first waiter directly).
    std::size_t open_connections = 0;  // idle + busy + connecting
    std::vector<ConnectionPtr> idle;   // back() = most recently used
    std::deque<Waiter*> waiters;
    bool closed = false;

    Error make_error(ErrorKind kind, std::string message, Dispatch dispatch) const {
        Error error = Error::make(kind, std::move(message));
        error.endpoint = endpoint;
        error.dispatch = dispatch;
        return error;
    }

    bool expired(const Connection& connection, Clock::time_point now) const {
        return connection.idle_since + options.idle_timeout <= now;
    }

    // A slot is free again (its connection closed): the first waiter may open a connection.
    void release_slot() {
        if (!waiters.empty()) {
            Waiter* waiter = waiters.front();
            waiters.pop_front();
            waiter->granted = true;
            waiter->timer.cancel();
            return;
        }
        --open_connections;
    }

    // A healthy connection after a complete exchange: to the first waiter, or the pool.
    void give_back(ConnectionPtr connection) {
        // idle_timeout 0 means "never reuse": one TLS handshake per request.
        if (closed || options.idle_timeout <= Clock::duration::zero()) {
            asio::co_spawn(executor, shut_down(std::move(connection)), asio::detached);
            release_slot();
            return;
        }
        connection->idle_since = Clock::now();
        if (!waiters.empty()) {
            Waiter* waiter = waiters.front();
            waiters.pop_front();
            waiter->granted = true;
            waiter->connection = std::move(connection);
            waiter->timer.cancel();
            return;
        }
        idle.push_back(std::move(connection));
        retire_expired(Clock::now());
    }

    // Idle connections expire lazily, whenever one is given back or taken (try_acquire), not
    // on a timer: a pending timer would keep the program's io_context::run() going for
    // idle_timeout after its last call (30 s by default). A pool left unused keeps its
    // sockets until its next use or its destruction. Oldest first, at the front.
    void retire_expired(Clock::time_point now) {
        while (!idle.empty() && expired(*idle.front(), now)) {
            ConnectionPtr oldest = std::move(idle.front());
            idle.erase(idle.begin());
            retire(std::move(oldest));
        }
    }

    void retire(ConnectionPtr connection) {
        asio::co_spawn(executor, shut_down(std::move(connection)), asio::detached);
        release_slot();
    }

    void close() {
        closed = true;
        for (auto& connection : idle) {
            connection->abort();
            release_slot();
        }
        idle.clear();
    }
};

namespace {

using State = HttpClient::State;

// Whether the awaiting coroutine was cancelled. Spelled as a plain function of the state
// (not a helper coroutine): co_await of another awaitable throws once cancellation is set.
bool was_cancelled(const asio::cancellation_state& state) {
    return state.cancelled() != asio::cancellation_type::none;
}
// One slot of the pool, with its connection (reused from the pool, or to be opened). The
// destructor is the error path: the connection is closed and the slot freed, never pooled.
class Lease {
  public:
    Lease(std::shared_ptr<State> state, ConnectionPtr reused_connection)
        : state_(std::move(state)), connection(std::move(reused_connection)) {
        reused = connection != nullptr;
    }
    Lease(Lease&&) noexcept = default;
    Lease& operator=(Lease&&) = delete;
    ~Lease() {
        if (!state_)
            return;
        discard_connection();
        state_->release_slot();
    }

    // Closes the connection but keeps the slot, to open a fresh connection in it.
    void discard_connection() {
        if (connection)
            connection->abort();
        connection.reset();
        reused = false;
    }

    // After a complete exchange: back to the pool, or politely closed.
    void finish(bool keep_alive) {
        if (keep_alive)
            state_->give_back(std::move(connection));
        else
            state_->retire(std::move(connection));
        state_.reset();
    }

  private:
    std::shared_ptr<State> state_;

  public:
    ConnectionPtr connection;
    bool reused = false;
};

// Unregisters a waiter whose wait ended without a grant (timeout, cancellation, exception),
// and returns an unclaimed grant to the pool.
struct WaiterGuard {
    State& state;
    Waiter& waiter;
    ~WaiterGuard() {
        if (!waiter.granted) {
            auto it = std::find(state.waiters.begin(), state.waiters.end(), &waiter);
            if (it != state.waiters.end())
                state.waiters.erase(it);
        } else if (waiter.connection) {
            state.give_back(std::move(waiter.connection));
        } else {
            state.release_slot();  // granted a slot to open a connection, but gave up
        }
    }
};

// The pool's answer without waiting: an idle connection, or a free slot to open one in.
// Empty when every slot is busy (then `acquire` waits). Not a coroutine: the warm path of a
// call takes a pooled connection without a coroutine frame and a resumption of its own.
std::optional<Lease> try_acquire(const std::shared_ptr<State>& state) {
    state->retire_expired(Clock::now());
    if (!state->idle.empty()) {
        // Most recently used first: the warmest socket, the least likely closed by the server.
        ConnectionPtr connection = std::move(state->idle.back());
        state->idle.pop_back();
        return std::optional<Lease>(std::in_place, state, std::move(connection));
    }
    if (state->open_connections < state->options.max_connections) {
        ++state->open_connections;
        return std::optional<Lease>(std::in_place, state, nullptr);
    }
    return std::nullopt;
}

// Waits for a connection or a slot (after try_acquire found none).
asio::awaitable<Result<Lease>> acquire(std::shared_ptr<State> state) {
    if (auto lease = try_acquire(state))
        co_return std::move(*lease);

    Waiter waiter(state->executor);
    waiter.timer.expires_after(state->options.acquire_timeout);
    state->waiters.push_back(&waiter);
    WaiterGuard guard{*state, waiter};
    co_await waiter.timer.async_wait(use_tuple);  // granted, timed out or cancelled: see below
    const bool cancelled = was_cancelled(co_await asio::this_coro::cancellation_state);
    if (cancelled)
        co_return state->make_error(ErrorKind::cancelled,
                                    "cancelled while waiting for a free connection",
                                    Dispatch::not_sent);
    if (!waiter.granted)
        co_return state->make_error(
            ErrorKind::timeout,
            fmt::format("no connection to {} became free within {} ms (max_connections = {})",
                        state->endpoint, to_ms(state->options.acquire_timeout),
                        state->options.max_connections),
            Dispatch::not_sent);
    // The slot (and connection, if any) now belongs to the lease, not the guard.
    waiter.granted = false;
    co_return Lease(state, std::move(waiter.connection));
}

// The error for a failure while opening a connection (never sent anything).
Error connect_error(State& state, bool cancelled, error_code ec, std::string_view what) {
    if (cancelled)
        return state.make_error(ErrorKind::cancelled,
                                fmt::format("cancelled while connecting to {}", state.endpoint),
                                Dispatch::not_sent);
    if (ec == beast::error::timeout)
        return state.make_error(
            ErrorKind::timeout,
            fmt::format("connecting to {} took longer than {} ms ({})", state.endpoint,
                        to_ms(state.options.connect_timeout), what),
            Dispatch::not_sent);
    return state.make_error(ErrorKind::network, fmt::format("{}: {}", what, ec.message()),
                            Dispatch::not_sent);
}

asio::awaitable<Result<void>> proxy_connect(std::shared_ptr<State> state, Connection& connection) {
    const ProxyEndpoint& proxy = *state->proxy;
    http::request<http::empty_body> request{http::verb::connect, state->endpoint, 11};
    request.set(http::field::host, state->endpoint);
    if (!proxy.authorization.empty())
        request.set(http::field::proxy_authorization, proxy.authorization);
    auto [write_ec, written] = co_await http::async_write(connection.tcp(), request, use_tuple);
    (void)written;
    if (write_ec) {
        const bool cancelled = was_cancelled(co_await asio::this_coro::cancellation_state);
        co_return connect_error(*state, cancelled, write_ec,
                                fmt::format("sending CONNECT to proxy {}", proxy.display));
    }
    http::response_parser<http::empty_body> parser;
    parser.skip(true);  // a CONNECT answer has no body: the tunnel starts after the header
    parser.header_limit(static_cast<std::uint32_t>(
        std::min<std::size_t>(state->options.max_header_bytes, UINT32_MAX)));
    auto [read_ec, read] =
        co_await http::async_read(connection.tcp(), connection.buffer, parser, use_tuple);
    (void)read;
    if (read_ec) {
        const bool cancelled = was_cancelled(co_await asio::this_coro::cancellation_state);
        co_return connect_error(
            *state, cancelled, read_ec,
            fmt::format("reading the CONNECT answer of proxy {}", proxy.display));
    }
    const auto& response = parser.get();
    if (response.result_int() != 200)
        co_return state->make_error(
            ErrorKind::network,
            fmt::format("proxy {} refused CONNECT to {}: HTTP {} {}", proxy.display,
                        state->endpoint, response.result_int(),
                        std::string_view(response.reason())),
            Dispatch::not_sent);
    if (connection.buffer.size() != 0)
        co_return state->make_error(
            ErrorKind::protocol,
            fmt::format("proxy {} sent data before the tunnel was used", proxy.display),
            Dispatch::not_sent);
    co_return Result<void>{};
}

// Resolve, connect, proxy CONNECT and TLS handshake, all within connect_timeout.
asio::awaitable<Result<ConnectionPtr>> open_connection(std::shared_ptr<State> state) {
    using namespace asio::experimental::awaitable_operators;
    const auto deadline = Clock::now() + state->options.connect_timeout;
    auto connection = std::make_unique<Connection>(state->executor, state->tls_context);
    const std::string& host = state->proxy ? state->proxy->host : state->options.host;
    const std::uint16_t port = state->proxy ? state->proxy->port : state->options.port;
    const std::string target =
        state->proxy ? fmt::format("proxy {}", state->proxy->display) : state->endpoint;

    // An IP literal needs no resolver: asio resolves on a helper thread, which costs a
    // thread wake-up and getaddrinfo per new connection.
    error_code literal_ec;
    const auto literal = asio::ip::make_address(host, literal_ec);
    std::vector<tcp::endpoint> endpoints;
    if (!literal_ec) {
        endpoints.emplace_back(literal, port);
    } else {
        tcp::resolver resolver(state->executor);
        asio::steady_timer resolve_deadline(state->executor, deadline);
        auto resolved = co_await (resolver.async_resolve(host, std::to_string(port), use_tuple) ||
                                  resolve_deadline.async_wait(use_tuple));
        if (resolved.index() == 1) {
            const bool cancelled = was_cancelled(co_await asio::this_coro::cancellation_state);
            co_return connect_error(*state, cancelled, beast::error::timeout,
                                    fmt::format("resolving {}", host));
        }
        auto [resolve_ec, found] = std::get<0>(std::move(resolved));
        if (resolve_ec) {
            const bool cancelled = was_cancelled(co_await asio::this_coro::cancellation_state);
            co_return connect_error(*state, cancelled, resolve_ec,
                                    fmt::format("could not resolve {}", host));
        }
        for (const auto& entry : found)
            endpoints.push_back(entry.endpoint());
    }

    connection->tcp().expires_at(deadline);
    auto [connect_ec, connected] = co_await connection->tcp().async_connect(endpoints, use_tuple);
    (void)connected;
    if (connect_ec) {
        const bool cancelled = was_cancelled(co_await asio::this_coro::cancellation_state);
        co_return connect_error(*state, cancelled, connect_ec,
                                fmt::format("could not connect to {}", target));
    }
    ++state->stats.connections_opened;
    error_code ignored;
    connection->tcp().socket().set_option(tcp::no_delay(true), ignored);

    if (state->proxy) {
        auto tunnel = co_await proxy_connect(state, *connection);
        if (!tunnel)
            co_return std::move(tunnel).error();
    }

    if (state->tls) {
        auto prepared =
            prepare_tls_connection(connection->stream, state->options.host,
                                   std::to_string(state->options.port), state->options.verify_peer);
        if (!prepared) {
            Error error = std::move(prepared).error();
            error.endpoint = state->endpoint;
            error.dispatch = Dispatch::not_sent;
            co_return error;
        }
        auto [handshake_ec] =
            co_await connection->stream.async_handshake(ssl::stream_base::client, use_tuple);
        if (handshake_ec) {
            bool cancelled = was_cancelled(co_await asio::this_coro::cancellation_state);
            if (cancelled || handshake_ec == beast::error::timeout)
                co_return connect_error(*state, cancelled, handshake_ec, "TLS handshake");
            if (is_tls_error(handshake_ec) ||
                SSL_get_verify_result(connection->stream.native_handle()) != X509_V_OK) {
                Error error = tls_handshake_error(connection->stream.native_handle(), handshake_ec,
                                                  state->endpoint);
                error.endpoint = state->endpoint;
                error.dispatch = Dispatch::not_sent;
                co_return error;
            }
            co_return connect_error(
                *state, false, handshake_ec,
                fmt::format("connection to {} lost during the TLS handshake", state->endpoint));
        }
        connection->tls = true;
        ++state->stats.tls_handshakes;
        if (tls_session_resumed(connection->stream.native_handle()))
            ++state->stats.tls_resumptions;
    }
    connection->tcp().expires_never();
    co_return connection;
}

struct WireRequest {
    std::string text;  // start line, header and body
    bool head = false;
    bool keep_alive = true;  // false when the caller sent Connection: close
};

struct ExchangeResult {
    Result<HttpResponse> response = HttpResponse{};
    bool response_started = false;  // any byte of the response arrived
    bool keep_alive = false;
};

Error exchange_error(State& state, bool cancelled, error_code ec) {
    const auto dispatch = Dispatch::unknown;
    if (cancelled)
        return state.make_error(ErrorKind::cancelled,
                                fmt::format("the request to {} was cancelled", state.endpoint),
                                dispatch);
    if (ec == beast::error::timeout)
        return state.make_error(ErrorKind::timeout,
                                fmt::format("no complete response from {} within {} ms",
                                            state.endpoint, to_ms(state.options.read_timeout)),
                                dispatch);
    if (ec == http::error::body_limit)
        return state.make_error(ErrorKind::protocol,
                                fmt::format("the response body from {} exceeds {} bytes",
                                            state.endpoint, state.options.max_body_bytes),
                                dispatch);
    if (ec == http::error::header_limit)
        return state.make_error(ErrorKind::protocol,
                                fmt::format("the response header from {} exceeds {} bytes",
                                            state.endpoint, state.options.max_header_bytes),
                                dispatch);
    if (ec == http::error::end_of_stream || ec == http::error::partial_message ||
        ec == ssl::error::stream_truncated || ec.category() == asio::error::get_system_category() ||
        ec.category() == asio::error::get_misc_category())
        return state.make_error(
            ErrorKind::network,
            fmt::format("connection to {} failed before a complete response: {}", state.endpoint,
                        ec.message()),
            dispatch);
    if (ec.category() == http::make_error_code(http::error::bad_version).category())
        return state.make_error(
            ErrorKind::protocol,
            fmt::format("malformed HTTP response from {}: {}", state.endpoint, ec.message()),
            dispatch);
    if (is_tls_error(ec))
        return state.make_error(
            ErrorKind::tls,
            fmt::format("TLS failure talking to {}: {}", state.endpoint, ec.message()), dispatch);
    return state.make_error(
        ErrorKind::network,
        fmt::format("connection to {} failed: {}", state.endpoint, ec.message()), dispatch);
}

template <class Stream>
asio::awaitable<ExchangeResult> exchange(std::shared_ptr<State> state, Connection& connection,
                                         Stream& stream, const WireRequest& request) {
    ExchangeResult result;
    const ExchangeDeadline deadline(connection, state->options.read_timeout);
    auto [write_result, written] =
        co_await asio::async_write(stream, asio::buffer(request.text), use_tuple);
    state->stats.bytes_sent += written;
    const error_code write_ec = deadline.outcome(write_result);
    if (write_ec) {
        const bool cancelled = was_cancelled(co_await asio::this_coro::cancellation_state);
        result.response = exchange_error(*state, cancelled, write_ec);
        co_return result;
    }

    // The response is parsed straight into the result: no Beast message in between.
    HttpResponse response;
    HttpResponseParser parser(response);
    parser.header_limit(static_cast<std::uint32_t>(
        std::min<std::size_t>(state->options.max_header_bytes, UINT32_MAX)));
    parser.body_limit(state->options.max_body_bytes);
    if (request.head)
        parser.skip(true);
    auto [read_result, read] =
        co_await http::async_read(stream, connection.buffer, parser, use_tuple);
    state->stats.bytes_received += read;
    result.response_started = parser.got_some() || connection.buffer.size() != 0;
    const error_code read_ec = deadline.outcome(read_result);
    if (read_ec) {
        const bool cancelled = was_cancelled(co_await asio::this_coro::cancellation_state);
        result.response = exchange_error(*state, cancelled, read_ec);
        co_return result;
    }

    // basic_parser's keep_alive(): the version and Connection rules of message::keep_alive(),
    // and false for a body delimited by the end of the stream (that connection is done).
    result.keep_alive = parser.keep_alive() && request.keep_alive;
    result.response = std::move(response);
    co_return result;
}

bool is_method(std::string_view method, std::string_view name) {
    return beast::iequals(method, name);
}

// The request as it goes on the wire, rendered straight into one reserved string (one
// allocation) instead of Beast's field list (an allocation per header field) and its
// serializer. Headers as Beast's prepare_payload would set them: Host unless given,
// Content-Length for a body or a method that carries one.
WireRequest build_request(const State& state, const HttpRequest& request) {
    WireRequest wire;
    wire.head = is_method(request.method, "HEAD");
    std::size_t size = request.method.size() + request.target.size() + 64 + request.body.size() +
                       state.host_header.size();
    for (const auto& [name, value] : request.headers)
        size += name.size() + value.size() + 4;
    std::string& out = wire.text;
    out.reserve(size);
    out += request.method;
    out += ' ';
    out += request.target;
    out += " HTTP/1.1\r\n";
    bool has_host = false;
    bool has_length = false;
    for (const auto& [name, value] : request.headers) {
        has_host = has_host || beast::iequals(name, "host");
        has_length = has_length || beast::iequals(name, "content-length");
        if (beast::iequals(name, "connection") && value.find("close") != std::string::npos)
            wire.keep_alive = false;
        out += name;
        out += ": ";
        out += value;
        out += "\r\n";
    }
    if (!has_host) {
        out += "Host: ";
        out += state.host_header;
        out += "\r\n";
    }
    if (!has_length && (!request.body.empty() || is_method(request.method, "POST") ||
                        is_method(request.method, "PUT") || is_method(request.method, "OPTIONS"))) {
        out += "Content-Length: ";
        out += std::to_string(request.body.size());
        out += "\r\n";
    }
    out += "\r\n";
    out += request.body;
    return wire;
}

// One request, end to end: a pooled (or new) connection, the exchange, and one more try on
// a fresh connection when a pooled one turns out dead. One coroutine with the exchange as its
// only child: each frame is an allocation and a resumption per call.
asio::awaitable<Result<HttpResponse>> run_send(std::shared_ptr<State> state, HttpRequest request) {
    ++state->stats.requests;
    bool may_have_sent = false;
    try {
        const bool idempotent = request.idempotent;
        const WireRequest message = build_request(*state, request);
        auto dispatch = [&may_have_sent] {
            return may_have_sent ? Dispatch::unknown : Dispatch::not_sent;
        };

        std::optional<Lease> lease = try_acquire(state);
        if (!lease) {
            auto waited = co_await acquire(state);
            if (!waited)
                co_return std::move(waited).error();
            lease.emplace(std::move(*waited));
        }
        for (bool retried = false;; retried = true) {
            if (!lease->connection) {
                auto opened = co_await open_connection(state);
                if (!opened) {
                    Error error = std::move(opened).error();
                    error.dispatch = dispatch();
                    co_return error;
                }
                lease->connection = std::move(*opened);
            }
            may_have_sent = true;
            Connection& connection = *lease->connection;
            ExchangeResult outcome;
            if (connection.tls) {
                outcome = co_await exchange(state, connection, connection.stream, message);
            } else {
                outcome = co_await exchange(state, connection, connection.tcp(), message);
            }
            if (outcome.response) {
                lease->finish(outcome.keep_alive);
                co_return std::move(outcome.response);
            }
            // A keep-alive connection the server closed while it sat in the pool fails exactly
            // like this: written (or not), then nothing. Nothing was processed, so an idempotent
            // request may go once more, on a connection that is certainly fresh.
            const bool stale = lease->reused && !outcome.response_started &&
                               outcome.response.error().kind == ErrorKind::network;
            if (retried || !stale || !idempotent)
                co_return std::move(outcome.response).error();
            ++state->stats.stale_retries;
            lease->discard_connection();
        }
    } catch (const boost::system::system_error& failure) {
        // Asio throws operation_aborted from co_await once the coroutine's cancellation state
        // is set (throw_if_cancelled defaults to true and belongs to the caller's coroutine,
        // so we do not change it). Leases and waiters already cleaned up while unwinding.
        if (failure.code() != asio::error::operation_aborted)
            throw;
    }
    co_return state->make_error(ErrorKind::cancelled,
                                fmt::format("the request to {} was cancelled", state->endpoint),
                                may_have_sent ? Dispatch::unknown : Dispatch::not_sent);
}

}  // namespace

std::string HttpResponse::header(std::string_view name) const {
    for (const auto& [key, value] : headers)
        if (beast::iequals(key, name))
            return value;
    return {};
}

Result<HttpClient> HttpClient::create(asio::any_io_executor executor, HttpClientOptions options) {
    if (options.scheme != "http" && options.scheme != "https")
        return Error::make(ErrorKind::invalid_argument,
                           fmt::format("scheme must be http or https, not '{}'", options.scheme));
    if (options.host.empty())
        return Error::make(ErrorKind::invalid_argument, "the endpoint host is empty");
    if (options.port == 0)
        return Error::make(ErrorKind::invalid_argument, "the endpoint port is 0");
    if (options.max_connections == 0)
        return Error::make(ErrorKind::invalid_argument, "max_connections must be at least 1");

    auto state = std::make_shared<State>(std::move(executor), std::move(options));
    const auto& opts = state->options;
    state->tls = opts.scheme == "https";
    state->endpoint = authority(opts.host, opts.port);
    const std::uint16_t default_port = state->tls ? 443 : 80;
    state->host_header = opts.port == default_port
                             ? (is_ipv6_literal(opts.host) ? "[" + opts.host + "]" : opts.host)
                             : state->endpoint;
    if (!opts.proxy_url.empty()) {
        auto proxy = parse_proxy_url(opts.proxy_url);
        if (!proxy)
            return std::move(proxy).error();
        state->proxy = std::move(*proxy);
    }
    TlsClientOptions tls_options;
    tls_options.verify_peer = state->tls && opts.verify_peer;
    if (state->tls)
        tls_options.ca_file = opts.ca_file;
    auto context = make_client_tls_context(tls_options);
    if (!context)
        return std::move(context).error();
    state->tls_context = std::move(*context);
    return HttpClient(std::move(state));
}

HttpClient::HttpClient(std::shared_ptr<State> state) : state_(std::move(state)) {}
HttpClient::HttpClient(HttpClient&&) noexcept = default;
HttpClient& HttpClient::operator=(HttpClient&& other) noexcept {
    if (this != &other) {
        if (state_)
            state_->close();
        state_ = std::move(other.state_);
    }
    return *this;
}
HttpClient::~HttpClient() {
    if (state_)
        state_->close();
}

asio::awaitable<Result<HttpResponse>> HttpClient::send(HttpRequest request) {
    return run_send(state_, std::move(request));
}

const HttpClientStats& HttpClient::stats() const noexcept {
    return state_->stats;
}
const HttpClientOptions& HttpClient::options() const noexcept {
    return state_->options;
}

}  // namespace eci::detail
