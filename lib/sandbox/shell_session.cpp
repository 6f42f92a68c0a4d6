// SPDX-License-Identifier: Apache-2.0
#include <eci/shell_session.hpp>

#include "api/state_access.hpp"
#include "async/async_semaphore.hpp"
#include "core/log.hpp"
#include "core/shell_session_protocol.hpp"
#include "core/shell_wrappers.hpp"
#include "net/exec_websocket.hpp"
#include "sandbox/exec_output.hpp"
#include "sandbox/exec_runner.hpp"
#include "sandbox/exec_start.hpp"
#include "sandbox/sandbox_state.hpp"
#include "sandbox/tmux_ops.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <variant>

namespace eci {
namespace asio = boost::asio;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

namespace detail {
namespace {

// One command in flight: the two stream framers, the visible output, and the timer its
// coroutine sleeps on until the reader has news.
struct ActiveCommand {
    ActiveCommand(asio::any_io_executor executor, const std::string& begin, const std::string& end,
                  const ExecOptions& options)
        : out(begin, end),
          err(begin, end),
          visible(options.max_output_bytes, forward_output(options)),
          wake(std::move(executor)) {}

    void on_output(ExecChannel channel, std::string_view bytes) {
        SessionStreamFramer& framer = channel == ExecChannel::stderr_ ? err : out;
        const auto passed = framer.feed(bytes);
        if (!passed.empty())
            visible.append(channel, passed);
    }
    bool done() const noexcept { return out.exit_code() && err.exit_code(); }
    bool begun() const noexcept { return out.begun() || err.begun(); }
    void notify() {
        notified = true;
        wake.cancel();
    }
    // What arrived so far, the held-back bytes of an unfinished stream included.
    void fill(CommandResult& result) {
        for (auto [channel, framer] :
             {std::pair{ExecChannel::stdout_, &out}, std::pair{ExecChannel::stderr_, &err}}) {
            const auto rest = framer->finish();
            if (!rest.empty())
                visible.append(channel, rest);
        }
        result.stdout_text = visible.stdout_text();
        result.stderr_text = visible.stderr_text();
        result.output = visible.combined_text();
        result.truncated = visible.truncated();
    }

    SessionStreamFramer out;
    SessionStreamFramer err;
    OutputCollector visible;
    asio::steady_timer wake;
    bool notified = false;
};

// One shell: its WebSocket and the reader coroutine that owns the read side. Frames go to
// the active command, or are dropped between commands.
struct ShellConnection {
    ShellConnection(asio::any_io_executor executor, asio::ssl::context& tls,
                    ExecWebSocketOptions options)
        : socket(std::move(executor), tls, std::move(options)) {}

    // Stops the reader (the socket closes with it) and marks the shell gone at once.
    void kill() {
        open = false;
        // Only while the reader runs: its handler is installed in the slot until then.
        if (reader_running)
            stop.emit(asio::cancellation_type::terminal);
    }
    void wake_waiters() {
        if (active != nullptr)
            active->notify();
        if (end_waiter != nullptr)
            end_waiter->cancel();
    }

    ExecWebSocket socket;
    asio::cancellation_signal stop;
    bool open = false;
    bool reader_running = false;
    /// The server closed with a close frame (the shell exited), as opposed to a drop.
    bool closed_by_server = false;
    std::string request_id;  ///< of the ExecContainerCommand that started this shell
    ActiveCommand* active = nullptr;
    asio::steady_timer* end_waiter = nullptr;  ///< close() waits on it for the reader's end
    std::uint64_t dropped_bytes = 0;
};

asio::awaitable<void> read_shell(std::shared_ptr<ShellConnection> connection) {
    for (;;) {
        auto event = co_await connection->socket.read();
        if (!event.ok())
            break;
        if (std::holds_alternative<ExecClosed>(*event)) {
            connection->closed_by_server = true;
            break;
        }
        auto& frame = std::get<ExecFrame>(*event);
        if (frame.channel != ExecChannel::stdout_ && frame.channel != ExecChannel::stderr_)
            continue;  // a status frame reports the shell's own exit: the close follows
        if (connection->active == nullptr) {
            connection->dropped_bytes += frame.payload.size();
            continue;
        }
        connection->active->on_output(frame.channel, frame.payload);
        if (connection->active->done())
            connection->active->notify();
    }
    connection->open = false;
    connection->reader_running = false;
    connection->wake_waiters();
}

// How one attempt on one connection ended.
enum class AttemptEnd {
    finished,     ///< the result (or a final error) is in `result`
    not_started,  ///< the shell was gone before the command began: safe to send again
    lost,         ///< the connection dropped after the command may have begun
};

struct Attempt {
    AttemptEnd end = AttemptEnd::finished;
    Result<CommandResult> result = CommandResult{};
};

}  // namespace
}  // namespace detail

struct ShellSession::State {
    State(std::shared_ptr<AsyncEciSandbox::State> client_in, std::string sandbox_id_in,
          std::string container_in, ShellSessionOptions options_in)
        : client(std::move(client_in)),
          sandbox_id(std::move(sandbox_id_in)),
          container_name(std::move(container_in)),
          options(std::move(options_in)),
          queue(1) {}
    ~State() {
        if (connection)
            connection->kill();
    }
    State(const State&) = delete;
    State& operator=(const State&) = delete;

