// SPDX-License-Identifier: Apache-2.0
// The exec WebSocket (`/exec/?s=TOKEN`): runs the granted command and relays its streams as
// binary frames whose first byte is the channel (0 stdin, 1 stdout, 2 stderr, 3/4 status or
// resize per --exit-status), then closes normally. Backpressure: a pipe is read only when
// the previous frame of that pipe has been handed to the single writer, and the writer takes
// the next frame only when its previous write completed, so at most three frames are in
// memory however slow the client reads.
#include "emulator/exec_gateway.hpp"

#include "core/encoding.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/experimental/channel.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <fmt/format.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cerrno>
#include <optional>

namespace eci::emulator {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using asio::ip::tcp;
using TlsStream = asio::ssl::stream<beast::tcp_stream>;
using HttpRequest = http::request<http::string_body>;

namespace {

constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t chunk_bytes = 32 * 1024;
/// After the process exited, how long to wait for its pipes to reach EOF (a background child
/// may hold them open forever).
constexpr auto drain_grace = std::chrono::seconds(1);
/// After the client closed the socket, how long the process may run on before it is killed.
constexpr auto orphan_grace = std::chrono::seconds(10);
/// Stdin kept for a process that has not started yet; past this the reader pauses.
constexpr std::size_t early_stdin_limit = 1024 * 1024;

constexpr char channel_stdin = 0;
constexpr char channel_stdout = 1;
constexpr char channel_stderr = 2;

using FrameChannel = asio::experimental::channel<void(boost::system::error_code, std::string)>;

/// True when the peer has closed its side of the connection (or reset it): the kernel moved the
/// socket out of ESTABLISHED. A socket whose state cannot be read counts as closed.
bool peer_has_closed(tcp::socket& socket) {
    tcp_info info{};
    socklen_t size = sizeof info;
    if (::getsockopt(socket.native_handle(), IPPROTO_TCP, TCP_INFO, &info, &size) != 0)
        return true;
    return info.tcpi_state != TCP_ESTABLISHED;
}

void close_socket(tcp::socket& socket) {
    boost::system::error_code ignored;
    socket.shutdown(tcp::socket::shutdown_both, ignored);
    socket.close(ignored);
}

std::string status_frame(ExitStatusMode mode, const ExitStatus& status) {
    int code = status.shell_code();
    if (mode == ExitStatusMode::channel4)
        return std::string(1, '\x04') + std::to_string(code);
    boost::json::object doc;
    doc["metadata"] = boost::json::object{};
    if (code == 0) {
        doc["status"] = "Success";
    } else {
        doc["status"] = "Failure";
        doc["message"] = fmt::format("command terminated with non-zero exit code: {}", code);
        doc["reason"] = "NonZeroExitCode";
        boost::json::object cause;
        cause["reason"] = "ExitCode";
        cause["message"] = std::to_string(code);
        boost::json::object details;
        details["causes"] = boost::json::array{cause};
        doc["details"] = std::move(details);
    }
    return std::string(1, '\x03') + boost::json::serialize(doc);
}

/// A plain HTTP refusal of an exec URL that is unknown, used or expired.
template <class Stream>
asio::awaitable<void> refuse(Stream& stream, const HttpRequest& request, http::status status,
                             std::string message) {
    http::response<http::string_body> res{status, request.version()};
    res.set(http::field::server, "eci-emulator");
    res.set(http::field::content_type, "application/json;charset=utf-8");
    boost::json::object body;
    body["Code"] = status == http::status::forbidden ? "Forbidden" : "NotFound";
    body["Message"] = std::move(message);
    res.body() = boost::json::serialize(body);
    res.keep_alive(false);
    res.prepare_payload();
    beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(10));
    co_await http::async_write(stream, res, tuple_awaitable);
    close_socket(beast::get_lowest_layer(stream).socket());
}

}  // namespace

ExecGateway::ExecGateway(Strand strand, const EmulatorOptions& options, SandboxStore& store,
                         Lifecycle& lifecycle, FaultInjector& faults, Stats& stats,
                         ConnectionRegistry& connections, KeepAlive keep_alive)
    : strand_(std::move(strand)),
      options_(options),
      store_(store),
      lifecycle_(lifecycle),
      faults_(faults),
      stats_(stats),
      connections_(connections),
      keep_alive_(std::move(keep_alive)) {}

std::optional<std::string> ExecGateway::grant(ExecTicket ticket) {
    const auto now = std::chrono::steady_clock::now();
    ticket.expires = now + options_.exec_url_ttl;
    return tickets_.grant(std::move(ticket), now);
}

