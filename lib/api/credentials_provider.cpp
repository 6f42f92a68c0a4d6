// SPDX-License-Identifier: Apache-2.0
#include "api/credentials_provider.hpp"

#include "core/log.hpp"
#include "core/redact.hpp"
#include "core/signing.hpp"
#include "core/time_format.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>

namespace eci::detail {

namespace asio = boost::asio;
using std::chrono::steady_clock;
using std::chrono::system_clock;

SigningCredentials::SigningCredentials(Credentials credentials_in, SignatureVersion version)
    : credentials(std::move(credentials_in)),
      mac(version == SignatureVersion::rpc_v2
              ? HmacKey(HmacAlgorithm::sha1, rpc_signing_key(credentials.access_key_secret))
              : HmacKey(HmacAlgorithm::sha256, credentials.access_key_secret)) {}

Result<std::shared_ptr<CredentialsProvider>> CredentialsProvider::create(
    asio::any_io_executor executor, const ClientConfig& config, Logger logger) {
    if (config.credential_source != CredentialSource::ecs_ram_role) {
        return std::make_shared<CredentialsProvider>(std::move(executor), config, std::move(logger),
                                                     std::nullopt, std::string());
    }
    auto endpoint = parse_metadata_endpoint(config.ecs_metadata.endpoint);
    if (!endpoint)
        return std::move(endpoint).error();
    HttpClientOptions options;
    options.scheme = "http";
    options.host = endpoint->host;
    options.port = endpoint->port;
    // No proxy, ever: the service is link-local to the instance, and a proxy would see the
    // credentials in the clear (docs/configuration.md, "ECS RAM role").
    options.proxy_url.clear();
    options.connect_timeout = config.ecs_metadata.timeout;
    options.read_timeout = config.ecs_metadata.timeout;
    options.acquire_timeout = config.ecs_metadata.timeout;
    options.max_connections = 2;
    // Fetches are hours apart: keep a connection only across one fetch's requests.
    options.idle_timeout = std::chrono::seconds(2);
    options.max_body_bytes = 64 * 1024;
    auto http = HttpClient::create(executor, std::move(options));
    if (!http)
        return std::move(http).error();
    Endpoint display_endpoint;
    display_endpoint.scheme = "http";
    display_endpoint.host = endpoint->host;
    display_endpoint.port = endpoint->port;
    return std::make_shared<CredentialsProvider>(
        std::move(executor), config, std::move(logger), std::move(*http),
        fmt::format("http://{}", display_endpoint.authority()));
}

CredentialsProvider::CredentialsProvider(asio::any_io_executor executor, const ClientConfig& config,
                                         Logger logger, std::optional<HttpClient> http,
                                         std::string display)
    : signature_version_(config.signature_version),
      metadata_(config.ecs_metadata),
      logger_(std::move(logger)),
      http_(std::move(http)),
      display_(std::move(display)),
      role_(config.ecs_metadata.role_name),
      fetch_done_(executor, steady_clock::time_point::max()) {
    if (!http_) {
        current_ = std::make_shared<const SigningCredentials>(config.credentials,
                                                              config.signature_version);
        schedule_ = {steady_clock::time_point::max(), steady_clock::time_point::max()};
    }
}

Error CredentialsProvider::failure(ErrorKind kind, std::string what) const {
    auto error = Error::make(kind, fmt::format("ECS RAM role credentials from the metadata "
                                               "service at {}: {}",
                                               display_, what));
    error.dispatch = Dispatch::not_sent;
    return error;
}

asio::awaitable<Result<HttpResponse>> CredentialsProvider::exchange(HttpRequest request) {
    auto sent = co_await http_->send(std::move(request));
    if (!sent) {
        const Error& error = sent.error();
        if (error.kind == ErrorKind::cancelled)
            co_return error;
        // The transport's message names host:port and the phase; it never holds a header.
        co_return failure(error.kind, error.kind == ErrorKind::timeout
                                          ? fmt::format("no answer within {} ms ({})",
                                                        metadata_.timeout.count(), error.message)
                                          : fmt::format("unreachable ({})", error.message));
    }
    co_return std::move(sent);
}

asio::awaitable<Result<RoleCredentials>> CredentialsProvider::fetch() {
    // IMDSv2: a session token first; IMDSv1 (no token) only when the service refuses to
    // give one and the fallback is allowed.
    std::string token;
    {
        HttpRequest request;
        request.method = "PUT";
        request.target = std::string(metadata_token_path);
        request.headers = {
            {std::string(metadata_token_ttl_header), std::to_string(metadata_.token_ttl.count())}};
        auto answered = co_await exchange(std::move(request));
        if (!answered)
            co_return std::move(answered).error();
        if (answered->status == 200 && !answered->body.empty()) {
            token = std::move(answered->body);
        } else if (metadata_.imdsv1_disabled) {
            co_return failure(ErrorKind::auth,
                              fmt::format("the session token request (IMDSv2) got HTTP {} and "
                                          "the IMDSv1 fallback is disabled "
                                          "(ALIBABA_CLOUD_IMDSV1_DISABLED)",
                                          answered->status));
        } else {
            log(logger_, LogLevel::debug,
                "ECS metadata: no IMDSv2 session token (HTTP {}); asking without one (IMDSv1)",
                answered->status);
        }
    }
    auto get_path = [this, &token](std::string target) {
        HttpRequest request;
        request.method = "GET";
        request.target = std::move(target);
        request.idempotent = true;
        if (!token.empty())
            request.headers.emplace_back(std::string(metadata_token_header), token);
        return exchange(std::move(request));
    };
    if (role_.empty()) {
        auto listed = co_await get_path(std::string(security_credentials_path));
        if (!listed)
            co_return std::move(listed).error();
        if (listed->status == 404)
            co_return failure(ErrorKind::auth,
                              "no RAM role is attached to this instance (HTTP 404)");
        if (listed->status != 200)
            co_return failure(ErrorKind::service,
                              fmt::format("listing the RAM roles got HTTP {}", listed->status));
        auto role = parse_role_list(listed->body);
        if (!role)
            co_return failure(role.error().kind, role.error().message);
        role_ = std::move(*role);
    }
    auto answered = co_await get_path(std::string(security_credentials_path) + role_);
    if (!answered)
        co_return std::move(answered).error();
    if (answered->status == 404)
        co_return failure(ErrorKind::auth,
                          fmt::format("the RAM role '{}' is not attached to this instance "
                                      "(HTTP 404)",
                                      role_));
    if (answered->status != 200)
        co_return failure(ErrorKind::service,
                          fmt::format("the RAM role '{}' got HTTP {}", role_, answered->status));
    auto parsed = parse_role_credentials(answered->body);
    if (!parsed)
        co_return failure(parsed.error().kind, parsed.error().message);
    if (parsed->expiration <= system_clock::now())
        co_return failure(ErrorKind::protocol, "the credentials it gave have already expired");
    co_return std::move(parsed);
}

asio::awaitable<Result<std::shared_ptr<const SigningCredentials>>> CredentialsProvider::get() {
    for (;;) {
        const auto now = steady_clock::now();
        const auto action = credential_action(current_ != nullptr, schedule_, now);
        if (action == CredentialAction::use)
            co_return current_;
        if (fetching_) {
            if (action == CredentialAction::refresh)
                co_return current_;  // still valid while another caller fetches
            const auto generation = generation_;
            co_await fetch_done_.async_wait(asio::as_tuple(asio::use_awaitable));
            auto cancelled = (co_await asio::this_coro::cancellation_state).cancelled();
            if (cancelled != asio::cancellation_type::none)
                co_return Error::make(ErrorKind::cancelled,
                                      "waiting for the ECS RAM role's credentials was cancelled");
            if (generation_ != generation && last_error_ &&
                last_error_->kind != ErrorKind::cancelled &&
                credential_action(current_ != nullptr, schedule_, steady_clock::now()) ==
                    CredentialAction::must_refresh)
                co_return *last_error_;  // the fetch this caller waited for failed
            continue;
        }
        fetching_ = true;
        auto fetched = co_await fetch();
        fetching_ = false;
        ++generation_;
        fetch_done_.cancel();  // wakes every waiter
        if (fetched) {
            ++fetches_;
            schedule_ =
                schedule_refresh(system_clock::now(), steady_clock::now(), fetched->expiration);
            log(logger_, LogLevel::debug,
                "ECS metadata: credentials of RAM role '{}' ({}) valid until {}", role_,
                mask_access_key_id(fetched->credentials.access_key_id),
                format_utc_timestamp(fetched->expiration));
            current_ = std::make_shared<const SigningCredentials>(std::move(fetched->credentials),
                                                                  signature_version_);
            last_error_.reset();
            co_return current_;
        }
        last_error_ = fetched.error();
        if (action == CredentialAction::refresh && fetched.error().kind != ErrorKind::cancelled) {
            // Not expired yet: carry on with them, and try again in a second rather than at
            // every call.
            log(logger_, LogLevel::warn,
                "refreshing the ECS RAM role's credentials failed; using the current ones until "
                "they expire: {}",
                fetched.error().message);
            schedule_.refresh_at = std::min(schedule_.expires_at, now + std::chrono::seconds(1));
            co_return current_;
        }
        co_return std::move(fetched).error();
    }
}

}  // namespace eci::detail
