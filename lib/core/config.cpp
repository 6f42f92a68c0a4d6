// SPDX-License-Identifier: Apache-2.0
// load_config(): explicit values, then the environment, then a .env file; credentials by the
// official credential chain.
#include <eci/config.hpp>

#include "core/aliyun_profile.hpp"
#include "core/dotenv.hpp"
#include "core/ecs_metadata.hpp"
#include "core/host_syntax.hpp"
#include "core/lease.hpp"

#include <fmt/format.h>
#include <fmt/std.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <map>

namespace eci {

namespace fs = std::filesystem;

std::string_view to_string(CredentialSource source) noexcept {
    switch (source) {
        case CredentialSource::static_keys:
            return "static";
        case CredentialSource::ecs_ram_role:
            return "ecs_ram_role";
    }
    return "unknown";
}

std::string_view to_string(SignatureVersion version) noexcept {
    switch (version) {
        case SignatureVersion::acs3:
            return "acs3";
        case SignatureVersion::rpc_v2:
            return "v2";
    }
    return "unknown";
}

std::optional<std::string> process_environment(std::string_view name) {
    const std::string key(name);
    const char* value = std::getenv(key.c_str());  // NOLINT(concurrency-mt-unsafe): documented
    if (value == nullptr)
        return std::nullopt;
    return std::string(value);
}

namespace {

constexpr std::string_view credentials_help =
    "set ECI_SANDBOX_ACCESS_KEY_ID (or ALIBABA_CLOUD_ACCESS_KEY_ID) and "
    "ECI_SANDBOX_ACCESS_KEY_SECRET (or ALIBABA_CLOUD_ACCESS_KEY_SECRET) in the environment or "
    "a .env file, or pass them explicitly; or keep them in a profile of ~/.aliyun/config.json, "
    "or use the ECS RAM role (ECI_CREDENTIALS=ecs_ram_role; docs/configuration.md)";

constexpr long long max_timeout_ms = 86'400'000;  // one day

Error invalid(std::string message) {
    return Error::make(ErrorKind::invalid_argument, std::move(message));
}

bool is_valid_region_id(std::string_view region) noexcept {
    if (region.empty() || region.size() > 64)
        return false;
    return std::all_of(region.begin(), region.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
    });
}

// Credentials are pasted from consoles and files; a stray newline or space makes every
// signature fail with a confusing service error, so refuse it here.
bool is_clean_credential(std::string_view value) noexcept {
    return std::all_of(value.begin(), value.end(), [](char c) {
        const auto byte = static_cast<unsigned char>(c);
        return byte > 0x20 && byte != 0x7F;
    });
}

std::optional<SignatureVersion> parse_signature_version(std::string_view text) {
    const std::string value = detail::ascii_lower(detail::trim_ascii_space(text));
    if (value == "acs3" || value == "acs3-hmac-sha256")
        return SignatureVersion::acs3;
    if (value == "v2" || value == "rpc" || value == "rpc_v2" || value == "rpc-v2" ||
        value == "hmac-sha1") {
        return SignatureVersion::rpc_v2;
    }
    return std::nullopt;
}

std::optional<long long> parse_milliseconds(std::string_view text) {
    text = detail::trim_ascii_space(text);
    long long value = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc{} || end != text.data() + text.size())
        return std::nullopt;
    if (value < 1 || value > max_timeout_ms)
        return std::nullopt;
    return value;
}

// Precedence rank of where a value came from: lower wins.
enum class Origin { override_value, environment, dotenv };

struct Found {
    std::string value;
    Origin origin = Origin::override_value;
    int rank = 0;             // 0 = override, then each environment name, then each .env name
    std::string description;  // "ECI_SANDBOX_TIMEOUT_MS", "ECI_SANDBOX_TIMEOUT_MS in \"/x/.env\""
};

class Sources {
  public:
    Sources(const ConfigSources& sources, std::map<std::string, std::string, std::less<>> dotenv,
            fs::path dotenv_path)
        : sources_(sources), dotenv_(std::move(dotenv)), dotenv_path_(std::move(dotenv_path)) {}

