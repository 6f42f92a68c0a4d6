// SPDX-License-Identifier: Apache-2.0
// Client configuration: credentials, endpoint, timeouts, TLS, proxy, retry and pool settings,
// and load_config(), which fills them from explicit values, the environment and a .env file.
#pragma once

#include <eci/call_hook.hpp>
#include <eci/result.hpp>

#include <fmt/core.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace eci {

/// An Alibaba Cloud AccessKey pair, optionally with an STS security token.
///
/// Formatting with fmt never prints the secret or the token: the id is shown masked
/// (`LTAI****mwn`), the secret and the token as `<redacted>` (or `<none>` when empty).
struct Credentials {
    std::string access_key_id;      ///< AccessKey id, e.g. "LTAI5t..."; default empty (required)
    std::string access_key_secret;  ///< AccessKey secret; default empty (required). Never logged.
    std::string security_token;     ///< STS token; default empty = long-term AccessKey, no token
                                    ///< sent. Never logged.
};

/// Where a client's credentials come from (docs/configuration.md, "Credential chain").
enum class CredentialSource {
    /// ClientConfig::credentials as given: an AccessKey pair, optionally with an STS token.
    static_keys,
    /// The STS credentials of the ECS instance's RAM role, from the instance metadata service
    /// (ClientConfig::ecs_metadata), fetched before the first call and refreshed before they
    /// expire. ClientConfig::credentials is ignored.
    ecs_ram_role,
};

/// The stable name of a credential source: "static" or "ecs_ram_role".
std::string_view to_string(CredentialSource source) noexcept;

/// The ECS instance metadata service that hands out a RAM role's STS credentials.
struct EcsMetadataConfig {
    /// `http://host[:port]`; plain HTTP only, never through a proxy (the service is a
    /// link-local address on the instance). Default "http://100.100.100.200". Tests point it
    /// at the emulator's metadata listener.
    std::string endpoint = "http://100.100.100.200";
    /// The RAM role's name. Default empty = ask the service which role is attached (one more
    /// request, once per client).
    std::string role_name;
    /// Refuse the IMDSv1 fallback: when getting the session token (PUT /latest/api/token)
    /// fails, fail instead of asking without a token. Default false (the official libraries'
    /// default; env ALIBABA_CLOUD_IMDSV1_DISABLED=true sets it).
    bool imdsv1_disabled = false;
    /// The deadline of each request to the service (connect, then write and read), like the
    /// official libraries' 1 s. Default 1 s; 1 ms..60 s.
    std::chrono::milliseconds timeout{1000};
    /// How long the IMDSv2 session token lives (X-aliyun-ecs-metadata-token-ttl-seconds).
    /// Default 6 h (the official libraries' value); 1 s..6 h.
    std::chrono::seconds token_ttl{21600};
};

/// How requests are signed.
enum class SignatureVersion {
    acs3,    ///< ACS3-HMAC-SHA256 in the Authorization header (what the official SDK uses)
    rpc_v2,  ///< the older RPC signature: HMAC-SHA1 over the query, `Signature=` parameter
};

/// The stable name of a signature version: "acs3" or "v2".
std::string_view to_string(SignatureVersion version) noexcept;

/// Where the OpenAPI lives.
struct Endpoint {
    std::string scheme = "https";  ///< "https" (default) or "http" (emulator or a proxy in tests)
    std::string host;        ///< DNS name or IP literal; IPv6 is stored WITHOUT brackets ("::1").
                             ///< Default empty: load_config() fills in `eci.<region>.aliyuncs.com`.
    std::uint16_t port = 0;  ///< TCP port 1..65535; default 0 = the scheme's default (443 / 80)

    /// The port to connect to: `port`, or 443 for https and 80 for http when it is 0.
    std::uint16_t effective_port() const noexcept;
    /// Whether connections use TLS (scheme "https").
    bool uses_tls() const noexcept { return scheme == "https"; }
    /// `host[:port]` as it goes in a Host header: the port only when it is not the scheme's
    /// default, IPv6 literals in brackets ("[::1]:8443").
    std::string authority() const;
};

/// Parses an endpoint: `host`, `host:port`, `https://host[:port]`, `http://host[:port]`,
/// `[::1]`, `[::1]:port` (a single trailing `/` is allowed). No scheme means https.
///
/// Errors: ErrorKind::invalid_argument for anything else (other schemes, a path, a query,
/// user info, an empty or malformed host, a port outside 1..65535). The message says what is
/// wrong without repeating the input.
/// Thread safety: a pure function.
Result<Endpoint> parse_endpoint(std::string_view text);

