// SPDX-License-Identifier: Apache-2.0
#include "net/exec_websocket.hpp"
#include "core/redact.hpp"

#include <eci/config.hpp>

#include "core/host_syntax.hpp"
#include "net/coroutine_support.hpp"
#include "net/tls_context.hpp"
#include "net/tls_dialer.hpp"

#include <fmt/format.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/websocket/error.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <boost/url/parse.hpp>

#include <array>

namespace eci::detail {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using Clock = std::chrono::steady_clock;

namespace {

using PlainWebSocket = websocket::stream<beast::tcp_stream>;
using TlsWebSocket = websocket::stream<ssl::stream<beast::tcp_stream>>;

constexpr std::uint16_t normal_close_code = 1000;
constexpr std::size_t max_service_message_bytes = 512;

// The error kind of a rejected upgrade (the server answered with a plain HTTP response).
ErrorKind upgrade_rejection_kind(unsigned status) {
    if (status == 401 || status == 403)
        return ErrorKind::auth;
    if (status == 429)
        return ErrorKind::throttled;
    if (status >= 500)
        return ErrorKind::service;
    return ErrorKind::protocol;
}

}  // namespace

struct ExecWebSocket::Impl {
    Impl(asio::any_io_executor ex, ssl::context& tls, ExecWebSocketOptions opts)
        : executor(std::move(ex)), tls_context(tls), options(std::move(opts)) {}

    asio::any_io_executor executor;
    ssl::context& tls_context;
    ExecWebSocketOptions options;
    std::variant<std::monostate, std::unique_ptr<PlainWebSocket>, std::unique_ptr<TlsWebSocket>>
        stream;
    beast::flat_buffer read_buffer;
    std::string endpoint;
    ExecWebSocketCounters counters;
    bool open = false;
    // The server's close frame arrived on this connection. From then on the session has
    // ended cleanly, whatever happens to the transport during Beast's teardown (a server that
    // closes TCP without TLS close_notify makes the teardown fail).
    bool close_received = false;
    // The first failure of this connection: an operation aborted because another one failed
    // and closed the socket reports this instead of a bogus "cancelled".
    std::optional<Error> failure;

    template <class Function>
    auto with_stream(Function&& function) {
        if (auto* plain = std::get_if<std::unique_ptr<PlainWebSocket>>(&stream))
            return function(**plain);
        return function(*std::get<std::unique_ptr<TlsWebSocket>>(stream));
    }

    // Beast's own view: false once a close handshake finished or the stream failed, which
    // can be before the reader's completion (that updates `open`) has run.
    bool websocket_open() const noexcept {
        if (auto* plain = std::get_if<std::unique_ptr<PlainWebSocket>>(&stream))
            return (*plain)->is_open();
        if (auto* tls = std::get_if<std::unique_ptr<TlsWebSocket>>(&stream))
            return (*tls)->is_open();
        return false;
    }

    void close_socket() noexcept {
        open = false;
        error_code ignored;
        if (auto* plain = std::get_if<std::unique_ptr<PlainWebSocket>>(&stream))
            beast::get_lowest_layer(**plain).socket().close(ignored);
        else if (auto* tls = std::get_if<std::unique_ptr<TlsWebSocket>>(&stream))
            beast::get_lowest_layer(**tls).socket().close(ignored);
    }

    Error make_error(ErrorKind kind, std::string message, Dispatch dispatch) const {
        Error error = Error::make(kind, std::move(message));
        error.endpoint = endpoint;
        error.dispatch = dispatch;
        return error;
    }

    // Why `doing` ("read", "write") cannot go ahead on a connection that is not open: its
    // first failure, else "not connected". Nothing when it is open.
    std::optional<Error> not_open(std::string_view doing) const {
        if (open)
            return std::nullopt;
        if (failure)
            return failure;
        return make_error(ErrorKind::network,
                          fmt::format("exec WebSocket {}: not connected", doing),
                          Dispatch::unknown);
    }