    // The explicit value if set and non-empty, else the first non-empty of the names in the
    // environment, else in the .env file.
    std::optional<Found> find(const std::optional<std::string>& explicit_value,
                              std::string_view explicit_name,
                              std::initializer_list<std::string_view> names) const {
        if (explicit_value && !explicit_value->empty()) {
            return Found{*explicit_value, Origin::override_value, 0,
                         fmt::format("the explicit {}", explicit_name)};
        }
        int rank = 1;
        for (const std::string_view name : names) {
            if (auto value = environment(name)) {
                return Found{std::move(*value), Origin::environment, rank, std::string(name)};
            }
            ++rank;
        }
        for (const std::string_view name : names) {
            if (auto it = dotenv_.find(name); it != dotenv_.end() && !it->second.empty()) {
                return Found{it->second, Origin::dotenv, rank,
                             fmt::format("{} in {}", name, dotenv_path_)};
            }
            ++rank;
        }
        return std::nullopt;
    }

    // Relative paths from a .env are relative to the file's directory, others to the
    // working directory.
    fs::path resolve_path(const Found& found, const fs::path& working_directory) const {
        fs::path path(found.value);
        if (path.is_absolute())
            return path;
        if (found.origin == Origin::dotenv)
            return dotenv_path_.parent_path() / path;
        return working_directory / path;
    }

  private:
    std::optional<std::string> environment(std::string_view name) const {
        if (!sources_.getenv)
            return std::nullopt;
        auto value = sources_.getenv(name);
        if (!value || value->empty())
            return std::nullopt;
        return value;
    }

    const ConfigSources& sources_;
    std::map<std::string, std::string, std::less<>> dotenv_;
    fs::path dotenv_path_;
};

// The .env to read: the explicit one (which must be readable), else the nearest found.
Result<std::pair<std::map<std::string, std::string, std::less<>>, fs::path>> load_dotenv(
    const ConfigOverrides& overrides, const ConfigSources& sources,
    const fs::path& working_directory) {
    std::optional<fs::path> path;
    if (overrides.dotenv_path) {
        path = overrides.dotenv_path->is_absolute() ? *overrides.dotenv_path
                                                    : working_directory / *overrides.dotenv_path;
    } else if (sources.read_dotenv && !working_directory.empty()) {
        path = detail::find_dotenv(working_directory);
    }
    std::map<std::string, std::string, std::less<>> values;
    if (!path)
        return std::pair{std::move(values), fs::path()};
    auto entries = detail::read_dotenv_file(*path);
    if (!entries.ok())
        return std::move(entries).error();
    for (auto& [key, value] : *entries)
        values[key] = std::move(value);  // the last one wins
    return std::pair{std::move(values), std::move(*path)};
}

Result<void> validate_ecs_metadata(const EcsMetadataConfig& metadata) {
    if (auto endpoint = detail::parse_metadata_endpoint(metadata.endpoint); !endpoint)
        return std::move(endpoint).error();
    if (!metadata.role_name.empty() && !detail::is_valid_role_name(metadata.role_name))
        return invalid(
            "ecs_metadata.role_name must be at most 64 letters, digits, '-', '_' or '.'");
    if (metadata.timeout < std::chrono::milliseconds(1) ||
        metadata.timeout > std::chrono::seconds(60))
        return invalid("ecs_metadata.timeout must be between 1 ms and 60 s");
    if (metadata.token_ttl < std::chrono::seconds(1) || metadata.token_ttl > std::chrono::hours(6))
        return invalid("ecs_metadata.token_ttl must be between 1 s and 6 h");
    return {};
}

Result<void> validate_credentials(const Credentials& credentials) {
    if (credentials.access_key_id.empty() && credentials.access_key_secret.empty()) {
        return Error::make(ErrorKind::auth,
                           fmt::format("no access key id or secret: {}", credentials_help));
    }
    if (credentials.access_key_id.empty()) {
        return Error::make(ErrorKind::auth, fmt::format("no access key id: {}", credentials_help));
    }
    if (credentials.access_key_secret.empty()) {
        return Error::make(ErrorKind::auth,
                           fmt::format("no access key secret: {}", credentials_help));
    }
    if (!is_clean_credential(credentials.access_key_id) ||
        !is_clean_credential(credentials.access_key_secret) ||
        !is_clean_credential(credentials.security_token)) {
        return Error::make(ErrorKind::auth,
                           "the access key id, secret or security token contains whitespace or "
                           "control characters (a stray newline?)");
    }
    return {};
}

