// SPDX-License-Identifier: Apache-2.0
#include "core/ecs_metadata.hpp"

#include "core/host_syntax.hpp"
#include "core/time_format.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <fmt/format.h>

#include <algorithm>

namespace eci::detail {

namespace json = boost::json;
using std::chrono::steady_clock;
using std::chrono::system_clock;

namespace {

Error protocol(std::string message) {
    return Error::make(ErrorKind::protocol, std::move(message));
}

const json::string* string_field(const json::object& object, std::string_view key) {
    auto found = object.find(key);
    if (found == object.end() || !found->value().is_string())
        return nullptr;
    return &found->value().get_string();
}

}  // namespace

Result<RoleCredentials> parse_role_credentials(std::string_view body) {
    std::error_code ec;
    json::value root = json::parse(body, ec);
    if (ec || !root.is_object())
        return protocol("the ECS metadata service's answer for the RAM role is not a JSON object");
    const auto& object = root.get_object();
    const auto* code = string_field(object, "Code");
    if (code == nullptr)
        return protocol("the ECS metadata service's answer for the RAM role has no Code");
    if (*code != "Success") {
        // The code is the service's word, not a secret; bounded and printable only.
        const std::string_view text(code->data(), code->size());
        const bool printable =
            text.size() <= 64 &&
            std::all_of(text.begin(), text.end(), [](char c) { return c > ' ' && c < 0x7f; });
        return Error::make(ErrorKind::auth,
                           fmt::format("the ECS metadata service refused the RAM role's "
                                       "credentials (Code {})",
                                       printable ? text : std::string_view("<unprintable>")));
    }
    RoleCredentials found;
    const auto* id = string_field(object, "AccessKeyId");
    const auto* secret = string_field(object, "AccessKeySecret");
    const auto* token = string_field(object, "SecurityToken");
    const auto* expiration = string_field(object, "Expiration");
    if (id == nullptr || secret == nullptr || token == nullptr || id->empty() || secret->empty() ||
        token->empty()) {
        return protocol(
            "the ECS metadata service's answer for the RAM role lacks AccessKeyId, "
            "AccessKeySecret or SecurityToken");
    }
    if (expiration == nullptr)
        return protocol("the ECS metadata service's answer for the RAM role has no Expiration");
    auto parsed = parse_utc_timestamp(std::string_view(expiration->data(), expiration->size()));
    if (!parsed)
        return protocol("the ECS metadata service's Expiration is not a yyyy-MM-ddTHH:mm:ssZ time");
    found.credentials.access_key_id.assign(id->data(), id->size());
    found.credentials.access_key_secret.assign(secret->data(), secret->size());
    found.credentials.security_token.assign(token->data(), token->size());
    found.expiration = *parsed;
    return found;
}

bool is_valid_role_name(std::string_view name) noexcept {
    return !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '-' || c == '_' || c == '.';
    });
}

Result<std::string> parse_role_list(std::string_view body) {
    while (!body.empty()) {
        const auto end = body.find('\n');
        const auto line = trim_ascii_space(body.substr(0, end));
        if (!line.empty()) {
            if (!is_valid_role_name(line))
                return protocol("the ECS metadata service's list of RAM roles is not a role name");
            return std::string(line);
        }
        if (end == std::string_view::npos)
            break;
        body.remove_prefix(end + 1);
    }
    return Error::make(ErrorKind::auth,
                       "the ECS metadata service lists no RAM role: attach one to the instance, "
                       "or use other credentials");
}

CredentialSchedule schedule_refresh(system_clock::time_point system_now,
                                    steady_clock::time_point steady_now,
                                    system_clock::time_point expiration) {
    using std::chrono::duration_cast;
    using std::chrono::milliseconds;
    if (expiration <= system_now)
        return {steady_now, steady_now};
    const auto lifetime = duration_cast<milliseconds>(expiration - system_now);
    auto margin = std::max<milliseconds>(lifetime * 15 / 100, std::chrono::seconds(5));
    margin = std::min<milliseconds>({margin, std::chrono::minutes(15), lifetime / 2});
    const auto expires_at = steady_now + lifetime;
    return {expires_at - margin, expires_at};
}

CredentialAction credential_action(bool have, const CredentialSchedule& schedule,
                                   steady_clock::time_point now) noexcept {
    if (!have || now >= schedule.expires_at)
        return CredentialAction::must_refresh;
    if (now >= schedule.refresh_at)
        return CredentialAction::refresh;
    return CredentialAction::use;
}

Result<MetadataEndpoint> parse_metadata_endpoint(std::string_view text) {
    const auto trimmed = trim_ascii_space(text);
    std::string with_scheme(trimmed);
    if (trimmed.find("://") == std::string_view::npos)
        with_scheme = "http://" + with_scheme;
    auto parsed = parse_endpoint(with_scheme);
    if (!parsed)
        return Error::make(ErrorKind::invalid_argument,
                           fmt::format("the ECS metadata endpoint: {}", parsed.error().message));
    if (parsed->scheme != "http")
        return Error::make(ErrorKind::invalid_argument,
                           "the ECS metadata endpoint must be plain http:// (the metadata service "
                           "speaks no TLS)");
    MetadataEndpoint endpoint;
    endpoint.host = std::move(parsed->host);
    endpoint.port = parsed->effective_port();
    return endpoint;
}

}  // namespace eci::detail
