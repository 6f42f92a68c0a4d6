// SPDX-License-Identifier: Apache-2.0
// load_config(): explicit values, then the environment, then a .env file.
#include <eci/config.hpp>

#include "core/dotenv.hpp"
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
    "a .env file, or pass them explicitly";

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

}  // namespace

Result<void> validate_config(const ClientConfig& config) {
    const Credentials& credentials = config.credentials;
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

    // Credentials. Each value by its own precedence, except that the STS token is dropped
    // when it comes from a weaker source than the key id: a token left in the environment
    // must not be sent along with a key given explicitly (the service would refuse the pair).
    const auto key_id = from.find(overrides.access_key_id, "access_key_id",
                                  {"ECI_SANDBOX_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_ID"});
    const auto key_secret =
        from.find(overrides.access_key_secret, "access_key_secret",
                  {"ECI_SANDBOX_ACCESS_KEY_SECRET", "ALIBABA_CLOUD_ACCESS_KEY_SECRET"});
    const auto token = from.find(overrides.security_token, "security_token",
                                 {"ECI_SANDBOX_SECURITY_TOKEN", "ALIBABA_CLOUD_SECURITY_TOKEN"});
    if (key_id)
        config.credentials.access_key_id = key_id->value;
    if (key_secret)
        config.credentials.access_key_secret = key_secret->value;
    if (token && key_id && token->rank <= key_id->rank) {
        config.credentials.security_token = token->value;
    }

    if (auto region = from.find(overrides.region_id, "region_id",
                                {"ECI_SANDBOX_REGION_ID", "ALIBABA_CLOUD_REGION_ID"})) {
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