bool is_true(std::string_view text) {
    const std::string value = detail::ascii_lower(detail::trim_ascii_space(text));
    return value == "true" || value == "1";
}

// Where the credential chain ended.
struct ChosenCredentials {
    CredentialSource source = CredentialSource::static_keys;
    Credentials credentials;
    std::string ram_role_name;   // ecs_ram_role: empty = ask the metadata service
    std::string profile_name;    // the profile they came from, if any
    std::string profile_region;  // that profile's region_id (used when no region is given)
};

// The Alibaba Cloud CLI's config file: ALIBABA_CLOUD_CONFIG_FILE, else
// $HOME/.aliyun/config.json; empty when neither can be known.
fs::path aliyun_config_path(const Sources& from) {
    if (auto file = from.find(std::nullopt, "config file", {"ALIBABA_CLOUD_CONFIG_FILE"}))
        return fs::path(file->value);
    if (auto home = from.find(std::nullopt, "home", {"HOME"}))
        return fs::path(home->value) / ".aliyun" / "config.json";
    return {};
}

Result<ChosenCredentials> ecs_ram_role(const Sources& from, std::string role_name) {
    if (auto disabled =
            from.find(std::nullopt, "metadata switch", {"ALIBABA_CLOUD_ECS_METADATA_DISABLED"});
        disabled && is_true(disabled->value)) {
        return Error::make(ErrorKind::auth,
                           "the ECS RAM role's credentials were asked for, but "
                           "ALIBABA_CLOUD_ECS_METADATA_DISABLED is true");
    }
    if (role_name.empty()) {
        if (auto found = from.find(std::nullopt, "role", {"ALIBABA_CLOUD_ECS_METADATA"}))
            role_name = std::move(found->value);
    }
    ChosenCredentials chosen;
    chosen.source = CredentialSource::ecs_ram_role;
    chosen.ram_role_name = std::move(role_name);
    return chosen;
}

// The credentials of profile `wanted` (empty: the current one) of the CLI's config file.
Result<ChosenCredentials> from_profile(const Sources& from, const fs::path& path,
                                       std::string_view wanted, std::string role_override) {
    auto profile = detail::read_aliyun_profile(path, wanted);
    if (!profile)
        return std::move(profile).error();
    ChosenCredentials chosen;
    if (profile->uses_ecs_ram_role()) {
        auto role = ecs_ram_role(from, role_override.empty() ? std::move(profile->ram_role_name)
                                                             : std::move(role_override));
        if (!role)
            return role;
        chosen = std::move(*role);
    } else {
        chosen.credentials.access_key_id = std::move(profile->access_key_id);
        chosen.credentials.access_key_secret = std::move(profile->access_key_secret);
        chosen.credentials.security_token = std::move(profile->security_token);
    }
    chosen.profile_name = std::move(profile->name);
    chosen.profile_region = std::move(profile->region_id);
    return chosen;
}