/// Per-request deadlines of the HTTPS transport.
struct TimeoutConfig {
    /// Resolve + TCP connect + TLS handshake, per attempt. Default 10 s; 0 = no deadline for
    /// this phase (not recommended). load_config() caps it at the overall request timeout.
    std::chrono::milliseconds connect{10000};
    /// One HTTP request: write the request and read the whole response, per attempt. Default
    /// 60 s (like ECI_SANDBOX_TIMEOUT_MS=60000); 0 = no deadline (not recommended).
    std::chrono::milliseconds read{60000};
};

/// Server certificate verification.
struct TlsConfig {
    /// Verify the server's certificate chain and host name. Default true. Setting it to false
    /// is for tests against a local emulator only.
    bool verify_peer = true;
    /// A PEM bundle of extra trusted CAs, added to the system store (not replacing it).
    /// Default empty = the system store only.
    std::string ca_file;
};

/// An HTTP CONNECT proxy for the OpenAPI and the exec WebSocket.
struct ProxyConfig {
    /// `http://[user:pass@]host[:port]` (port default 80); empty (default) = no proxy.
    /// The password is never logged or formatted.
    std::string https_proxy;
    /// Hosts that bypass the proxy: a comma (or space) separated list of `*` (everything),
    /// domain names (match the domain and its subdomains; a leading `.` or `*.` is allowed),
    /// IP literals, CIDR blocks (`10.0.0.0/8`) and `host:port` entries. Default empty.
    std::string no_proxy;
};

/// A parsed `https_proxy` URL.
struct ProxyUrl {
    std::string host;         ///< proxy host; IPv6 without brackets
    std::uint16_t port = 80;  ///< proxy port; default 80 when the URL has none
    std::string username;     ///< percent-decoded; empty = no Proxy-Authorization
    std::string password;     ///< percent-decoded; never logged
};

/// Parses `[http://][user[:pass]@]host[:port][/]`.
///
/// Errors: ErrorKind::invalid_argument for another scheme (TLS to the proxy itself is not
/// supported), an empty or malformed host, a bad port or bad percent-encoding. The message
/// never repeats the input (it may hold a password).
/// Thread safety: a pure function.
Result<ProxyUrl> parse_proxy_url(std::string_view text);

/// Whether a connection to `host` must bypass the proxy under `proxy.no_proxy` (NO_PROXY
/// rules as curl and Go apply them; case-insensitive; a trailing dot on the host is ignored).
/// `host` may carry a port (`host:443`, `[::1]:443`); `port`, when nonzero, is used if it
/// does not. Entries with a port match only that port. With an empty `no_proxy` nothing
/// bypasses; with `*` everything does.
/// Thread safety: a pure function.
bool proxy_bypassed(const ProxyConfig& proxy, std::string_view host, std::uint16_t port = 0);

/// Automatic retries of idempotent OpenAPI calls (the api layer applies them; an exec is
/// never retried after an unknown outcome, whatever these say).
struct RetryConfig {
    bool enabled = true;  ///< default true; false = every call makes exactly one attempt
    /// Attempts in total, the first included; default 10; 1..100; 1 = no retry. Ten, not
    /// five: when a quarter of the attempts fail transiently (throttling, 503, resets), five
    /// attempts lose one call in ~900, so a fan-out of 100 lifecycles loses one or two; ten
    /// lose one in ~850000 (docs/transport.md, "Retry budget"). overall_deadline still bounds
    /// the call.
    int max_attempts = 10;
    std::chrono::milliseconds initial_backoff{200};  ///< delay before the 2nd attempt; default
                                                     ///< 200 ms; 0 = retry at once
    std::chrono::milliseconds max_backoff{10000};    ///< cap on any one delay; default 10 s;
                                                     ///< must be >= initial_backoff
    double multiplier = 2.0;  ///< growth of the delay per attempt; default 2.0; 1.0..10.0
    /// Budget for one call across all its attempts and delays. Default 60 s; 0 = none (only
    /// max_attempts bounds the call).
    std::chrono::milliseconds overall_deadline{60000};
    /// Budget of the library's own deletes (remove(), the cleanup of a failed create, open or
    /// guard, reap): while the service keeps answering with Throttling or 5xx they go on this
    /// long, because a sandbox left behind bills until someone notices; a service that cannot
    /// be reached gets overall_deadline (60 s when that is 0). Default 5 min; 0 = the same as
    /// overall_deadline.
    std::chrono::milliseconds cleanup_deadline{300000};
    /// How long an action's throttle gate stays closed after a call of it is throttled (every
    /// caller of that action on this client waits it out). Default 1 s; >= 1 ms.
    std::chrono::milliseconds throttle_initial_backoff{1000};
    /// The longest it stays closed: throttled again within 10 s of reopening doubles the
    /// closed time, up to this. Default 30 s; >= throttle_initial_backoff.
    std::chrono::milliseconds throttle_max_backoff{30000};
};

