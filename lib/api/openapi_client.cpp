// SPDX-License-Identifier: Apache-2.0
#include <eci/openapi_client.hpp>

#include "api/openapi_state.hpp"
#include "api/rpc_call.hpp"
#include "api/typed_call.hpp"
#include "core/actions.hpp"
#include "core/crypto.hpp"
#include "core/log.hpp"
#include "core/models_json.hpp"
#include "core/signing.hpp"

#include <fmt/format.h>

namespace eci {
namespace asio = boost::asio;
using detail::RetrySafety;

namespace detail {

HttpClientOptions http_options_for(const ClientConfig& config) {
    HttpClientOptions options;
    options.scheme = config.endpoint.scheme;
    options.host = config.endpoint.host;
    options.port = config.endpoint.effective_port();
    options.verify_peer = config.tls.verify_peer;
    options.ca_file = config.tls.ca_file;
    // HTTPS_PROXY applies to TLS endpoints only (a plain-HTTP emulator is always local).
    // NO_PROXY is the dialer's to apply, for the endpoint's host (plan_dial).
    if (config.endpoint.uses_tls()) {
        options.proxy_url = config.proxy.https_proxy;
        options.no_proxy = config.proxy.no_proxy;
    }
    options.connect_timeout = config.timeouts.connect;
    options.read_timeout = config.timeouts.read;
    options.max_connections = config.pool.max_connections_per_endpoint;
    options.idle_timeout = config.pool.idle_timeout;
    options.max_body_bytes = config.max_response_body_bytes;
    return options;
}

namespace {

RetryPolicy retry_policy_for(const RetryConfig& config) {
    RetryPolicy policy;
    policy.enabled = config.enabled;
    policy.max_attempts = config.max_attempts;
    policy.initial_backoff = config.initial_backoff;
    policy.max_backoff = config.max_backoff;
    policy.multiplier = config.multiplier;
    policy.overall_deadline = config.overall_deadline;
    return policy;
}

ThrottleGateOptions throttle_gate_options_for(const RetryConfig& config) {
    ThrottleGateOptions options;
    options.initial_backoff = config.throttle_initial_backoff;
    options.max_backoff = config.throttle_max_backoff;
    return options;
}

// One ClientToken per logical call, reused by every retry of it: the service then returns the
// first result instead of acting twice.
std::string ensure_client_token(std::string token) {
    if (!token.empty())
        return token;
    auto random = random_hex(16);
    return random.ok() ? std::move(random).value() : std::string();
}

// The call itself, once the params are made (a coroutine: it owns its arguments).
template <class Request, class Response = typename Action<Request>::Response>
asio::awaitable<Result<Response>> send_typed(std::shared_ptr<OpenApiClient::State> state,
                                             Params params, CallOptions options) {
    constexpr const ActionDescription& action = Action<Request>::description;
    Response response{};
    const ReplyReader reader{[](std::string_view body, void* out) -> Result<std::string_view> {
                                 auto parsed = parse_reply<Response>(body);
                                 if (!parsed.ok())
                                     return std::move(parsed).error();
                                 auto& typed = *static_cast<Response*>(out);
                                 typed = std::move(parsed).value();
                                 return std::string_view(typed.request_id);
                             },
                             &response};
    auto done = co_await rpc_call(std::move(state), std::string(action.name), std::move(params),
                                  action.retry, options, reader);
    if (!done.ok())
        co_return std::move(done).error();
    co_return std::move(response);
}

}  // namespace

// Not a coroutine: the params and the ClientToken are made when the call is made, before the
// awaitable is first awaited, as the typed methods always did.
template <class Request>
asio::awaitable<Result<typename Action<Request>::Response>> typed_call(
    std::shared_ptr<OpenApiClient::State> state, Request request, CallOptions options) {
    constexpr const ActionDescription& action = Action<Request>::description;
    if constexpr (requires { request.client_token; }) {
        if (action.generates_client_token)
            request.client_token = ensure_client_token(std::move(request.client_token));
    }
    auto params = to_params(request, state->config.region_id);
    return send_typed<Request>(std::move(state), std::move(params), options);
}

#define ECI_TYPED_CALL(Request)                                                      \
    template asio::awaitable<Result<Action<Request>::Response>> typed_call<Request>( \
        std::shared_ptr<OpenApiClient::State>, Request, CallOptions);
ECI_FOR_EACH_ACTION(ECI_TYPED_CALL)
#undef ECI_TYPED_CALL

}  // namespace detail

OpenApiClient::State::State(asio::any_io_executor executor_in, ClientConfig config_in,
                            Logger logger_in, detail::HttpClient http_in,
                            std::shared_ptr<detail::CredentialsProvider> credentials_in)
    : executor(std::move(executor_in)),
      config(std::move(config_in)),
      logger(std::move(logger_in)),
      http(std::move(http_in)),
      retry_policy(detail::retry_policy_for(config.retry)),
      throttle_gate(detail::throttle_gate_options_for(config.retry)),
      rate_limiter(config.rate_limit),
      call_slots(config.rate_limit.max_concurrent),
      host_header(config.endpoint.authority()),
      random(std::random_device{}()),
      credentials(std::move(credentials_in)) {}

std::uint64_t ClientStats::total_api_calls() const noexcept {
    std::uint64_t total = 0;
    for (const auto& [action, count] : api_calls)
        total += count;
    return total;
}

OpenApiClient::OpenApiClient(std::shared_ptr<State> state) : state_(std::move(state)) {}

Result<OpenApiClient> OpenApiClient::create(asio::any_io_executor executor, ClientConfig config,
                                            Logger logger) {
    if (auto valid = validate_config(config); !valid.ok())
        return std::move(valid).error();
    if (!config.tls.verify_peer) {
        // Said at every creation, so it cannot scroll away unnoticed in a long-lived program.
        detail::log(logger, LogLevel::warn,
                    "TLS peer verification is OFF (TlsConfig::verify_peer = false): any server "
                    "can impersonate {} and read the signed requests; use only against a local "
                    "emulator",
                    config.endpoint.host);
    }
    auto http = detail::HttpClient::create(executor, detail::http_options_for(config));
    if (!http.ok())
        return std::move(http).error();
    auto credentials = detail::CredentialsProvider::create(executor, config, logger);
    if (!credentials.ok())
        return std::move(credentials).error();
    return OpenApiClient(std::make_shared<State>(std::move(executor), std::move(config),
                                                 std::move(logger), std::move(http).value(),
                                                 std::move(credentials).value()));
}

// The typed methods: one generic call each (api/typed_call.hpp, core/actions.hpp).
asio::awaitable<Result<CreateContainerGroupResponse>> OpenApiClient::create_container_group(
    CreateContainerGroupRequest request, CallOptions options) {
    return detail::typed_call(state_, std::move(request), options);
}

asio::awaitable<Result<DescribeContainerGroupsResponse>> OpenApiClient::describe_container_groups(
    DescribeContainerGroupsRequest request, CallOptions options) {
    return detail::typed_call(state_, std::move(request), options);
}

asio::awaitable<Result<DeleteContainerGroupResponse>> OpenApiClient::delete_container_group(
    DeleteContainerGroupRequest request, CallOptions options) {
    return detail::typed_call(state_, std::move(request), options);
}

asio::awaitable<Result<RestartContainerGroupResponse>> OpenApiClient::restart_container_group(
    RestartContainerGroupRequest request, CallOptions options) {
    return detail::typed_call(state_, std::move(request), options);
}

asio::awaitable<Result<ExecContainerCommandResponse>> OpenApiClient::exec_container_command(
    ExecContainerCommandRequest request, CallOptions options) {
    return detail::typed_call(state_, std::move(request), options);
}

asio::awaitable<Result<DescribeContainerLogResponse>> OpenApiClient::describe_container_log(
    DescribeContainerLogRequest request, CallOptions options) {
    return detail::typed_call(state_, std::move(request), options);
}

ClientStats OpenApiClient::stats() const {
    ClientStats snapshot = state_->stats;
    const auto& http = state_->http.stats();
    snapshot.tls_handshakes = http.tls_handshakes;
    snapshot.tls_resumptions = http.tls_resumptions;
    snapshot.connections_opened = http.connections_opened;
    snapshot.bytes_sent = http.bytes_sent;
    snapshot.bytes_received = http.bytes_received;
    snapshot.credential_fetches = state_->credentials->fetches();
    return snapshot;
}

const ClientConfig& OpenApiClient::config() const noexcept {
    return state_->config;
}

asio::any_io_executor OpenApiClient::get_executor() const noexcept {
    return state_->executor;
}

}  // namespace eci