// The credential chain (docs/configuration.md, "Credential chain"): an explicit choice, then
// the official default chain's order: AccessKey in the environment, (OIDC: not supported),
// the CLI's config file, the ECS RAM role.
Result<ChosenCredentials> choose_credentials(const ConfigOverrides& overrides,
                                             const Sources& from) {
    const std::string role_override = overrides.ram_role_name.value_or("");
    if (overrides.profile && !overrides.profile->empty()) {
        auto path = aliyun_config_path(from);
        if (path.empty())
            return invalid(
                "a profile was named, but neither ALIBABA_CLOUD_CONFIG_FILE nor HOME is set");
        return from_profile(from, path, *overrides.profile, role_override);
    }
    std::optional<CredentialSource> explicit_source = overrides.credential_source;
    if (!explicit_source) {
        if (auto found = from.find(std::nullopt, "credential source", {"ECI_CREDENTIALS"})) {
            const std::string value = detail::ascii_lower(detail::trim_ascii_space(found->value));
            if (value == "ecs_ram_role")
                explicit_source = CredentialSource::ecs_ram_role;
            else if (value == "static" || value == "default" || value == "chain")
                explicit_source.reset();  // the chain, as when unset
            else
                return invalid(
                    fmt::format("{} must be ecs_ram_role, or default for the credential chain",
                                found->description));
        }
    }
    if (explicit_source == CredentialSource::ecs_ram_role)
        return ecs_ram_role(from, role_override);

    // 1. An AccessKey: each value by its own precedence, except that the STS token is dropped
    // when it comes from a weaker source than the key id: a token left in the environment
    // must not be sent along with a key given explicitly (the service would refuse the pair).
    const auto key_id = from.find(overrides.access_key_id, "access_key_id",
                                  {"ECI_SANDBOX_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_ID"});
    const auto key_secret =
        from.find(overrides.access_key_secret, "access_key_secret",
                  {"ECI_SANDBOX_ACCESS_KEY_SECRET", "ALIBABA_CLOUD_ACCESS_KEY_SECRET"});
    const auto token = from.find(overrides.security_token, "security_token",
                                 {"ECI_SANDBOX_SECURITY_TOKEN", "ALIBABA_CLOUD_SECURITY_TOKEN"});
    ChosenCredentials chosen;
    if (key_id || key_secret || explicit_source == CredentialSource::static_keys) {
        // Half a key pair stops here: validate_config() says which half is missing.
        if (key_id)
            chosen.credentials.access_key_id = key_id->value;
        if (key_secret)
            chosen.credentials.access_key_secret = key_secret->value;
        if (token && key_id && token->rank <= key_id->rank)
            chosen.credentials.security_token = token->value;
        return chosen;
    }
    // 2. OIDC (ALIBABA_CLOUD_OIDC_*) is not supported: skipped.
    // 3. The CLI's config file, when there is one.
    if (const auto path = aliyun_config_path(from); !path.empty()) {
        std::error_code ec;
        if (fs::exists(path, ec)) {
            const auto wanted = from.find(std::nullopt, "profile", {"ALIBABA_CLOUD_PROFILE"});
            return from_profile(from, path, wanted ? wanted->value : "", role_override);
        }
    }
    // 4. The ECS RAM role, when a role is named: probing the metadata service without one
    // would turn "no credentials" into a timeout at the first call on every machine that
    // is not an ECS instance.
    if (auto role = from.find(std::nullopt, "role", {"ALIBABA_CLOUD_ECS_METADATA"})) {
        if (auto disabled =
                from.find(std::nullopt, "metadata switch", {"ALIBABA_CLOUD_ECS_METADATA_DISABLED"});
            !disabled || !is_true(disabled->value))
            return ecs_ram_role(from, role->value);
    }
    return chosen;  // empty: validate_config() names the variables to set
}

}  // namespace