    // Maps a transport failure of an established connection, records it, closes the socket.
    Error fail(error_code ec, const asio::cancellation_state& state, std::string_view doing) {
        Error error = classify(ec, state, doing);
        if (!failure && error.kind != ErrorKind::cancelled)
            failure = error;
        close_socket();
        return error;
    }

    Error classify(error_code ec, const asio::cancellation_state& state,
                   std::string_view doing) const {
        const Dispatch dispatch = Dispatch::unknown;
        if (was_cancelled(state))
            return make_error(ErrorKind::cancelled,
                              fmt::format("exec WebSocket {} cancelled", doing), dispatch);
        if (ec == asio::error::operation_aborted) {
            if (failure)
                return *failure;
            // Not our caller's cancellation: the socket went away under this operation, e.g.
            // a write aborted because the reader got the server's close frame and Beast shut
            // the connection down.
            if (!open || !websocket_open())
                return make_error(
                    ErrorKind::network,
                    fmt::format("exec WebSocket {}: the connection was closed", doing), dispatch);
            return make_error(ErrorKind::cancelled, fmt::format("exec WebSocket {} aborted", doing),
                              dispatch);
        }
        if (ec == beast::error::timeout)
            return make_error(ErrorKind::timeout,
                              fmt::format("exec WebSocket {}: the server sent nothing (not even a "
                                          "pong) within the idle timeout",
                                          doing),
                              dispatch);
        if (ec == websocket::error::message_too_big || ec == http::error::buffer_overflow)
            return make_error(ErrorKind::protocol,
                              fmt::format("exec WebSocket {}: a message exceeded {} bytes", doing,
                                          options.max_message_bytes),
                              dispatch);
        if (ec == ssl::error::stream_truncated || ec == asio::error::eof ||
            ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
            ec == asio::error::connection_aborted)
            return make_error(ErrorKind::network,
                              fmt::format("exec WebSocket {}: the connection dropped without a "
                                          "close frame ({})",
                                          doing, ec.message()),
                              dispatch);
        if (ec.category() == asio::error::get_ssl_category())
            return make_error(
                ErrorKind::tls,
                fmt::format("exec WebSocket {}: TLS failure: {}", doing, ec.message()), dispatch);
        if (ec == websocket::error::closed)
            return make_error(ErrorKind::network,
                              fmt::format("exec WebSocket {}: the connection is closed", doing),
                              dispatch);
        if (ec == websocket::condition::protocol_violation)
            return make_error(
                ErrorKind::protocol,
                fmt::format("exec WebSocket {}: protocol violation: {}", doing, ec.message()),
                dispatch);
        return make_error(ErrorKind::network,
                          fmt::format("exec WebSocket {} failed: {}", doing, ec.message()),
                          dispatch);
    }

    // A failed upgrade (the dial before it is the dialer's to classify): the session never
    // started.
    Error connect_error(error_code ec, const asio::cancellation_state& state,
                        std::string_view doing) const {
        ErrorKind kind = ErrorKind::network;
        std::string message = fmt::format("exec WebSocket {} failed: {}", doing, ec.message());
        if (was_cancelled(state) || ec == asio::error::operation_aborted) {
            kind = ErrorKind::cancelled;
            message = fmt::format("exec WebSocket {} cancelled", doing);
        } else if (ec == beast::error::timeout) {
            kind = ErrorKind::timeout;
            message = fmt::format("exec WebSocket {} timed out", doing);
        } else if (ec.category() == asio::error::get_ssl_category() &&
                   ec != ssl::error::stream_truncated) {
            kind = ErrorKind::tls;
            message = fmt::format("exec WebSocket {}: TLS failure: {}", doing, ec.message());
        }
        return make_error(kind, std::move(message), Dispatch::not_sent);
    }

