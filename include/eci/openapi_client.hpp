// SPDX-License-Identifier: Apache-2.0
// eci::OpenApiClient: the signed, pooled, retrying client of the ECI OpenAPI (2018-08-08).
#pragma once

#include <eci/config.hpp>
#include <eci/latency_histogram.hpp>
#include <eci/logger.hpp>
#include <eci/models.hpp>
#include <eci/result.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

namespace eci {

namespace detail {
struct StateAccess;
}

/// Options that travel with one call.
struct CallOptions {
    /// Deadline for the whole call, retries and backoff included. Default 0 = the client's
    /// `RetryConfig::overall_deadline`. Each attempt is also bounded by `TimeoutConfig::read`.
    std::chrono::milliseconds deadline{0};
    /// false: exactly one attempt, whatever the retry policy says. Default true.
    bool allow_retry = true;
    /// Only for ExecContainerCommand: the command may run twice without harm, so the call may be
    /// retried even after an unknown outcome (a reset or timeout after the request was sent).
    /// Default false: an exec is retried only when the service refused it or it was never sent.
    bool idempotent = false;
};

/// What the client has spent so far. Counters only grow.
struct ClientStats {
    std::map<std::string, std::uint64_t, std::less<>> api_calls;  ///< attempts sent, per action
    std::uint64_t retries = 0;    ///< attempts after the first, over all actions
    std::uint64_t throttled = 0;  ///< replies that were a throttling error
    /// ECS RAM-role credentials fetched from the metadata service (0 with static keys).
    std::uint64_t credential_fetches = 0;
    std::uint64_t tls_handshakes = 0;  ///< completed TLS handshakes (API connections)
    /// Of tls_handshakes, those that resumed an earlier TLS session (no certificate exchange).
    std::uint64_t tls_resumptions = 0;
    std::uint64_t connections_opened = 0;  ///< TCP connections opened for API calls
    std::uint64_t ws_connections = 0;      ///< exec WebSocket connections opened
    /// Of ws_connections, those whose TLS handshake resumed an earlier session.
    std::uint64_t ws_tls_resumptions = 0;
    /// Exec starts that waited for a slot under RateLimitConfig::max_concurrent_exec_starts.
    std::uint64_t exec_start_waits = 0;
    std::uint64_t bytes_sent = 0;  ///< on API connections, HTTP framing included
    std::uint64_t bytes_received = 0;
    /// Attempts that waited for their action's client-side rate limit (RateLimitConfig).
    std::uint64_t rate_limited_waits = 0;
    /// Total time attempts spent waiting for the rate limit.
    std::chrono::microseconds rate_limited_wait_time{0};
    /// Calls that waited for a slot under RateLimitConfig::max_concurrent.
    std::uint64_t concurrency_waits = 0;
    /// How long each call took, per action, from its start to its final result (rate-limit
    /// waits, every attempt and backoff included), successes and failures alike.
    std::map<std::string, LatencyHistogram, std::less<>> api_latency{};
    /// Of api_latency, the calls that failed, per action.
    std::map<std::string, std::uint64_t, std::less<>> api_failures{};

    /// Attempts sent over all actions.
    std::uint64_t total_api_calls() const noexcept;
};

/// The ECI OpenAPI over HTTPS: signs every call (ACS3-HMAC-SHA256 by default, RPC HMAC-SHA1 as
/// an option), sends it on a keep-alive connection pool shared by every coroutine on the
/// executor, parses the reply into the typed models, maps service errors to eci::Error and
/// retries what is safe to retry (throttling, 5xx, ServiceUnavailable, connection failures)
/// with exponential backoff and full jitter under an overall deadline. Throttling seen by any
/// call makes every call on this client wait before sending (one shared gate), so a storm backs
/// off together.
///
/// Retry safety per action: reads (Describe*), deletes, and creates and restarts (each carries a
/// ClientToken, generated when the request has none, reused by every attempt) are retried
/// freely; ExecContainerCommand only after an explicit refusal by the service or when the
/// request never left this process, unless `CallOptions::idempotent` says otherwise.
///
/// Errors: every method returns an eci::Error instead of throwing: its kind, the service's
/// Code and Message, RequestId and HTTP status, and the endpoint.
/// Cancellation: every method honours terminal cancellation of the awaiting coroutine
/// (e.g. `co_spawn` with a bound cancellation slot, or `||` from awaitable_operators): the call
/// returns promptly with ErrorKind::cancelled and the connection it used is closed.
/// Lifetimes: the client is a cheap handle to shared state; a call in flight keeps that state
/// alive, so the handle may be destroyed before the call completes.
/// Thread safety: use one client from one executor (an io_context run by one thread, or a
/// strand). Copies share the pool and the counters.
class OpenApiClient {
  public:
    /// Builds the client: TLS context (system store plus `tls.ca_file`), pool, retry policy.
    /// Errors: invalid_argument for an unreadable CA file or an invalid configuration.
    static Result<OpenApiClient> create(boost::asio::any_io_executor executor, ClientConfig config,
                                        Logger logger = {});

    boost::asio::awaitable<Result<CreateContainerGroupResponse>> create_container_group(
        CreateContainerGroupRequest request, CallOptions options = {});
    boost::asio::awaitable<Result<DescribeContainerGroupsResponse>> describe_container_groups(
        DescribeContainerGroupsRequest request, CallOptions options = {});
    boost::asio::awaitable<Result<DeleteContainerGroupResponse>> delete_container_group(
        DeleteContainerGroupRequest request, CallOptions options = {});
    boost::asio::awaitable<Result<RestartContainerGroupResponse>> restart_container_group(
        RestartContainerGroupRequest request, CallOptions options = {});
    /// Errors carry `dispatch`: refused (the service answered with an error, nothing ran),
    /// not_sent, accepted never appears on an error, unknown (sent, reply lost).
    boost::asio::awaitable<Result<ExecContainerCommandResponse>> exec_container_command(
        ExecContainerCommandRequest request, CallOptions options = {});
    boost::asio::awaitable<Result<DescribeContainerLogResponse>> describe_container_log(
        DescribeContainerLogRequest request, CallOptions options = {});

    /// A snapshot of the counters.
    ClientStats stats() const;
    const ClientConfig& config() const noexcept;
    boost::asio::any_io_executor get_executor() const noexcept;

    struct State;  ///< defined in lib/api; the pool, the TLS context, the counters; opaque

  private:
    friend struct detail::StateAccess;  // the library's layers (lib/api/state_access.hpp)
    explicit OpenApiClient(std::shared_ptr<State> state);
    std::shared_ptr<State> state_;
};

}  // namespace eci
