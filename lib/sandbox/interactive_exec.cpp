// SPDX-License-Identifier: Apache-2.0
#include <eci/interactive_exec.hpp>

#include "api/state_access.hpp"
#include "async/async_semaphore.hpp"
#include "core/exec_frames.hpp"
#include "core/exit_marker.hpp"
#include "core/shell_wrappers.hpp"
#include "net/exec_websocket.hpp"
#include "sandbox/exec_output.hpp"
#include "sandbox/exec_runner.hpp"
#include "sandbox/exec_start.hpp"
#include "sandbox/sandbox_state.hpp"

#include <boost/asio/this_coro.hpp>

#include <deque>

namespace eci {
namespace asio = boost::asio;
using std::chrono::steady_clock;

struct InteractiveExec::State {
    State(std::shared_ptr<AsyncEciSandbox::State> client_in, asio::any_io_executor executor,
          std::string marker, const InteractiveExecOptions& options_in)
        : client(std::move(client_in)),
          socket(std::move(executor), *client->ws_tls, client->ws_options),
          writes(1),
          tty(options_in.tty),
          resize_channels(options_in.resize_channels) {
        if (!marker.empty()) {
            // One filter per stream: on a TTY the report arrives on stdout (the terminal
            // merges both), without one on stderr.
            out_filter.emplace(marker);
            err_filter.emplace(std::move(marker));
        }
    }