Result<void> validate_config(const ClientConfig& config) {
    if (config.credential_source == CredentialSource::ecs_ram_role) {
        if (auto valid = validate_ecs_metadata(config.ecs_metadata); !valid)
            return valid;
    } else if (auto valid = validate_credentials(config.credentials); !valid) {
        return valid;
    }
    if (!is_valid_region_id(config.region_id)) {
        return invalid("the region id must be made of a-z, 0-9 and '-', e.g. cn-hangzhou");
    }
    if (config.endpoint.scheme != "https" && config.endpoint.scheme != "http") {
        return invalid("the endpoint scheme must be https or http");
    }
    if (config.endpoint.host.empty())
        return invalid("the endpoint host is empty");
    {
        const Endpoint& endpoint = config.endpoint;
        const bool ok = endpoint.host.find(':') != std::string::npos
                            ? detail::parse_ip_address(endpoint.host).has_value()
                            : detail::is_valid_host_name(endpoint.host);
        if (!ok)
            return invalid("the endpoint host is not a valid host name or IP address");
    }
    if (!config.proxy.https_proxy.empty()) {
        auto proxy = parse_proxy_url(config.proxy.https_proxy);
        if (!proxy.ok())
            return std::move(proxy).error();
    }
    if (config.timeouts.connect.count() < 0 || config.timeouts.read.count() < 0) {
        return invalid("timeouts must not be negative");
    }
    const RetryConfig& retry = config.retry;
    if (retry.max_attempts < 1 || retry.max_attempts > 100) {
        return invalid("retry.max_attempts must be between 1 and 100");
    }
    if (retry.initial_backoff.count() < 0 || retry.max_backoff < retry.initial_backoff) {
        return invalid("retry backoffs must satisfy 0 <= initial_backoff <= max_backoff");
    }
    if (!(retry.multiplier >= 1.0 && retry.multiplier <= 10.0)) {  // also refuses NaN
        return invalid("retry.multiplier must be between 1.0 and 10.0");
    }
    if (retry.overall_deadline.count() < 0) {
        return invalid("retry.overall_deadline must not be negative");
    }
    if (retry.cleanup_deadline.count() < 0) {
        return invalid("retry.cleanup_deadline must not be negative");
    }
    if (retry.throttle_initial_backoff.count() < 1 ||
        retry.throttle_max_backoff < retry.throttle_initial_backoff) {
        return invalid(
            "retry throttle backoffs must satisfy 1 ms <= throttle_initial_backoff <= "
            "throttle_max_backoff");
    }
    if (config.pool.max_connections_per_endpoint < 1 ||
        config.pool.max_connections_per_endpoint > 4096) {
        return invalid("pool.max_connections_per_endpoint must be between 1 and 4096");
    }
    if (config.pool.idle_timeout.count() < 0)
        return invalid("pool.idle_timeout must not be negative");
    for (const auto& [action, limit] : config.rate_limit.per_action) {
        // `!(x >= 0)` also refuses NaN; infinities make no sense as a pace either.
        if (action.empty() || !std::isfinite(limit.per_minute) || !std::isfinite(limit.burst) ||
            !(limit.burst >= 0)) {
            return invalid(
                "rate_limit.per_action needs action names with finite per_minute and burst >= 0");
        }
    }
    if (config.rate_limit.max_wait.count() < 0)
        return invalid("rate_limit.max_wait must not be negative (0 = the call's deadline)");
    if (config.rate_limit.max_concurrent > 1'000'000)
        return invalid("rate_limit.max_concurrent must be at most 1000000 (0 = no cap)");
    if (config.rate_limit.max_concurrent_exec_starts > 1'000'000)
        return invalid(
            "rate_limit.max_concurrent_exec_starts must be at most 1000000 (0 = no cap)");
    if (config.max_response_body_bytes == 0) {
        return invalid("max_response_body_bytes must be greater than 0");
    }
    if (!config.lease.owner.empty()) {
        if (auto owner = detail::check_tag_value(config.lease.owner, "lease.owner"); !owner.ok())
            return std::move(owner).error();
    }
    if (config.lease.default_lease.count() < 0)
        return invalid("lease.default_lease must not be negative");
    return {};
}

