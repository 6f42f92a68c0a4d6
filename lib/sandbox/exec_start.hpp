// SPDX-License-Identifier: Apache-2.0
// Starting an exec: the exec start slot, ExecContainerCommand, its WebSocketUri, and the exec
// WebSocket connected under a deadline, counted and logged. Every exec of the sandbox layer
// (run_exec, ShellSession, InteractiveExec) starts here, so the slot, the counters and the
// errors of a failed start are the same on every path.
#pragma once

#include <eci/async_sandbox.hpp>

#include "net/exec_websocket.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace eci::detail {

/// One exec to start.
struct ExecStartRequest {
    std::string sandbox_id;
    std::string container_name;  ///< required (see resolve_container_name)
    std::vector<std::string> argv;
    bool stdin = false;  ///< ExecContainerCommand's Stdin
    bool tty = false;
    /// CallOptions::idempotent of the ExecContainerCommand call: whether the API client may
    /// send it again after an unknown outcome.
    bool idempotent = false;
    /// The command travels on stdin (argv only reads it), so nothing of the caller's runs
    /// before the WebSocket connects: the start slot is taken once ExecContainerCommand has
    /// answered, and a failure after the call answered is Dispatch::not_sent (else unknown).
    bool command_on_stdin = false;
    /// false: the call only; its URLs are handed back and no WebSocket is connected
    /// (exec_command with ExecOptions::sync off).
    bool connect = true;
};

/// A started exec.
struct ExecStarted {
    std::string request_id;  ///< of the ExecContainerCommand call
    /// The reply's URLs, set only when ExecStartRequest::connect is off (the WebSocketUri
    /// holds the exec token: never log it).
    std::string websocket_url;
    std::string http_url;
};

/// How a start ended: the started exec, or the error and how far the start got.
struct ExecStartOutcome {
    Result<ExecStarted> started = ExecStarted{};
    /// On failure: ExecContainerCommand answered with a WebSocketUri, and the stream could not
    /// be opened with it (the slot, the connect or the upgrade failed or timed out). A command
    /// reports this as its stream broken before it began (Error::partial), which run_exec may
    /// run again; every failure before (the slot taken before the call, the call, a reply
    /// without a WebSocketUri) is final.
    bool stream_failed = false;
};

/// Starts `request`: takes one of the client's exec start slots
/// (RateLimitConfig::max_concurrent_exec_starts, waiting FIFO behind other starts), calls
/// ExecContainerCommand (bounded by `deadline`), connects `socket` to the reply's WebSocketUri
/// racing `deadline`, counts the connection (ClientStats::ws_connections, ws_tls_resumptions)
/// and logs it at debug with the sandbox, RequestId, endpoint and connect time. The slot is
/// held until the WebSocket is connected (or the start failed), never while the stream runs.
///
/// The slot is taken before the call when the command is in argv (its WebSocketUri must not
/// age while it waits; whether it ran without a connect is unknown) and after the call when it
/// travels on stdin, so a start whose call is throttled and backing off holds none; that wait is
/// then capped by exec_uri_slot_wait (the WebSocketUri in hand expires), and a start that waited
/// that long fails as not_sent. A wait counts in ClientStats::exec_start_waits.
///
/// Errors: the slot's wait: timeout (the deadline passed) or cancelled, dispatch not_sent,
/// "waiting for an exec start slot: ..."; those of ExecContainerCommand (with the call's
/// dispatch; unknown when it had none); protocol "ExecContainerCommand returned no
/// WebSocketUri"; the socket's connect errors (network, tls, protocol, timeout) and timeout
/// "timed out after N ms connecting the exec WebSocket" when `deadline` passed first. Every
/// error after the call answered carries its RequestId and dispatch not_sent when the command
/// is on stdin, else unknown.
/// Cancellation: terminal, through the awaiting coroutine's slot.
/// Lifetimes: `socket` must outlive the returned awaitable; on failure it is left unconnected.
boost::asio::awaitable<ExecStartOutcome> start_exec(std::shared_ptr<AsyncEciSandbox::State> state,
                                                    ExecStartRequest request, ExecWebSocket& socket,
                                                    std::chrono::steady_clock::time_point deadline);

/// The longest a start waits for its slot with a WebSocketUri in hand: the service's URI is
/// valid 30 s after the call (../shared/reference/eci-api.md), which leaves 10 s to connect.
inline constexpr std::chrono::seconds exec_uri_slot_wait{20};

}  // namespace eci::detail