/// The HTTPS keep-alive connection pool.
struct PoolConfig {
    /// Open connections per endpoint (host, port, proxy), idle or busy. Default 16; 1..4096;
    /// 0 is refused by validate_config(). Callers beyond it wait for a free connection.
    std::size_t max_connections_per_endpoint = 16;
    /// How long an idle connection is kept for reuse. Default 30 s; 0 = never reuse (close
    /// each connection after its response).
    std::chrono::milliseconds idle_timeout{30000};
};

/// The pace of one OpenAPI action on the client side (a rolling minute or a token bucket).
struct ActionRateLimit {
    /// Sustained calls per minute. <= 0 = this action is not limited.
    double per_minute = 0;
    /// Default 0 = a rolling minute: at most per_minute calls (rounded down, at least 1) in any
    /// 60 s, each sent as soon as that allows. > 0 = a token bucket of that size refilled at
    /// per_minute / 60 per second; per_minute / 60 (the default before 0.2) suits an account
    /// whose limit behaves per second. Negative is refused by validate_config().
    double burst = 0;
};

/// The service's documented per-account limits, calls per minute (docs/configuration.md,
/// "Rate limits", has the figures and their source): DescribeContainerGroups 2000,
/// CreateContainerGroup 1000, DeleteContainerGroup 1000, ExecContainerCommand 500,
/// DescribeContainerLog 500, RestartContainerGroup 500, and the other listed actions.
/// Actions the documentation does not list are absent (not limited).
/// Thread safety: returns a reference to an immutable table.
const std::map<std::string, ActionRateLimit, std::less<>>& documented_rate_limits();

/// Client-side pacing of OpenAPI calls, so that a fan-out waits its turn instead of collecting
/// throttling errors. Each attempt (retries included) takes a send slot of its action's pacer.
struct RateLimitConfig {
    /// Default true. false: no per-action pacing (max_concurrent still applies).
    bool enabled = true;
    /// Per-action limits that replace (or add to) documented_rate_limits(); an entry with
    /// per_minute <= 0 removes the limit of that action. Default empty.
    std::map<std::string, ActionRateLimit, std::less<>> per_action;
    /// API requests in flight at once on this client: a slot is held for one attempt's
    /// exchange, not through backoffs and throttle-gate waits; further attempts wait in FIFO
    /// order within their call's deadline. Default 64; 0 = no cap.
    std::size_t max_concurrent = 64;
    /// Exec starts in flight at once on one sandbox client: from the ExecContainerCommand
    /// call to the end of its WebSocket's TCP connect, TLS handshake and upgrade (bash,
    /// exec_command, tmux and file operations, ShellSession opens and reconnects). Further
    /// starts wait in FIFO order, within their command's deadline; a running command holds
    /// no slot. Without it a fan-out of 1000 sandboxes opens 1000 WebSockets at once and the
    /// handshakes time out. Default 32; 0 = no cap; at most 1000000.
    std::size_t max_concurrent_exec_starts = 32;
    /// How long a call without its own deadline (CallOptions::deadline) may wait for its
    /// action's pace before it fails with ErrorKind::timeout and Dispatch::not_sent. Default
    /// 1 hour: a fan-out of thousands queues for minutes at the documented figures (10,000
    /// creates take ten) and should not fail for it. Such a wait does not count against
    /// RetryConfig::overall_deadline, which starts once the call may be sent; cancel the call
    /// to stop waiting sooner. A call with its own deadline (exec starts, the library's
    /// deletes) waits within that deadline. 0 = RetryConfig::overall_deadline bounds the wait
    /// too (as before 0.2).
    std::chrono::milliseconds max_wait{std::chrono::hours(1)};

    /// The limit in force for `action`: `per_action`, else the documented one, else none
    /// (per_minute 0). Ignores `enabled`.
    ActionRateLimit limit_for(std::string_view action) const;
};