Result<ClientConfig> load_config(const ConfigOverrides& overrides, const ConfigSources& sources) {
    fs::path working_directory = sources.working_directory;
    if (working_directory.empty()) {
        std::error_code ec;
        working_directory = fs::current_path(ec);
        if (ec)
            working_directory.clear();  // no discovery, relative paths stay relative
    }

    auto dotenv = load_dotenv(overrides, sources, working_directory);
    if (!dotenv.ok())
        return std::move(dotenv).error();
    const Sources from(sources, std::move(dotenv->first), std::move(dotenv->second));

    ClientConfig config;

    auto chosen = choose_credentials(overrides, from);
    if (!chosen)
        return std::move(chosen).error();
    config.credentials = std::move(chosen->credentials);
    config.credential_source = chosen->source;
    if (chosen->source == CredentialSource::ecs_ram_role) {
        config.ecs_metadata.role_name = std::move(chosen->ram_role_name);
        if (auto found = from.find(overrides.ecs_metadata_endpoint, "ecs_metadata_endpoint",
                                   {"ECI_ECS_METADATA_ENDPOINT"})) {
            if (auto parsed = detail::parse_metadata_endpoint(found->value); !parsed)
                return invalid(fmt::format("{}: {}", found->description, parsed.error().message));
            config.ecs_metadata.endpoint = found->value;
        }
        if (auto found =
                from.find(std::nullopt, "imdsv1_disabled", {"ALIBABA_CLOUD_IMDSV1_DISABLED"}))
            config.ecs_metadata.imdsv1_disabled = is_true(found->value);
    }

    auto region = from.find(overrides.region_id, "region_id",
                            {"ECI_SANDBOX_REGION_ID", "ALIBABA_CLOUD_REGION_ID"});
    if (!region && !chosen->profile_region.empty())
        region = Found{chosen->profile_region, Origin::override_value, 0,
                       fmt::format("the region_id of profile '{}'", chosen->profile_name)};
    if (region) {
        if (!is_valid_region_id(region->value)) {
            return invalid(
                fmt::format("{} must be a region id made of a-z, 0-9 and '-', e.g. cn-hangzhou",
                            region->description));
        }
        config.region_id = region->value;
    }

    if (auto endpoint = from.find(overrides.endpoint, "endpoint", {"ECI_SANDBOX_ENDPOINT"})) {
        auto parsed = parse_endpoint(endpoint->value);
        if (!parsed.ok()) {
            return invalid(fmt::format("{}: {}", endpoint->description, parsed.error().message));
        }
        config.endpoint = std::move(parsed).value();
    } else {
        config.endpoint.host = fmt::format("eci.{}.aliyuncs.com", config.region_id);
    }

    std::optional<std::chrono::milliseconds> timeout;
    if (overrides.timeout) {
        if (overrides.timeout->count() < 1 || overrides.timeout->count() > max_timeout_ms) {
            return invalid(
                fmt::format("the explicit timeout must be between 1 and {} ms", max_timeout_ms));
        }
        timeout = *overrides.timeout;
    } else if (auto found = from.find(std::nullopt, "timeout", {"ECI_SANDBOX_TIMEOUT_MS"})) {
        const auto milliseconds = parse_milliseconds(found->value);
        if (!milliseconds) {
            return invalid(fmt::format("{} must be a whole number of milliseconds between 1 and {}",
                                       found->description, max_timeout_ms));
        }
        timeout = std::chrono::milliseconds(*milliseconds);
    }
    if (timeout) {
        config.timeouts.read = *timeout;
        config.timeouts.connect = std::min(config.timeouts.connect, *timeout);
    }

    if (auto found = from.find(overrides.ca_file, "ca_file", {"ECI_SANDBOX_CA_FILE"})) {
        const fs::path path = from.resolve_path(*found, working_directory);
        std::error_code ec;
        if (!fs::is_regular_file(path, ec)) {
            return invalid(
                fmt::format("{} names {}, which is not a readable file", found->description, path));
        }
        config.tls.ca_file = path.string();
    }

    if (overrides.signature_version) {
        config.signature_version = *overrides.signature_version;
    } else if (auto found = from.find(std::nullopt, "signature_version",
                                      {"ECI_SANDBOX_SIGNATURE_VERSION"})) {
        const auto version = parse_signature_version(found->value);
        if (!version)
            return invalid(fmt::format("{} must be acs3 or v2", found->description));
        config.signature_version = *version;
    }

    // Proxy: an explicit empty string means "none" and hides the environment.
    std::string proxy_origin = "the explicit https_proxy";
    if (overrides.https_proxy) {
        config.proxy.https_proxy = *overrides.https_proxy;
    } else if (auto found =
                   from.find(std::nullopt, "https_proxy", {"https_proxy", "HTTPS_PROXY"})) {
        config.proxy.https_proxy = found->value;
        proxy_origin = found->description;
    }
    if (!config.proxy.https_proxy.empty()) {
        auto proxy = parse_proxy_url(config.proxy.https_proxy);
        if (!proxy.ok()) {
            return invalid(fmt::format("{}: {}", proxy_origin, proxy.error().message));
        }
    }
    if (overrides.no_proxy) {
        config.proxy.no_proxy = *overrides.no_proxy;
    } else if (auto found = from.find(std::nullopt, "no_proxy", {"no_proxy", "NO_PROXY"})) {
        config.proxy.no_proxy = found->value;
    }

    if (auto found = from.find(std::nullopt, "lease owner", {"ECI_SANDBOX_OWNER"}))
        config.lease.owner = found->value;
    if (auto found = from.find(std::nullopt, "default lease", {"ECI_SANDBOX_LEASE_SECONDS"})) {
        // 0 or "never": no lease (the default is one since 0.2, so turning it off is a value).
        const auto text = detail::trim_ascii_space(found->value);
        if (text == "0" || text == "never") {
            config.lease.default_lease = no_lease;
        } else {
            const auto seconds = parse_milliseconds(text);  // the same digits-only rule
            if (!seconds) {
                return invalid(fmt::format(
                    "{} must be a whole number of seconds between 1 and {}, or 0 / never for "
                    "no lease",
                    found->description, max_timeout_ms));
            }
            config.lease.default_lease = std::chrono::seconds(*seconds);
        }
    }

    auto valid = validate_config(config);
    if (!valid.ok())
        return std::move(valid).error();
    return config;
}

}  // namespace eci