    std::shared_ptr<AsyncEciSandbox::State> client;
    detail::ExecWebSocket socket;
    detail::AsyncSemaphore writes;  ///< one write (stdin or resize) on the socket at a time
    bool tty;
    ResizeChannels resize_channels;
    std::string request_id;
    std::optional<detail::ExitMarkerFilter> out_filter;
    std::optional<detail::ExitMarkerFilter> err_filter;
    std::optional<int> status_frame_code;  ///< from a channel 3/4 status frame
    std::deque<InteractiveEvent> ready;    ///< events decided but not yet returned
    std::optional<InteractiveExit> ended;
};

namespace {

using State = InteractiveExec::State;

Error accepted(Error error, const std::string& request_id) {
    error.request_id = request_id;
    error.dispatch = Dispatch::accepted;
    return error;
}

// The output of one frame, the wrapper's report removed; empty when nothing is left to show.
std::optional<InteractiveOutput> filtered(State& state, detail::ExecFrame& frame) {
    const OutputStream stream = detail::output_stream_of(frame.channel);
    auto& filter = stream == OutputStream::standard_error ? state.err_filter : state.out_filter;
    std::string bytes = filter ? filter->feed(frame.payload) : std::move(frame.payload);
    if (bytes.empty())
        return std::nullopt;
    return InteractiveOutput{stream, std::move(bytes)};
}

// The connection closed: what the filters held back, then the exit.
void finish(State& state, const detail::ExecClosed& closed) {
    InteractiveExit exit;
    exit.close_code = closed.code;
    exit.close_reason = closed.reason;
    for (auto [filter, stream] : {std::pair{&state.out_filter, OutputStream::standard_output},
                                  std::pair{&state.err_filter, OutputStream::standard_error}}) {
        if (!*filter)
            continue;
        if (!exit.exit_code)
            exit.exit_code = (*filter)->exit_code();
        auto rest = (*filter)->finish();
        if (!rest.empty())
            state.ready.emplace_back(InteractiveOutput{stream, std::move(rest)});
    }
    if (!exit.exit_code)
        exit.exit_code = state.status_frame_code;
    state.ended = exit;
    state.ready.emplace_back(std::move(exit));
}

// Runs `send` (socket writes) alone on the socket: stdin, resizes and the close come from
// independent coroutines (a stdin relay, a SIGWINCH handler).
template <class Send>
asio::awaitable<Result<void>> locked_write(std::shared_ptr<State> state, Send send) {
    auto permit = co_await state->writes.acquire(std::nullopt);
    if (!permit.ok())
        co_return std::move(permit).error();
    detail::SemaphorePermit held(state->writes);
    auto written = co_await send();
    if (!written.ok())
        co_return accepted(std::move(written).error(), state->request_id);
    co_return Result<void>{};
}

}  // namespace

InteractiveExec::InteractiveExec(std::shared_ptr<State> state) : state_(std::move(state)) {}

const std::string& InteractiveExec::request_id() const noexcept {
    return state_->request_id;
}

asio::awaitable<Result<InteractiveExec>> InteractiveExec::open(AsyncSandbox sandbox,
                                                               std::vector<std::string> argv,
                                                               InteractiveExecOptions options) {
    if (argv.empty())
        co_return Error::make(ErrorKind::invalid_argument, "the command is empty");
    const auto deadline = steady_clock::now() + options.open_timeout;
    auto client = detail::StateAccess::state(sandbox.client());
    auto container = co_await detail::resolve_container_name(
        client, sandbox.id(),
        options.container_name.empty() ? sandbox.container_name() : options.container_name);
    if (!container.ok())
        co_return std::move(container).error();

    std::string marker;
    if (!options.raw_argv) {
        marker = detail::new_exit_marker();
        argv = detail::exit_status_argv(argv, marker);
    }
    auto executor = co_await asio::this_coro::executor;
    auto state = std::make_shared<State>(client, executor, std::move(marker), options);

    detail::ExecStartRequest start;
    start.sandbox_id = sandbox.id();
    start.container_name = std::move(container).value();
    start.argv = std::move(argv);
    start.stdin = true;
    start.tty = options.tty;
    auto begun = co_await detail::start_exec(client, std::move(start), state->socket, deadline);
    if (!begun.started.ok())
        co_return std::move(begun.started).error();
    state->request_id = begun.started->request_id;

    InteractiveExec stream(state);
    if (options.terminal_size) {
        auto sized = co_await stream.resize(*options.terminal_size);
        if (!sized.ok())
            co_return std::move(sized).error();
    }
    co_return stream;
}

asio::awaitable<Result<InteractiveEvent>> InteractiveExec::read() {
    auto state = state_;
    for (;;) {
        if (!state->ready.empty()) {
            auto event = std::move(state->ready.front());
            state->ready.pop_front();
            co_return event;
        }
        if (state->ended)
            co_return InteractiveEvent{*state->ended};
        auto event = co_await state->socket.read();
        if (!event.ok())
            co_return accepted(std::move(event).error(), state->request_id);
        if (auto* closed = std::get_if<detail::ExecClosed>(&*event)) {
            finish(*state, *closed);
            continue;
        }
        auto& frame = std::get<detail::ExecFrame>(*event);
        if (frame.channel == detail::ExecChannel::stdout_ ||
            frame.channel == detail::ExecChannel::stderr_) {
            if (auto output = filtered(*state, frame))
                co_return InteractiveEvent{std::move(*output)};
            continue;
        }
        // Channel 3 or 4: an exit status when it parses as one; anything else is ignored.
        if (!state->status_frame_code)
            state->status_frame_code = detail::parse_exit_status(frame.channel, frame.payload);
    }
}

asio::awaitable<Result<void>> InteractiveExec::write(std::string bytes) {
    auto state = state_;
    if (bytes.empty())
        co_return Result<void>{};
    co_return co_await locked_write(state, [&] { return state->socket.write_stdin(bytes); });
}

asio::awaitable<Result<void>> InteractiveExec::write_eof() {
    auto state = state_;
    if (state->tty)
        co_return Result<void>{};
    co_return co_await locked_write(
        state, [&] { return state->socket.write_frame(detail::ExecChannel::stdin_, {}); });
}

asio::awaitable<Result<void>> InteractiveExec::resize(TerminalSize size) {
    auto state = state_;
    if (!state->tty || size.rows == 0 || size.columns == 0)
        co_return Result<void>{};
    const std::string payload = detail::encode_resize_payload(size.rows, size.columns);
    const bool on3 = state->resize_channels != ResizeChannels::channel4;
    const bool on4 = state->resize_channels != ResizeChannels::channel3;
    co_return co_await locked_write(state, [&]() -> asio::awaitable<Result<void>> {
        if (on3) {
            auto written =
                co_await state->socket.write_frame(detail::ExecChannel::channel3, payload);
            if (!written.ok() || !on4)
                co_return written;
        }
        co_return co_await state->socket.write_frame(detail::ExecChannel::channel4, payload);
    });
}

asio::awaitable<Result<void>> InteractiveExec::close() {
    auto state = state_;
    if (!state->socket.is_open())
        co_return Result<void>{};
    co_return co_await locked_write(state, [&] { return state->socket.close(); });
}

}  // namespace eci