/// Leak prevention: the tags create() puts on every sandbox (see docs/leases.md).
struct LeaseConfig {
    /// Tag every created sandbox with `eci-sandbox:owner`, `eci-sandbox:lease-expires` and
    /// `eci-sandbox:process`. Default true. Tags the caller sets with these keys win.
    bool tag_sandboxes = true;
    /// The owner tag's value. Default empty = `<user>@<host>` of this process (env USER or
    /// the passwd entry, and gethostname). At most 128 characters, not starting with
    /// `aliyun` or `acs:`, without `http://` or `https://` (the service's tag rules).
    std::string owner;
    /// The lease of a sandbox created without CreateOptions::lease (env
    /// ECI_SANDBOX_LEASE_SECONDS): the service ends the sandbox this long after its creation
    /// (ActiveDeadlineSeconds), so one a crashed or forgetful program leaves behind stops
    /// costing money. Default 30 minutes (docs/leases.md, "The default lease", says why).
    /// 0 (eci::no_lease) = none: the sandbox is tagged `never`, gets no ActiveDeadlineSeconds
    /// and runs until deleted. Negative is refused by validate_config().
    std::chrono::seconds default_lease{default_lease_seconds};

    /// The default of default_lease, in seconds (30 minutes). Before 0.2 the default was none.
    static constexpr std::int64_t default_lease_seconds = 1800;
};

/// A lease of zero: no lease at all (`never`). For LeaseConfig::default_lease, or
/// CreateOptions::lease to keep one sandbox alive until it is deleted whatever the default.
inline constexpr std::chrono::seconds no_lease{0};

/// Everything a client needs. Build one with load_config() or by hand (then check it with
/// validate_config()). Formatting with fmt redacts every secret.
struct ClientConfig {
    /// Required (id and secret) with CredentialSource::static_keys; ignored otherwise.
    Credentials credentials;
    /// Default static_keys. load_config() picks ecs_ram_role when asked to or when the chain
    /// gets there (docs/configuration.md, "Credential chain").
    CredentialSource credential_source = CredentialSource::static_keys;
    EcsMetadataConfig ecs_metadata;         ///< used with CredentialSource::ecs_ram_role only
    std::string region_id = "cn-shanghai";  ///< RegionId of every call; default "cn-shanghai"
    Endpoint endpoint;  ///< default: https://eci.<region_id>.aliyuncs.com (filled by load_config)
    SignatureVersion signature_version = SignatureVersion::acs3;  ///< default acs3
    TimeoutConfig timeouts;
    TlsConfig tls;
    ProxyConfig proxy;
    RetryConfig retry;
    PoolConfig pool;
    RateLimitConfig rate_limit;
    LeaseConfig lease;
    /// Largest accepted response body; a bigger one fails with ErrorKind::protocol. Default
    /// 16 MiB; 0 is refused by validate_config().
    std::size_t max_response_body_bytes = 16u * 1024u * 1024u;
    /// Called at the start and end (or failure) of every OpenAPI attempt, for metrics and
    /// tracing (include/eci/call_hook.hpp, docs/configuration.md "Observing calls"). Default
    /// empty: nothing is called. Not read from the environment.
    CallHook call_hook{};
};

/// Checks a hand-built configuration: credentials present, region id made of `[a-z0-9-]`,
/// endpoint host set with scheme http/https, a parsable proxy URL, and every number within
/// the range its field documents.
///
/// Errors: ErrorKind::auth for missing credentials, ErrorKind::invalid_argument otherwise.
/// Messages never hold a secret. Thread safety: a pure function.
Result<void> validate_config(const ClientConfig& config);

/// Values given explicitly by the program; each one set beats every other source.
struct ConfigOverrides {
    std::optional<std::string> access_key_id;
    std::optional<std::string> access_key_secret;
    std::optional<std::string> security_token;
    std::optional<std::string> region_id;
    std::optional<std::string> endpoint;  ///< any form parse_endpoint() accepts
    /// Request timeout (sets timeouts.read, and caps timeouts.connect); must be > 0.
    std::optional<std::chrono::milliseconds> timeout;
    std::optional<std::string> ca_file;
    std::optional<std::string> https_proxy;  ///< an empty string explicitly means "no proxy"
    std::optional<std::string> no_proxy;     ///< an empty string explicitly means "bypass none"
    std::optional<SignatureVersion> signature_version;
    /// A profile of the Alibaba Cloud CLI's config file to take the credentials (and, unless
    /// a region is given, the region) from; beats every other credential source. Its mode
    /// must be AK, StsToken or EcsRamRole.
    std::optional<std::string> profile;
    /// The credential source, chosen explicitly (beats the chain; like ECI_CREDENTIALS).
    std::optional<CredentialSource> credential_source;
    /// The RAM role for ecs_ram_role (like ALIBABA_CLOUD_ECS_METADATA).
    std::optional<std::string> ram_role_name;
    /// The metadata endpoint for ecs_ram_role (like ECI_ECS_METADATA_ENDPOINT).
    std::optional<std::string> ecs_metadata_endpoint;
    /// A .env file to read instead of searching for one; relative paths are resolved against
    /// ConfigSources::working_directory. It must exist and be readable.
    std::optional<std::filesystem::path> dotenv_path;
};

