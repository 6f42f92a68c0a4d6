// SPDX-License-Identifier: Apache-2.0
// fmt formatters of the configuration types. Secrets never reach the output.
#include <eci/config.hpp>

#include "core/host_syntax.hpp"
#include "core/redact.hpp"

#include <fmt/format.h>

namespace {

std::string describe_secret(std::string_view value) {
    return value.empty() ? std::string("<none>") : std::string(eci::detail::redacted_text);
}

// The proxy without its user info: the password (and the user name with it) never shows.
std::string describe_proxy(const std::string& url) {
    if (url.empty())
        return "<none>";
    auto proxy = eci::parse_proxy_url(url);
    if (!proxy.ok())
        return "<invalid, redacted>";
    const bool has_user_info = !proxy->username.empty() || !proxy->password.empty();
    return fmt::format("http://{}{}", has_user_info ? "<redacted>@" : "",
                       eci::detail::host_and_port(proxy->host, proxy->port));
}

}  // namespace

fmt::format_context::iterator fmt::formatter<eci::Credentials>::format(
    const eci::Credentials& credentials, fmt::format_context& ctx) const {
    return fmt::formatter<std::string_view>::format(
        fmt::format("{{access_key_id: {}, access_key_secret: {}, security_token: {}}}",
                    eci::detail::mask_access_key_id(credentials.access_key_id),
                    describe_secret(credentials.access_key_secret),
                    describe_secret(credentials.security_token)),
        ctx);
}

fmt::format_context::iterator fmt::formatter<eci::CredentialSource>::format(
    eci::CredentialSource source, fmt::format_context& ctx) const {
    return fmt::formatter<std::string_view>::format(eci::to_string(source), ctx);
}

fmt::format_context::iterator fmt::formatter<eci::SignatureVersion>::format(
    eci::SignatureVersion version, fmt::format_context& ctx) const {
    return fmt::formatter<std::string_view>::format(eci::to_string(version), ctx);
}

fmt::format_context::iterator fmt::formatter<eci::Endpoint>::format(
    const eci::Endpoint& endpoint, fmt::format_context& ctx) const {
    return fmt::formatter<std::string_view>::format(
        fmt::format("{}://{}", endpoint.scheme, endpoint.authority()), ctx);
}

fmt::format_context::iterator fmt::formatter<eci::ClientConfig>::format(
    const eci::ClientConfig& config, fmt::format_context& ctx) const {
    const auto& retry = config.retry;
    // The RAM role's credentials are fetched later: say where from instead of empty keys.
    const std::string credentials =
        config.credential_source == eci::CredentialSource::ecs_ram_role
            ? fmt::format("{{source: ecs_ram_role, role: {}, metadata: {}}}",
                          config.ecs_metadata.role_name.empty() ? "<attached>"
                                                                : config.ecs_metadata.role_name,
                          config.ecs_metadata.endpoint)
            : fmt::format("{}", config.credentials);
    std::string text = fmt::format(
        "{{credentials: {}, region_id: {}, endpoint: {}, signature_version: {}, "
        "timeouts: {{connect: {}ms, read: {}ms}}, tls: {{verify_peer: {}, ca_file: {}}}, "
        "proxy: {{https_proxy: {}, no_proxy: {}}}, "
        "retry: {{enabled: {}, max_attempts: {}, initial_backoff: {}ms, max_backoff: {}ms, "
        "multiplier: {}, overall_deadline: {}ms, cleanup_deadline: {}ms, "
        "throttle_backoff: {}ms..{}ms}}, "
        "pool: {{max_connections_per_endpoint: {}, idle_timeout: {}ms}}, "
        "rate_limit: {{enabled: {}, overrides: {}, max_concurrent: {}, "
        "max_concurrent_exec_starts: {}, max_wait: {}ms}}, "
        "max_response_body_bytes: {}}}",
        credentials, config.region_id, config.endpoint, config.signature_version,
        config.timeouts.connect.count(), config.timeouts.read.count(), config.tls.verify_peer,
        config.tls.ca_file.empty() ? "<none>" : config.tls.ca_file,
        describe_proxy(config.proxy.https_proxy),
        config.proxy.no_proxy.empty() ? "<none>" : config.proxy.no_proxy, retry.enabled,
        retry.max_attempts, retry.initial_backoff.count(), retry.max_backoff.count(),
        retry.multiplier, retry.overall_deadline.count(), retry.cleanup_deadline.count(),
        retry.throttle_initial_backoff.count(), retry.throttle_max_backoff.count(),
        config.pool.max_connections_per_endpoint, config.pool.idle_timeout.count(),
        config.rate_limit.enabled, config.rate_limit.per_action.size(),
        config.rate_limit.max_concurrent, config.rate_limit.max_concurrent_exec_starts,
        config.rate_limit.max_wait.count(), config.max_response_body_bytes);
    return fmt::formatter<std::string_view>::format(text, ctx);
}