    std::shared_ptr<AsyncEciSandbox::State> client;
    std::string sandbox_id;
    std::string container_name;
    ShellSessionOptions options;
    detail::AsyncSemaphore queue;  ///< one command at a time on the socket
    std::shared_ptr<detail::ShellConnection> connection;
    bool closed = false;
    ShellSessionStats stats;
};

namespace detail {
namespace {

using SessionState = ShellSession::State;

Error with_dispatch(Error error, Dispatch dispatch) {
    error.dispatch = dispatch;
    return error;
}

// Sends one command line on `connection` and waits for both end reports, the deadline, a
// cancellation or the end of the connection.
asio::awaitable<Attempt> run_once(std::shared_ptr<SessionState> state,
                                  std::shared_ptr<ShellConnection> connection, std::string script,
                                  ExecOptions options, steady_clock::time_point started,
                                  steady_clock::time_point deadline) {
    const std::string end_marker = new_exit_marker();
    const std::string begin_marker = session_begin_marker(end_marker);
    const std::string line = session_command_line(script, begin_marker, end_marker);
    auto executor = co_await asio::this_coro::executor;
    ActiveCommand command(executor, begin_marker, end_marker, options);
    connection->active = &command;
    struct Detach {
        ShellConnection& connection;
        ~Detach() { connection.active = nullptr; }
    } detach{*connection};

    CommandResult result;
    result.request_id = connection->request_id;
    auto finish_error = [&](Error error, Dispatch dispatch) {
        command.fill(result);
        result.duration = std::chrono::duration_cast<milliseconds>(steady_clock::now() - started);
        result.outcome = outcome_of_error(error.kind);
        result.dispatch = dispatch;
        result.exit_code =
            command.out.exit_code() ? command.out.exit_code() : command.err.exit_code();
        error.dispatch = dispatch;
        error.request_id = result.request_id;
        error.partial = std::make_shared<const CommandResult>(result);
        return error;
    };

    ++state->stats.commands;
    const auto sent_before = connection->socket.counters().bytes_sent;
    auto written = co_await connection->socket.write_stdin(line);
    if (!written.ok() && written.error().kind == ErrorKind::cancelled) {
        connection->kill();
        co_return Attempt{AttemptEnd::finished,
                          finish_error(std::move(written).error(), Dispatch::unknown)};
    }
    if (!written.ok() && connection->socket.counters().bytes_sent == sent_before) {
        // Not one frame of the line was written whole (the counter moves per frame), so the
        // server cannot have handed any of it to the shell: the command never started. This is
        // the usual end of a shell that died between commands when its close frame and our
        // write cross: the write fails and closes the socket before the reader sees the close.
        connection->kill();
        co_return Attempt{AttemptEnd::not_started, CommandResult{}};
    }
    // A write that failed after some frames went out is judged by what the reader saw: the
    // loop below ends with the connection.

    while (!command.done() && connection->open) {
        command.notified = false;
        command.wake.expires_at(deadline);
        auto [ec] = co_await command.wake.async_wait(asio::as_tuple(asio::use_awaitable));
        if (command.notified)
            continue;
        const Dispatch dispatch = command.begun() ? Dispatch::accepted : Dispatch::unknown;
        if (!ec || steady_clock::now() >= deadline) {
            connection->kill();
            auto error = Error::make(
                ErrorKind::timeout,
                fmt::format("command timed out after {} ms (the session's shell was dropped)",
                            options.effective_timeout().count()));
            co_return Attempt{AttemptEnd::finished, finish_error(std::move(error), dispatch)};
        }
        {  // the caller cancelled (a co_await would now throw: return without one)
            connection->kill();
            auto error = Error::make(ErrorKind::cancelled,
                                     "command was cancelled (the session's shell was dropped)");
            co_return Attempt{AttemptEnd::finished, finish_error(std::move(error), dispatch)};
        }
    }
    if (command.done()) {
        command.fill(result);
        result.exit_code = command.err.exit_code();
        result.duration = std::chrono::duration_cast<milliseconds>(steady_clock::now() - started);
        result.dispatch = Dispatch::accepted;
        classify_exit(result);
        co_return Attempt{AttemptEnd::finished, std::move(result)};
    }
    // The connection ended first. The begin line is printed before the command runs and the
    // service delivers a process's output before it closes the socket, so a close frame
    // without the begin line proves the command never started.
    if (!command.begun() && connection->closed_by_server)
        co_return Attempt{AttemptEnd::not_started, CommandResult{}};
    const Dispatch dispatch = command.begun() ? Dispatch::accepted : Dispatch::unknown;
    auto error =
        Error::make(ErrorKind::network,
                    command.begun() ? "the session's connection dropped during the command"
                                    : "the session's connection dropped as the command was sent");
    co_return Attempt{AttemptEnd::lost, finish_error(std::move(error), dispatch)};
}

// Starts a shell: ExecContainerCommand, the WebSocket, the reader, and a first no-op command
// that proves the shell answers. Errors carry Dispatch::not_sent (no user command was sent);
// `exited_early` says the shell's stream closed before it answered.
asio::awaitable<Result<void>> connect_shell_once(std::shared_ptr<SessionState> state,
                                                 steady_clock::time_point deadline,
                                                 bool& exited_early) {
    if (state->connection) {
        state->connection->kill();
        state->stats.dropped_bytes += state->connection->dropped_bytes;
    }
    state->connection.reset();
    const auto started = steady_clock::now();

    auto executor = co_await asio::this_coro::executor;
    auto connection = std::make_shared<ShellConnection>(executor, *state->client->ws_tls,
                                                        state->client->ws_options);
    ExecStartRequest start;
    start.sandbox_id = state->sandbox_id;
    start.container_name = state->container_name;
    start.argv = state->options.shell;
    start.stdin = true;
    // Starting a shell has no effect of its own: it may be retried after any failure, and no
    // failure of it ran anything of the caller's (not_sent).
    start.idempotent = true;
    start.command_on_stdin = true;
    auto begun = co_await start_exec(state->client, std::move(start), connection->socket, deadline);
    if (!begun.started.ok())
        co_return with_dispatch(std::move(begun.started).error(), Dispatch::not_sent);
    const std::string request_id = begun.started->request_id;
    connection->request_id = request_id;
    connection->open = true;
    connection->reader_running = true;
    asio::co_spawn(executor, read_shell(connection),
                   asio::bind_cancellation_slot(connection->stop.slot(), asio::detached));
    state->connection = connection;
    if (state->stats.connections++ > 0) {
        ++state->stats.reconnects;
        log(state->client->logger, LogLevel::debug,
            LogFields{.action = "exec", .sandbox_id = state->sandbox_id, .request_id = request_id},
            "shell session resumed on a new exec WebSocket (reconnect {})",
            state->stats.reconnects);
    }

    // The shell's first answer.
    auto probe_options = ExecOptions{};
    probe_options.max_output_bytes = 4096;
    auto probe =
        co_await run_once(state, connection, ":", std::move(probe_options), started, deadline);
    --state->stats.commands;  // the probe is not a user command
    if (probe.end == AttemptEnd::finished && probe.result.ok() && probe.result->exit_code == 0)
        co_return Result<void>{};
    connection->kill();
    Error error =
        probe.result.ok()
            ? Error::make(ErrorKind::protocol, fmt::format("the session's shell did not start ({})",
                                                           probe.result->output.substr(0, 200)))
            : std::move(probe.result).error();
    if (!probe.result.ok() && probe.result.error().kind == ErrorKind::timeout) {
        // The probe ran under the open deadline, not a command timeout: say which one passed
        // (its own message would name the probe's unused 600 s command timeout).
        error =
            Error::make(ErrorKind::timeout,
                        fmt::format("the session's shell did not answer before the open deadline "
                                    "(open_timeout {} ms)",
                                    state->options.open_timeout.count()));
    }
    if (probe.end == AttemptEnd::not_started) {
        exited_early = true;
        error = Error::make(ErrorKind::protocol,
                            "the session's shell exited at once (is the shell installed?)");
    }
    error.partial.reset();
    error.request_id = request_id;
    co_return with_dispatch(std::move(error), Dispatch::not_sent);
}

// connect_shell_once until it succeeds, a failure says trying again is pointless, or
// `deadline` passes: a start runs nothing of the caller's, so a transient failure (a throttled
// ExecContainerCommand, a WebSocket dropped during the probe) must not fail the open.
asio::awaitable<Result<void>> connect_shell(std::shared_ptr<SessionState> state,
                                            steady_clock::time_point deadline) {
    int early_exits = 0;
    milliseconds pause(100);
    for (;;) {
        bool exited_early = false;
        auto connected = co_await connect_shell_once(state, deadline, exited_early);
        if (connected.ok())
            co_return connected;
        if (exited_early)
            ++early_exits;
        if (!shell_start_retryable(connected.error(), exited_early, early_exits) ||
            steady_clock::now() + pause >= deadline)
            co_return connected;
        asio::steady_timer timer(co_await asio::this_coro::executor, pause);
        auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
        if (ec)
            co_return connected;  // cancelled
        ++state->stats.start_retries;
        pause = std::min(pause * 2, milliseconds(2000));
    }
}

}  // namespace
}  // namespace detail

ShellSession::ShellSession(std::shared_ptr<State> state) : state_(std::move(state)) {}

asio::awaitable<Result<ShellSession>> ShellSession::open(AsyncSandbox sandbox,
                                                         ShellSessionOptions options) {
    if (options.shell.empty())
        co_return Error::make(ErrorKind::invalid_argument, "the session's shell is empty");
    std::string container =
        options.container_name.empty() ? sandbox.container_name() : options.container_name;
    auto client_state = detail::StateAccess::state(sandbox.client());
    auto resolved =
        co_await detail::resolve_container_name(client_state, sandbox.id(), std::move(container));
    if (!resolved.ok())
        co_return std::move(resolved).error();
    auto state = std::make_shared<State>(std::move(client_state), sandbox.id(),
                                         std::move(resolved).value(), std::move(options));
    const auto deadline = steady_clock::now() + state->options.open_timeout;
    auto connected = co_await detail::connect_shell(state, deadline);
    if (!connected.ok())
        co_return std::move(connected).error();
    co_return ShellSession(std::move(state));
}

namespace {

// ShellSession::run. `state` keeps the session alive while the command is queued or running.
asio::awaitable<Result<CommandResult>> run_in_session(std::shared_ptr<ShellSession::State> state,
                                                      std::string command, ExecOptions options) {
    const auto started = steady_clock::now();
    const auto deadline = started + options.effective_timeout();
    if (command.empty())
        co_return Error::make(ErrorKind::invalid_argument, "command is required");
    if (state->closed)
        co_return Error::make(ErrorKind::invalid_argument, "the shell session is closed");

    auto slot = co_await state->queue.acquire(deadline);
    if (!slot.ok()) {
        auto error = std::move(slot).error();
        error.message = fmt::format("shell session command: {}", error.message);
        co_return detail::with_dispatch(std::move(error), Dispatch::not_sent);
    }
    detail::SemaphorePermit permit(state->queue);

    const std::string script = detail::with_exec_dir(command, options.exec_dir);
    // One extra attempt: on a fresh shell when the old one was gone before the command began,
    // or (idempotent commands only) after a drop mid-command.
    for (int attempt = 1;; ++attempt) {
        if (!state->connection || !state->connection->open) {
            if (state->connection && !state->options.reconnect) {
                co_return detail::with_dispatch(
                    Error::make(ErrorKind::network,
                                "the session's shell is gone and reconnect is off"),
                    Dispatch::not_sent);
            }
            const auto connect_deadline =
                std::min(deadline, steady_clock::now() + state->options.open_timeout);
            auto connected = co_await detail::connect_shell(state, connect_deadline);
            if (!connected.ok())
                co_return std::move(connected).error();
        }
        auto outcome =
            co_await detail::run_once(state, state->connection, script, options, started, deadline);
        const bool again =
            attempt == 1 && (outcome.end == detail::AttemptEnd::not_started ||
                             (outcome.end == detail::AttemptEnd::lost && options.idempotent));
        if (!again) {
            if (outcome.end == detail::AttemptEnd::not_started) {
                co_return detail::with_dispatch(
                    Error::make(ErrorKind::network,
                                "the session's shell exited before the command began, twice"),
                    Dispatch::not_sent);
            }
            co_return std::move(outcome.result);
        }
    }
}

// The fields of ShellRunOptions, in the ExecOptions the session's machinery reads (the
// others keep their defaults, which a session never reads).
ExecOptions as_exec_options(ShellRunOptions options) {
    ExecOptions exec;
    exec.timeout = options.timeout;
    exec.max_output_bytes = options.max_output_bytes;
    exec.on_output = std::move(options.on_output);
    exec.idempotent = options.idempotent;
    exec.exec_dir = std::move(options.exec_dir);
    return exec;
}

}  // namespace

asio::awaitable<Result<CommandResult>> ShellSession::run(std::string command,
                                                         ShellRunOptions options) {
    return run_in_session(state_, std::move(command), as_exec_options(std::move(options)));
}

asio::awaitable<Result<CommandResult>> ShellSession::run(std::string command, ExecOptions options) {
    return run_in_session(state_, std::move(command), std::move(options));
}

asio::awaitable<Result<void>> ShellSession::close() {
    auto state = state_;
    if (state->closed)
        co_return Result<void>{};
    const auto deadline = steady_clock::now() + state->options.close_timeout;
    state->closed = true;  // refuse new commands; queued ones still run
    auto slot = co_await state->queue.acquire(std::nullopt);
    if (!slot.ok())
        co_return std::move(slot).error();
    detail::SemaphorePermit permit(state->queue);
    auto connection = state->connection;
    if (!connection)
        co_return Result<void>{};
    if (connection->open) {
        // The polite way: the shell exits, the service closes the socket behind it.
        auto executor = co_await asio::this_coro::executor;
        asio::steady_timer waiter(executor, deadline);
        connection->end_waiter = &waiter;
        struct Unhook {
            detail::ShellConnection& connection;
            ~Unhook() { connection.end_waiter = nullptr; }
        } unhook{*connection};
        auto written = co_await connection->socket.write_stdin(detail::session_exit_line());
        while (written.ok() && connection->reader_running && steady_clock::now() < deadline) {
            auto [ec] = co_await waiter.async_wait(asio::as_tuple(asio::use_awaitable));
            if (ec && connection->reader_running)
                break;  // cancelled by the caller
        }
    }
    connection->kill();
    state->connection.reset();
    // Not a nested co_await: after a cancellation that would throw.
    auto cancellation = co_await asio::this_coro::cancellation_state;
    if (cancellation.cancelled() != asio::cancellation_type::none)
        co_return Error::make(ErrorKind::cancelled, "closing the shell session was cancelled");
    co_return Result<void>{};
}

bool ShellSession::connected() const noexcept {
    return state_->connection && state_->connection->open;
}

ShellSessionStats ShellSession::stats() const noexcept {
    ShellSessionStats stats = state_->stats;
    if (state_->connection)
        stats.dropped_bytes += state_->connection->dropped_bytes;
    return stats;
}

const std::string& ShellSession::sandbox_id() const noexcept {
    return state_->sandbox_id;
}

// ---- the tmux jobs through this session ----

namespace {

// The job runs in the session's container: empty means it, another name is refused.
Result<void> use_session_container(std::string& container, const std::string& session_container) {
    if (!container.empty() && container != session_container)
        return Error::make(ErrorKind::invalid_argument,
                           fmt::format("the shell session runs in container {}, not {}",
                                       session_container, container));
    container = session_container;
    return {};
}

}  // namespace

asio::awaitable<Result<std::string>> ShellSession::tmux_start(std::string command,
                                                              TmuxStartOptions options) {
    ShellSession self = *this;  // the session outlives the job: this frame holds it
    if (auto same = use_session_container(options.container_name, state_->container_name); !same)
        co_return std::move(same).error();
    co_return co_await detail::tmux_start_op(state_->client, state_->sandbox_id, std::move(command),
                                             std::move(options), &self);
}

asio::awaitable<Result<TmuxPollResult>> ShellSession::tmux_poll(std::string session_id,
                                                                TmuxPollOptions options) {
    ShellSession self = *this;
    if (auto same = use_session_container(options.container_name, state_->container_name); !same)
        co_return std::move(same).error();
    co_return co_await detail::tmux_poll_op(state_->client, state_->sandbox_id,
                                            std::move(session_id), std::move(options), &self);
}

asio::awaitable<Result<TmuxPollResult>> ShellSession::tmux_wait(std::string session_id,
                                                                TmuxWaitOptions options) {
    ShellSession self = *this;
    if (auto same = use_session_container(options.container_name, state_->container_name); !same)
        co_return std::move(same).error();
    co_return co_await detail::tmux_wait_op(state_->client, state_->sandbox_id,
                                            std::move(session_id), std::move(options), &self);
}

}  // namespace eci