    template <class Stream>
    void configure(Stream& ws, Clock::duration handshake_budget) {
        websocket::stream_base::timeout timeouts;
        timeouts.handshake_timeout = handshake_budget;
        timeouts.idle_timeout = options.idle_timeout > Clock::duration::zero()
                                    ? options.idle_timeout
                                    : websocket::stream_base::none();
        timeouts.keep_alive_pings = options.keep_alive_pings;
        ws.set_option(timeouts);
        ws.set_option(websocket::stream_base::decorator(
            [agent = options.user_agent](websocket::request_type& request) {
                request.set(http::field::user_agent, agent);
            }));
        ws.read_message_max(options.max_message_bytes);
        ws.binary(true);
        ws.control_callback([this](websocket::frame_type kind, beast::string_view) {
            if (kind == websocket::frame_type::close)
                close_received = true;
        });
    }

    // The close frame the server sent, as read() reports it.
    ExecClosed received_close() {
        const auto reason = with_stream([](auto& ws) { return ws.reason(); });
        return ExecClosed{static_cast<std::uint16_t>(reason.code),
                          std::string(reason.reason.data(), reason.reason.size())};
    }
};

ExecWebSocket::ExecWebSocket(asio::any_io_executor executor, ssl::context& tls_context,
                             ExecWebSocketOptions options)
    : impl_(std::make_unique<Impl>(std::move(executor), tls_context, std::move(options))) {}

ExecWebSocket::~ExecWebSocket() = default;

bool ExecWebSocket::is_open() const noexcept {
    return impl_->open;
}
const std::string& ExecWebSocket::endpoint() const noexcept {
    return impl_->endpoint;
}
const ExecWebSocketCounters& ExecWebSocket::counters() const noexcept {
    return impl_->counters;
}
const ExecWebSocketOptions& ExecWebSocket::options() const noexcept {
    return impl_->options;
}

asio::awaitable<Result<void>> ExecWebSocket::connect(std::string url) {
    Impl& d = *impl_;
    d.close_socket();
    d.stream = std::monostate{};
    d.failure.reset();
    d.close_received = false;
    d.read_buffer.clear();
    const asio::cancellation_state state = co_await asio::this_coro::cancellation_state;

    // The URL carries a single-use token: no error below repeats it.
    auto parsed = boost::urls::parse_uri(url);
    if (!parsed)
        co_return Error::make(ErrorKind::invalid_argument, "the exec WebSocket URL is not a URL");
    const bool secure = parsed->scheme_id() == boost::urls::scheme::wss;
    if (!secure && parsed->scheme_id() != boost::urls::scheme::ws)
        co_return Error::make(ErrorKind::invalid_argument,
                              "the exec WebSocket URL must start with ws:// or wss://");
    const std::string host = parsed->host_address();
    if (host.empty())
        co_return Error::make(ErrorKind::invalid_argument, "the exec WebSocket URL has no host");
    if (!secure && d.options.require_tls) {
        // A server (or whoever rewrote its reply) handing an https client a plain URL: the
        // token in it and the whole session would be readable and writable on the wire.
        Error error = Error::make(ErrorKind::protocol,
                                  "the service returned a ws:// exec WebSocket URL to an https "
                                  "client; refused (only a plain-http endpoint may use ws://)");
        error.dispatch = Dispatch::not_sent;
        co_return error;
    }
    const std::uint16_t port =
        parsed->has_port() ? parsed->port_number() : std::uint16_t(secure ? 443 : 80);
    std::string target(parsed->encoded_target());
    if (target.empty())
        target = "/";
    const std::string host_header = std::string(parsed->encoded_host_and_port());
    d.endpoint = host_and_port(host, port);

    // The proxy decision belongs to the WebSocket's own host, which may differ from the API's:
    // plan_dial makes it for `host`, as the HTTP client does for its endpoint.
    DialSettings settings;
    settings.proxy = ProxyConfig{d.options.proxy_url, d.options.no_proxy};
    // SNI and host name verification as for HTTPS; whether the peer is verified at all is the
    // shared context's setting (make_client_tls_context verifies by default).
    settings.verify_peer = true;
    settings.connect_timeout = d.options.connect_timeout;
    settings.handshake_timeout = d.options.handshake_timeout;
    auto plan = plan_dial(host, port, settings);
    if (!plan)
        co_return std::move(plan).error();

    // Handshake phase: TLS and the upgrade, within handshake_timeout (from the end of the
    // connect phase).
    Clock::time_point handshake_deadline;
    auto upgrade = [&](auto& ws) -> asio::awaitable<Result<void>> {
        beast::get_lowest_layer(ws).expires_never();  // the WebSocket's own timers take over
        d.configure(ws, std::max(handshake_deadline - Clock::now(), Clock::duration(1)));
        websocket::response_type response;
        auto [ec] = co_await ws.async_handshake(response, host_header, target,
                                                asio::as_tuple(asio::use_awaitable));
        if (ec == websocket::error::upgrade_declined) {
            const unsigned status = response.result_int();
            Error error = d.make_error(
                upgrade_rejection_kind(status),
                fmt::format("the exec WebSocket upgrade was refused with HTTP {}{}", status,
                            status == 404 || status == 403 || status == 401
                                ? " (token expired, already used or unknown?)"
                                : ""),
                Dispatch::refused);
            error.http_status = static_cast<int>(status);
            // The body may echo the URL and with it the exec token.
            error.service_message =
                redact_secrets(response.body()).substr(0, max_service_message_bytes);
            co_return error;
        }
        if (ec) {
            if (ec == websocket::error::closed || ec == asio::error::eof)
                ec = asio::error::connection_reset;
            co_return d.connect_error(ec, state, "upgrade");
        }
        co_return Result<void>{};
    };

    // Connect phase (resolve, TCP connect, proxy tunnel) within connect_timeout, then TLS:
    // the dialer's, shared with the HTTP client.
    const auto connect_deadline = Clock::now() + d.options.connect_timeout;
    if (secure) {
        auto ws = std::make_unique<TlsWebSocket>(d.executor, d.tls_context);
        auto dialed = co_await dial_tcp(beast::get_lowest_layer(*ws), *plan, connect_deadline);
        if (!dialed)
            co_return dialed;
        handshake_deadline = Clock::now() + d.options.handshake_timeout;
        auto handshake = co_await handshake_tls(ws->next_layer(), *plan, handshake_deadline);
        if (!handshake)
            co_return std::move(handshake).error();
        if (handshake->resumed)
            ++d.counters.tls_resumptions;
        auto upgraded = co_await upgrade(*ws);
        if (!upgraded)
            co_return upgraded;
        d.stream = std::move(ws);
    } else {
        auto ws = std::make_unique<PlainWebSocket>(d.executor);
        auto dialed = co_await dial_tcp(beast::get_lowest_layer(*ws), *plan, connect_deadline);
        if (!dialed)
            co_return dialed;
        handshake_deadline = Clock::now() + d.options.handshake_timeout;
        auto upgraded = co_await upgrade(*ws);
        if (!upgraded)
            co_return upgraded;
        d.stream = std::move(ws);
    }
    // From now on Beast's "handshake" timeout bounds only closing handshakes.
    d.with_stream([&](auto& ws) {
        websocket::stream_base::timeout timeouts;
        ws.get_option(timeouts);
        timeouts.handshake_timeout = d.options.close_timeout;
        ws.set_option(timeouts);
    });
    d.open = true;
    ++d.counters.connections;
    co_return Result<void>{};
}

asio::awaitable<Result<ExecEvent>> ExecWebSocket::read() {
    Impl& d = *impl_;
    const asio::cancellation_state state = co_await asio::this_coro::cancellation_state;
    if (auto refused = d.not_open("read"))
        co_return std::move(*refused);
    d.read_buffer.clear();
    auto [ec, bytes] = co_await d.with_stream([&](auto& ws) {
        return ws.async_read(d.read_buffer, asio::as_tuple(asio::use_awaitable));
    });
    if (ec == websocket::error::closed) {
        // Beast has answered the close frame and shut the connection down.
        d.open = false;
        co_return d.received_close();
    }
    if (ec && d.close_received && !was_cancelled(state)) {
        // The close frame came, then answering it or the teardown failed (e.g. TCP closed
        // without TLS close_notify): a received close frame is a close, not a drop.
        d.close_socket();
        co_return d.received_close();
    }
    if (ec)
        co_return d.fail(ec, state, "read");
    d.counters.bytes_received += bytes;
    const bool is_text = d.with_stream([](auto& ws) { return ws.got_text(); });
    const std::string_view message(static_cast<const char*>(d.read_buffer.data().data()),
                                   d.read_buffer.size());
    auto frame = decode_frame(message, is_text);
    if (!frame) {
        Error error = std::move(frame).error();
        error.endpoint = d.endpoint;
        error.dispatch = Dispatch::unknown;
        if (!d.failure)
            d.failure = error;
        d.close_socket();
        co_return error;
    }
    co_return ExecFrame{frame->channel, std::string(frame->payload)};
}

asio::awaitable<Result<void>> ExecWebSocket::write_stdin(std::string_view data) {
    Impl& d = *impl_;
    if (auto refused = d.not_open("write"))
        co_return std::move(*refused);
    while (!data.empty()) {
        const std::string_view chunk = data.substr(0, d.options.max_stdin_frame_bytes);
        data.remove_prefix(chunk.size());
        auto written = co_await write_frame(ExecChannel::stdin_, chunk);
        if (!written)
            co_return written;
    }
    co_return Result<void>{};
}

asio::awaitable<Result<void>> ExecWebSocket::write_frame(ExecChannel channel,
                                                         std::string_view payload) {
    Impl& d = *impl_;
    const asio::cancellation_state state = co_await asio::this_coro::cancellation_state;
    if (auto refused = d.not_open("write"))
        co_return std::move(*refused);
    const char channel_byte = static_cast<char>(channel);
    // Gathered: the channel byte and the caller's bytes, without copying them.
    const std::array<asio::const_buffer, 2> frame{asio::buffer(&channel_byte, 1),
                                                  asio::buffer(payload)};
    auto [ec, bytes] = co_await d.with_stream(
        [&](auto& ws) { return ws.async_write(frame, asio::as_tuple(asio::use_awaitable)); });
    if (ec)
        co_return d.fail(ec, state, "write");
    d.counters.bytes_sent += bytes;
    co_return Result<void>{};
}

asio::awaitable<Result<void>> ExecWebSocket::close() {
    Impl& d = *impl_;
    const asio::cancellation_state state = co_await asio::this_coro::cancellation_state;
    if (!d.open)
        co_return Result<void>{};
    auto [ec] = co_await d.with_stream([&](auto& ws) {
        return ws.async_close(websocket::close_reason(normal_close_code),
                              asio::as_tuple(asio::use_awaitable));
    });
    if (ec && ec != websocket::error::closed)
        co_return d.fail(ec, state, "close");
    d.close_socket();
    co_return Result<void>{};
}

// ---- run_exec_stream ----------------------------------------------------------------------

namespace {

// Reads every frame into `output` until the server closes. References: the awaiting
// run_exec_stream frame owns all three and outlives this coroutine.
asio::awaitable<Result<void>> read_until_closed(ExecWebSocket& socket, OutputCollector& output,
                                                ExecStreamOutcome& outcome) {
    for (;;) {
        auto event = co_await socket.read();
        if (!event)
            co_return std::move(event).error();
        if (auto* closed = std::get_if<ExecClosed>(&*event)) {
            outcome.close_code = closed->code;
            outcome.close_reason = std::move(closed->reason);
            outcome.closed_normally = closed->code == normal_close_code;
            co_return Result<void>{};
        }
        auto& frame = std::get<ExecFrame>(*event);
        switch (frame.channel) {
            case ExecChannel::stdout_:
            case ExecChannel::stderr_:
                output.append(frame.channel, frame.payload);
                if (output.over_received_limit()) {
                    Error error = Error::make(
                        ErrorKind::protocol,
                        fmt::format("the command's output passed {} bytes, the bound of this "
                                    "operation; the stream was closed",
                                    output.received_limit()));
                    error.endpoint = socket.endpoint();
                    error.dispatch = Dispatch::unknown;
                    co_return error;
                }
                break;
            case ExecChannel::channel3:
            case ExecChannel::channel4:
                if (!outcome.exit_status) {
                    if (auto status = parse_exit_frame(frame.channel, frame.payload)) {
                        outcome.exit_code = status->exit_code;
                        outcome.exit_status = std::move(status);
                        break;
                    }
                }
                ++outcome.ignored_frames;
                break;
            case ExecChannel::stdin_:
                ++outcome.ignored_frames;
                break;
        }
    }
}

// Writes stdin (the data, then the source's pieces), then waits until the reader ends (which
// cancels it). It never completes on its own unless the source fails, so only the reader, the
// deadline or a failed source can end the race. A failed write is noted, not returned: the
// reader sees what happened to the connection and reports it.
asio::awaitable<Result<void>> write_then_wait(ExecWebSocket& socket,
                                              std::optional<std::string> data, StdinSource source,
                                              ExecStreamOutcome& outcome) {
    bool writing = true;
    if (data && !data->empty()) {
        auto written = co_await socket.write_stdin(*data);
        if (!written) {
            outcome.stdin_complete = false;
            writing = false;
        }
    }
    while (writing && source) {
        auto piece = source();
        if (!piece.ok()) {
            outcome.stdin_complete = false;
            co_return std::move(piece).error();
        }
        if (piece->empty())
            break;
        auto written = co_await socket.write_stdin(*piece);
        if (!written) {
            outcome.stdin_complete = false;
            writing = false;
        }
    }
    asio::steady_timer forever(co_await asio::this_coro::executor, Clock::time_point::max());
    co_await forever.async_wait(asio::use_awaitable);  // throws when cancelled: never "wins"
    co_return Result<void>{};
}

asio::awaitable<void> wait_until(Clock::time_point deadline) {
    asio::steady_timer timer(co_await asio::this_coro::executor, deadline);
    co_await timer.async_wait(asio::use_awaitable);  // throws when cancelled: never "wins"
}

}  // namespace

asio::awaitable<Result<ExecStreamOutcome>> run_exec_stream(ExecWebSocket& socket,
                                                           std::optional<std::string> stdin_data,
                                                           Clock::time_point deadline,
                                                           OutputCollector& output,
                                                           StdinSource stdin_source) {
    using namespace asio::experimental::awaitable_operators;
    ExecStreamOutcome outcome;
    outcome.stdin_complete = true;
    auto fail = [&](ErrorKind kind, std::string message) {
        Error error = Error::make(kind, std::move(message));
        error.endpoint = socket.endpoint();
        error.dispatch = Dispatch::unknown;
        return error;
    };
    try {
        auto finished = co_await (
            read_until_closed(socket, output, outcome) ||
            write_then_wait(socket, std::move(stdin_data), std::move(stdin_source), outcome) ||
            wait_until(deadline));
        if (finished.index() == 2)
            co_return fail(
                ErrorKind::timeout,
                fmt::format("exec stream deadline passed after {} output bytes; the "
                            "partial output is kept",
                            output.stdout_received_bytes() + output.stderr_received_bytes()));
        if (finished.index() == 1) {
            auto& written = std::get<1>(finished);
            if (!written.ok()) {
                // The caller's own failure (e.g. a local file that changed): not the stream's.
                auto error = std::move(written).error();
                error.dispatch = Dispatch::unknown;
                co_return error;
            }
            co_return fail(ErrorKind::protocol, "exec stream: the stdin writer ended the session");
        }
        auto& read = std::get<0>(finished);
        if (!read)
            co_return std::move(read).error();
    } catch (const boost::system::system_error&) {
        // Cancelled between two operations: Asio throws at the next co_await of each branch.
        co_return fail(ErrorKind::cancelled, "exec stream cancelled");
    }
    co_return outcome;
}

}  // namespace eci::detail
