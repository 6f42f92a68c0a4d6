// SPDX-License-Identifier: Apache-2.0
#include "sandbox/exec_start.hpp"

#include "api/exec_counters.hpp"
#include "async/async_semaphore.hpp"
#include "core/log.hpp"
#include "sandbox/sandbox_state.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <optional>

namespace eci::detail {
namespace asio = boost::asio;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

namespace {

// Takes one exec start slot, waiting until `deadline` (capped by exec_uri_slot_wait once a
// WebSocketUri is in hand, `after_call`). Errors: timeout, cancelled; dispatch not_sent.
asio::awaitable<Result<SemaphorePermit>> acquire_start_slot(
    std::shared_ptr<AsyncEciSandbox::State> state, steady_clock::time_point deadline,
    bool after_call) {
    if (after_call)
        deadline = std::min(deadline, steady_clock::now() + exec_uri_slot_wait);
    auto waited = co_await state->exec_starts->acquire(deadline);
    if (!waited.ok()) {
        auto error = std::move(waited).error();
        error.message = fmt::format("waiting for an exec start slot: {}", error.message);
        error.dispatch = Dispatch::not_sent;
        co_return error;
    }
    if (*waited)
        count_exec_start_wait(state->api);
    co_return SemaphorePermit(*state->exec_starts);
}

// Counts the connected `socket` and logs it (the endpoint only, host:port: the URL's query is
// the exec token).
void count_connection(const AsyncEciSandbox::State& state, const ExecWebSocket& socket,
                      std::string_view sandbox_id, std::string_view request_id,
                      steady_clock::time_point connect_started) {
    const bool resumed = socket.counters().tls_resumptions > 0;
    count_exec_websocket(state.api, resumed);
    if (!state.logger.enabled(LogLevel::debug))
        return;
    log(state.logger, LogLevel::debug,
        LogFields{.action = "exec",
                  .sandbox_id = sandbox_id,
                  .request_id = request_id,
                  .latency = std::chrono::duration_cast<std::chrono::microseconds>(
                      steady_clock::now() - connect_started),
                  .endpoint = socket.endpoint()},
        "exec WebSocket connected to {}{}", socket.endpoint(),
        resumed ? " (TLS session resumed)" : "");
}

}  // namespace

asio::awaitable<ExecStartOutcome> start_exec(std::shared_ptr<AsyncEciSandbox::State> state,
                                             ExecStartRequest request, ExecWebSocket& socket,
                                             steady_clock::time_point deadline) {
    // Held until the WebSocket is connected (or the start failed).
    std::optional<SemaphorePermit> slot;
    if (!request.command_on_stdin || !request.connect) {
        auto acquired = co_await acquire_start_slot(state, deadline, false);
        if (!acquired.ok())
            co_return ExecStartOutcome{std::move(acquired).error()};
        slot.emplace(std::move(acquired).value());
    }

    ExecContainerCommandRequest call_request;
    call_request.container_group_id = request.sandbox_id;
    call_request.container_name = request.container_name;
    call_request.command = std::move(request.argv);
    call_request.tty = request.tty;
    call_request.stdin = request.stdin;
    call_request.sync = false;
    CallOptions call;
    call.deadline = std::max(
        std::chrono::duration_cast<milliseconds>(deadline - steady_clock::now()), milliseconds(1));
    call.idempotent = request.idempotent;
    auto reply = co_await state->api.exec_container_command(std::move(call_request), call);
    if (!reply.ok()) {
        auto error = std::move(reply).error();
        if (error.dispatch == Dispatch::not_applicable)
            error.dispatch = Dispatch::unknown;
        co_return ExecStartOutcome{std::move(error)};
    }

    ExecStarted started;
    started.request_id = reply->request_id;
    if (!request.connect) {
        started.websocket_url = std::move(reply->web_socket_uri);
        started.http_url = std::move(reply->http_url);
        co_return ExecStartOutcome{std::move(started)};
    }
    const Dispatch before_stream =
        request.command_on_stdin ? Dispatch::not_sent : Dispatch::unknown;
    auto failed = [&](Error error, bool stream_failed) {
        error.request_id = started.request_id;
        error.dispatch = before_stream;
        return ExecStartOutcome{std::move(error), stream_failed};
    };
    if (reply->web_socket_uri.empty()) {
        co_return failed(
            Error::make(ErrorKind::protocol, "ExecContainerCommand returned no WebSocketUri"),
            false);
    }
    if (!slot) {
        auto acquired = co_await acquire_start_slot(state, deadline, true);
        if (!acquired.ok())
            co_return failed(std::move(acquired).error(), true);
        slot.emplace(std::move(acquired).value());
    }

    auto executor = co_await asio::this_coro::executor;
    asio::steady_timer connect_timer(executor, deadline);
    const auto connect_started = steady_clock::now();
    using namespace asio::experimental::awaitable_operators;
    auto connected = co_await (socket.connect(reply->web_socket_uri) ||
                               connect_timer.async_wait(asio::as_tuple(asio::use_awaitable)));
    if (connected.index() == 1) {
        co_return failed(
            Error::make(ErrorKind::timeout,
                        fmt::format("timed out after {} ms connecting the exec WebSocket",
                                    std::chrono::duration_cast<milliseconds>(steady_clock::now() -
                                                                             connect_started)
                                        .count())),
            true);
    }
    if (auto& outcome = std::get<0>(connected); !outcome.ok())
        co_return failed(std::move(outcome).error(), true);
    count_connection(*state, socket, request.sandbox_id, started.request_id, connect_started);
    co_return ExecStartOutcome{std::move(started)};
}

}  // namespace eci::detail