template <class Stream, class Request>
asio::awaitable<void> ExecGateway::serve(Stream stream, Request request) {
    using namespace asio::experimental::awaitable_operators;
    const auto hold = keep_alive_();

    // ---- the ticket: single use, valid for exec_url_ttl
    std::string_view target = request.target();
    auto question = target.find('?');
    std::string_view path = target.substr(0, question);
    if (path != "/exec/" && path != "/exec") {
        co_await refuse(stream, request, http::status::not_found, "no such WebSocket endpoint");
        co_return;
    }
    std::string token;
    if (question != std::string_view::npos) {
        if (auto query = eci::detail::parse_query(target.substr(question + 1), false)) {
            if (auto s = eci::detail::find_param(*query, "s"))
                token = std::string(*s);
        }
    }
    auto redeemed = tickets_.redeem(token);
    if (!redeemed) {
        co_await refuse(stream, request, http::status::forbidden,
                        "the exec URL is unknown, expired or already used");
        co_return;
    }
    ExecTicket ticket = std::move(*redeemed);
    if (ticket.expires <= std::chrono::steady_clock::now()) {
        co_await refuse(stream, request, http::status::forbidden, "the exec URL has expired");
        co_return;
    }
    auto entry = store_.find(ticket.container_group_id);
    auto processes =
        entry ? lifecycle_.container_processes(*entry, ticket.container_name) : nullptr;
    // The lazy runtime's sandbox gets its processes below, once the WebSocket is up.
    const bool deferred = entry && Lifecycle::start_deferred(*entry);
    if (!entry || entry->group.status != status::running ||
        (!deferred && (!processes || !processes->running()))) {
        co_await refuse(stream, request, http::status::not_found,
                        "the container group is not running");
        co_return;
    }

    // ---- the WebSocket
    beast::get_lowest_layer(stream).expires_never();
    websocket::stream<Stream> ws(std::move(stream));
    ws.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
    ws.binary(true);
    ws.auto_fragment(false);
    ws.read_message_max(1024 * 1024);
    auto [accept_ec] = co_await ws.async_accept(request, tuple_awaitable);
    if (accept_ec)
        co_return;
    ++stats_.exec_sessions;

    tcp::socket& socket = beast::get_lowest_layer(ws).socket();
    const auto registration = connections_.add([&socket] { close_socket(socket); });

    bool drop_mid_stream = faults_.drop_websocket();
    if (drop_mid_stream)
        ++stats_.faults_injected["ws_drop"];

    // ---- the client's frames, read from the accept on
    // The reader runs for the whole connection, also while the start waits for a slot: Beast
    // answers the client's keep-alive pings only inside a read, and a client whose pings went
    // unanswered while its start queued gave up after its idle timeout (30 s by default) and
    // asked again with a new ExecContainerCommand (issue 14: 1000 session opens at once).
    // Until the process exists, its stdin and terminal size are kept here, in order.
    std::optional<ExecProcess> process;
    std::string early_stdin;
    bool early_stdin_eof = false;
    std::optional<TerminalSize> early_size;
    bool delivering_early = false;  // early stdin is being written: later stdin queues behind it
    bool start_settled = false;
    asio::steady_timer start_settled_timer(strand_, asio::steady_timer::time_point::max());

    FrameChannel frames(strand_);
    bool client_gone = false;    // the socket failed: kill the process
    bool client_closed = false;  // the client sent a close frame: stdin is done
    bool process_done = false;
    bool outputs_done = false;
    asio::steady_timer drain_timer(strand_, asio::steady_timer::time_point::max());
    asio::steady_timer orphan_timer(strand_, asio::steady_timer::time_point::max());

    auto terminal_size = [](std::string_view data) -> std::optional<TerminalSize> {
        boost::system::error_code json_ec;
        auto doc = boost::json::parse(data, json_ec);
        if (json_ec || !doc.is_object())
            return std::nullopt;
        const auto& o = doc.as_object();
        auto dimension = [&](const char* key) -> unsigned short {
            auto it = o.find(key);
            if (it == o.end() || !it->value().is_number())
                return 0;
            auto v = it->value().to_number<double>(json_ec);
            return json_ec || v < 1 || v > 10000 ? 0 : static_cast<unsigned short>(v);
        };
        unsigned short columns = dimension("Width");
        unsigned short rows = dimension("Height");
        if (rows == 0 || columns == 0)
            return std::nullopt;
        return TerminalSize{rows, columns};
    };

    // Where the command's stdin goes once it runs: its terminal, its stdin pipe, or nowhere.
    auto stdin_sink = [&]() -> asio::posix::stream_descriptor* {
        if (process->tty())
            return &process->terminal();
        return process->has_stdin() ? &process->stdin_pipe() : nullptr;
    };

    // Client -> process: stdin, resize, close.
    auto reader = [&]() -> asio::awaitable<void> {
        beast::flat_buffer buffer;
        char resize_channel = options_.exit_status == ExitStatusMode::k8s ? '\x04' : '\x03';
        for (;;) {
            if (!process && !start_settled && early_stdin.size() >= early_stdin_limit) {
                // Enough kept: stop reading (the client's writes back up) until the start
                // settles.
                auto [wait_ec] = co_await start_settled_timer.async_wait(tuple_awaitable);
                (void)wait_ec;
            }
            buffer.clear();
            auto [ec, n] = co_await ws.async_read(buffer, tuple_awaitable);
            if (ec) {
                if (ec == websocket::error::closed) {
                    client_closed = true;
                    if (process) {
                        process->close_stdin();
                        if (!process_done) {
                            // Nothing can be delivered any more; let it finish briefly.
                            orphan_timer.expires_after(orphan_grace);
                            auto [timer_ec] = co_await orphan_timer.async_wait(tuple_awaitable);
                            (void)timer_ec;
                            if (!process_done)
                                process->kill();
                        }
                    }
                } else {
                    client_gone = true;
                    if (process && !process_done)
                        process->kill();
                }
                co_return;
            }
            std::string_view data(static_cast<const char*>(buffer.data().data()), n);
            if (data.empty())
                continue;
            char channel = data.front();
            data.remove_prefix(1);
            const bool deliver_now = process && !delivering_early;
            if (channel == channel_stdin && !ticket.stdin) {
                continue;  // the exec was granted without stdin
            } else if (channel == channel_stdin && !deliver_now) {
                if (data.empty() && !ticket.tty)
                    early_stdin_eof = true;
                else
                    early_stdin.append(data);
            } else if (channel == channel_stdin) {
                auto* sink = stdin_sink();
                if (sink == nullptr)
                    continue;
                if (data.empty() && !process->tty()) {
                    process->close_stdin();  // an empty stdin frame is EOF
                    continue;
                }
                auto [write_ec, written] =
                    co_await asio::async_write(*sink, asio::buffer(data), tuple_awaitable);
                (void)write_ec;
                (void)written;
            } else if (channel == resize_channel && ticket.tty) {
                if (auto size = terminal_size(data)) {
                    if (process)
                        (void)process->resize(*size);
                    else
                        early_size = size;
                }
            } else if (static_cast<unsigned char>(channel) == 0xFF && data.size() == 1 &&
                       data.front() == channel_stdin && !ticket.tty) {
                // Kubernetes v5 CLOSE of stream 0
                if (deliver_now && process->has_stdin())
                    process->close_stdin();
                else if (!deliver_now)
                    early_stdin_eof = true;
            }
        }
    };

    // The reader runs on its own: it ends when the socket closes, which happens below.
    bool reader_done = false;
    asio::steady_timer reader_finished(strand_, asio::steady_timer::time_point::max());
    asio::co_spawn(
        strand_,
        [&]() -> asio::awaitable<void> {
            co_await reader();
            reader_done = true;
            reader_finished.cancel();
        },
        asio::detached);
    // Ends the connection once the reader has let go of this frame.
    auto finish = [&]() -> asio::awaitable<void> {
        if (!reader_done) {
            close_socket(socket);
            co_await reader_finished.async_wait(tuple_awaitable);
        }
    };

    ExecSpec spec;
    spec.argv = ticket.command;
    spec.tty = ticket.tty;
    spec.open_stdin = ticket.stdin && !ticket.tty;
    // A start that waited for a slot is dropped when its client has gone meanwhile: it closed
    // (the reader saw it) or its TCP peer is gone (FIN or RST not yet read).
    spec.requester_gone = [&] { return client_gone || client_closed || peer_has_closed(socket); };
    // The lazy runtime starts the sandbox now if no exec did before (the reader answers the
    // client's pings meanwhile); one deleted or failed meanwhile is reported as output.
    if (!processes)
        processes = co_await lifecycle_.exec_processes(entry, ticket.container_name);
    Result<ExecProcess> started =
        Error::make(ErrorKind::service, "the container group is not running");
    if (processes && processes->running())
        started = co_await processes->exec(std::move(spec));
    start_settled = true;
    start_settled_timer.cancel();
    if (!started) {
        if (started.error().kind == ErrorKind::cancelled) {
            ++stats_.exec_starts_abandoned;
        } else if (!client_gone && !client_closed) {
            // As a container runtime does: the error is output, the exit code 126/127.
            std::string frame(1, ticket.tty ? channel_stdout : channel_stderr);
            frame += started.error().message + "\n";
            co_await ws.async_write(asio::buffer(frame), tuple_awaitable);
            if (options_.exit_status != ExitStatusMode::none) {
                std::string status = status_frame(options_.exit_status, ExitStatus{127, 0});
                co_await ws.async_write(asio::buffer(status), tuple_awaitable);
            }
            co_await ws.async_close(websocket::close_code::normal, tuple_awaitable);
        }
        co_await finish();
        co_return;
    }
    process.emplace(std::move(*started));
    if (client_gone || client_closed)
        process->kill();  // the client left while the child was being spawned
    if (early_size)
        (void)process->resize(*early_size);
    const int readers = process->tty() ? 1 : 2;

    // The stdin that came before the process, then what the reader queued meanwhile; only
    // then does the reader write on its own, so the order is the client's.
    auto deliver_early = [&]() -> asio::awaitable<void> {
        delivering_early = true;
        while (!early_stdin.empty() && stdin_sink() != nullptr) {
            std::string chunk = std::move(early_stdin);
            early_stdin.clear();
            auto [write_ec, written] =
                co_await asio::async_write(*stdin_sink(), asio::buffer(chunk), tuple_awaitable);
            (void)written;
            if (write_ec)
                break;
        }
        early_stdin.clear();
        delivering_early = false;
        if (early_stdin_eof && process->has_stdin())
            process->close_stdin();
    };

    // Reads one pipe (or the terminal) into frames for the writer.
    auto pump = [&](asio::posix::stream_descriptor& source, char channel) -> asio::awaitable<void> {
        std::string buffer(chunk_bytes + 1, '\0');
        for (;;) {
            buffer.resize(chunk_bytes + 1);
            buffer[0] = channel;
            auto [ec, n] = co_await source.async_read_some(
                asio::buffer(buffer.data() + 1, chunk_bytes), tuple_awaitable);
            if (ec)
                break;  // EOF, EIO (terminal), or cancelled by the drain timer
            buffer.resize(n + 1);
            auto [send_ec] = co_await frames.async_send({}, std::move(buffer), tuple_awaitable);
            if (send_ec)
                co_return;
            buffer = std::string(chunk_bytes + 1, '\0');
        }
        co_await frames.async_send({}, std::string(), tuple_awaitable);  // this reader is done
    };

    // The single writer: frames in order, one write at a time.
    auto writer = [&]() -> asio::awaitable<void> {
        int finished = 0;
        while (finished < readers) {
            auto [ec, frame] = co_await frames.async_receive(tuple_awaitable);
            if (ec)
                break;
            if (frame.empty()) {
                ++finished;
                continue;
            }
            if (client_gone || client_closed)
                continue;  // nobody to deliver to: discard
            auto [write_ec, n] = co_await ws.async_write(asio::buffer(frame), tuple_awaitable);
            (void)n;
            if (write_ec) {
                if (!client_closed)
                    client_gone = true;
                process->kill();
                continue;
            }
            if (drop_mid_stream) {
                // Fault: the connection dies mid-stream; the process goes with it.
                close_socket(socket);
                client_gone = true;
                process->kill();
            }
        }
    };

    // Waits for the exit, then gives the pipes a moment to drain before cutting them.
    auto waiter = [&]() -> asio::awaitable<Result<ExitStatus>> {
        auto status = co_await process->wait();
        process_done = true;
        orphan_timer.cancel();
        if (outputs_done)
            co_return status;
        drain_timer.expires_after(drain_grace);
        auto [ec] = co_await drain_timer.async_wait(tuple_awaitable);
        if (!ec) {
            boost::system::error_code ignored;
            if (process->tty()) {
                process->terminal().cancel(ignored);
            } else {
                process->stdout_pipe().cancel(ignored);
                process->stderr_pipe().cancel(ignored);
            }
        }
        co_return status;
    };

    auto outputs = [&]() -> asio::awaitable<void> {
        if (process->tty()) {
            co_await (pump(process->terminal(), channel_stdout) && writer());
        } else {
            co_await (pump(process->stdout_pipe(), channel_stdout) &&
                      pump(process->stderr_pipe(), channel_stderr) && writer());
        }
        outputs_done = true;
        drain_timer.cancel();  // every pipe reached EOF: no need to wait any longer
    };

    Result<ExitStatus> exit_status = co_await (waiter() && outputs() && deliver_early());
    if (!client_gone && !client_closed) {
        if (options_.exit_status != ExitStatusMode::none && exit_status) {
            std::string frame = status_frame(options_.exit_status, *exit_status);
            co_await ws.async_write(asio::buffer(frame), tuple_awaitable);
        }
        co_await ws.async_close(websocket::close_code::normal, tuple_awaitable);
    } else {
        close_socket(socket);
    }
    // The reader holds references into this frame: wait until it has returned.
    co_await finish();
}

template asio::awaitable<void> ExecGateway::serve<beast::tcp_stream, HttpRequest>(beast::tcp_stream,
                                                                                  HttpRequest);
template asio::awaitable<void> ExecGateway::serve<TlsStream, HttpRequest>(TlsStream, HttpRequest);

}  // namespace eci::emulator