/// The value of a process environment variable, or nullopt when it is not set.
/// Thread safety: as std::getenv (safe unless another thread modifies the environment).
std::optional<std::string> process_environment(std::string_view name);

/// Where load_config() looks besides the overrides; tests inject their own.
struct ConfigSources {
    /// Reads one environment variable. Default: the process environment. An empty function
    /// means "no environment". Variables set to the empty string count as not set.
    std::function<std::optional<std::string>(std::string_view)> getenv = process_environment;
    /// Where the .env search starts and what relative paths are resolved against.
    /// Default empty = the process's current directory.
    std::filesystem::path working_directory;
    /// Whether to search for a .env walking up from working_directory. Default true. An
    /// explicit ConfigOverrides::dotenv_path is read regardless.
    bool read_dotenv = true;
};

/// Builds a ClientConfig. Credentials follow the official credential chain (the first
/// source that has them wins; docs/configuration.md, "Credential chain"):
///  0. an explicit choice: ConfigOverrides::profile, ConfigOverrides::credential_source or
///     ECI_CREDENTIALS=ecs_ram_role;
///  1. an AccessKey from the overrides, the environment or the .env file (below);
///  2. (OIDC, the official chain's second step, is not supported and skipped);
///  3. a profile of the Alibaba Cloud CLI's config file (ALIBABA_CLOUD_CONFIG_FILE, else
///     $HOME/.aliyun/config.json), the one ALIBABA_CLOUD_PROFILE names or the file's current
///     one, when the file exists;
///  4. the ECS RAM role, when ALIBABA_CLOUD_ECS_METADATA names it (and
///     ALIBABA_CLOUD_ECS_METADATA_DISABLED is not true).
/// For every other value the first source that has it wins:
///  1. the explicit override;
///  2. the `ECI_SANDBOX_*` environment variable;
///  3. the `ALIBABA_CLOUD_*` environment variable (credentials and region only);
///  4. the .env file (the same names, same order): `overrides.dotenv_path`, else the first
///     `.env` found walking up from `sources.working_directory`.
/// The security token is taken from the same source (and name family) as the access key id,
/// so an STS token never pairs with an unrelated key. Proxy variables are `https_proxy`,
/// `HTTPS_PROXY`, `no_proxy`, `NO_PROXY` (lowercase first, as curl does). Unset values keep
/// their defaults; the endpoint defaults to `https://eci.<region>.aliyuncs.com`.
/// See docs/configuration.md for every variable.
///
/// Errors: ErrorKind::auth when the access key id or secret is missing (the message names
/// the variables to set) or the RAM role is chosen while ALIBABA_CLOUD_ECS_METADATA_DISABLED
/// is true; ErrorKind::invalid_argument for an unreadable or unsupported profile, an invalid
/// number, region, endpoint, metadata endpoint, proxy URL, signature version, a missing CA file, a
/// .env syntax error (with its line number) or an explicit .env that cannot be read. No message
/// holds a value. Thread safety: safe to call concurrently if `sources.getenv` is.
Result<ClientConfig> load_config(const ConfigOverrides& overrides = {},
                                 const ConfigSources& sources = {});

}  // namespace eci

template <>
struct fmt::formatter<eci::Credentials> : fmt::formatter<std::string_view> {
    fmt::format_context::iterator format(const eci::Credentials& credentials,
                                         fmt::format_context& ctx) const;
};

template <>
struct fmt::formatter<eci::CredentialSource> : fmt::formatter<std::string_view> {
    fmt::format_context::iterator format(eci::CredentialSource source,
                                         fmt::format_context& ctx) const;
};

template <>
struct fmt::formatter<eci::SignatureVersion> : fmt::formatter<std::string_view> {
    fmt::format_context::iterator format(eci::SignatureVersion version,
                                         fmt::format_context& ctx) const;
};

/// `scheme://authority`, e.g. "https://eci.cn-shanghai.aliyuncs.com".
template <>
struct fmt::formatter<eci::Endpoint> : fmt::formatter<std::string_view> {
    fmt::format_context::iterator format(const eci::Endpoint& endpoint,
                                         fmt::format_context& ctx) const;
};

/// Every field on one line, with credentials and the proxy password redacted.
template <>
struct fmt::formatter<eci::ClientConfig> : fmt::formatter<std::string_view> {
    fmt::format_context::iterator format(const eci::ClientConfig& config,
                                         fmt::format_context& ctx) const;
};
