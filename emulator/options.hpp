// SPDX-License-Identifier: Apache-2.0
// EmulatorOptions: everything `eci-emulator` can be told on its command line, as a plain
// aggregate so tests build it directly and the CLI only parses into it.
#pragma once

#include "emulator/runtime/runtime_options.hpp"

#include <eci/result.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace eci::emulator {

/// How the server speaks on its socket.
enum class TlsMode {
    self_signed,  ///< HTTPS/WSS with a CA generated at start (its PEM written to the state dir)
    off,          ///< plain HTTP/WS
};

/// What the exec WebSocket sends just before its normal close.
enum class ExitStatusMode {
    none,      ///< nothing: a plain close (1000)
    channel4,  ///< a binary frame 0x04 + the decimal exit code
    k8s,       ///< a binary frame 0x03 + a Kubernetes v1.Status JSON; resize arrives on channel 4
};

/// Failure injection. Probabilities are in [0, 1]; 0 disables a fault. Every decision is
/// drawn from one generator seeded with EmulatorOptions::seed, in request order, so a run
/// with the same seed and the same request sequence injects the same faults.
struct FaultOptions {
    double throttle = 0;        ///< probability of Throttling.User
    int throttle_status = 400;  ///< HTTP status of Throttling.User (400 or 429)
    double unavailable = 0;     ///< probability of 503 ServiceUnavailable
    double reset = 0;           ///< probability of closing the connection without a reply
    double ws_drop = 0;         ///< probability that an exec WebSocket is cut mid-stream
    std::chrono::milliseconds latency{0};  ///< added before every API reply; 0 = none
    /// Per-action token buckets: action name -> calls per second (bucket size = max(1, N)).
    std::map<std::string, double, std::less<>> qps_limits;
    /// The actions the probabilistic API faults (throttle, unavailable, reset) apply to; empty
    /// (default) = every action. Tests use it to fail one action only (e.g. every
    /// CreateContainerGroup reset) while the others answer.
    std::set<std::string, std::less<>> actions;
};

/// The ECS instance metadata service the emulator can serve on a listener of its own
/// (`--metadata-listen`; emulator/metadata_service.hpp, docs/emulator.md "Metadata service").
struct MetadataOptions {
    bool enabled = false;                         ///< serve it (default off)
    std::string listen_host = "127.0.0.1";        ///< loopback unless EmulatorOptions::allow_remote
    std::uint16_t listen_port = 0;                ///< 0 = ephemeral (ReadyInfo::metadata_endpoint)
    std::string role_name = "eci-emulator-role";  ///< the role attached to the "instance"
    /// How long each set of credentials lives. Default 1 h; tests use seconds to see a refresh.
    std::chrono::seconds credential_ttl{3600};
    /// Hardened mode (IMDSv2 only): a request without a valid session token gets 403.
    bool require_token = false;
    /// false: PUT /latest/api/token answers 404, as a service without IMDSv2 would, so a
    /// client's IMDSv1 fallback can be tested.
    bool token_endpoint = true;
};

/// Per-minute limits per AccessKey and action, as the service enforces them (eci-api.md
/// section 5; docs/emulator.md, "The realistic profile"). A call beyond its bucket gets
/// Throttling.User with FaultOptions::throttle_status. Off by default.
struct AccountRateLimitOptions {
    /// Enforce the documented limits of lib/core's action table (core/actions.*:
    /// CreateContainerGroup 1000, DescribeContainerGroups 2000, ExecContainerCommand 500...).
    /// `--profile realistic` turns it on.
    bool documented = false;
    /// Calls per minute per action (`--rate-limit Action=N/min`), replacing the documented
    /// figure or adding one; <= 0 removes the action's limit. Default empty.
    std::map<std::string, double, std::less<>> per_minute;
};

/// When a sandbox gets its processes (`--runtime`).
enum class RuntimeStart {
    /// `eager`, the default: every container's processes start when the sandbox turns Running,
    /// as the service's containers do.
    at_running,
    /// `lazy`: the sandbox turns Running without processes; they start at its first exec
    /// (ExecContainerCommand, either kind) and live until it is deleted. For fan-outs of
    /// thousands of sandboxes on one host (docs/emulator.md, "The lazy runtime").
    at_first_exec,
};

/// The profiles `--profile` names.
enum class Profile {
    fast,       ///< the default: sandboxes start in 300 ms, no limits
    realistic,  ///< start delays, the service's events and its per-minute limits
};

struct EmulatorOptions {
    std::string listen_host = "127.0.0.1";  ///< address to bind; loopback unless allow_remote
    std::uint16_t listen_port = 0;          ///< 0 = ephemeral (see Emulator::ready())
    bool allow_remote = false;              ///< permit a non-loopback listen address
    std::string region_id = "cn-hangzhou";  ///< the only RegionId the emulator accepts
    std::string access_key_id;              ///< empty = generated at start
    std::string access_key_secret;          ///< empty = generated at start
    std::string security_token;             ///< non-empty = STS: requests must carry it
    /// Sandboxes' network: a private namespace with loopback only (default) or the host's.
    SandboxNetwork sandbox_network = SandboxNetwork::none;
    /// Most processes per sandbox (pids cgroup); 0 = none (RuntimeOptions::pids_limit).
    std::uint64_t sandbox_pids_limit = 1024;
    /// Each sandbox in its own user namespace (RuntimeOptions::user_namespace).
    bool sandbox_userns = true;
    /// First host id of the sandboxes' id ranges (RuntimeOptions::userns_base).
    std::uint32_t sandbox_userns_base = 1'000'000'000;
    TlsMode tls = TlsMode::self_signed;
    std::string state_dir;  ///< where the CA PEM goes; empty = a fresh temp dir (removed on stop)
    std::chrono::milliseconds start_delay{300};  ///< Pending -> Running delay; 0 = immediate
    /// When above start_delay: each start draws its delay uniformly from [start_delay,
    /// start_delay_max] (seeded by `seed`). Default 0 = always start_delay.
    std::chrono::milliseconds start_delay_max{0};
    /// While a sandbox starts, also report the image pull as the service does: Pulling at a
    /// fifth of the start delay, Pulled (with the pull's duration) at four fifths, then
    /// Created and Started. Default false: one Pulled "already present" event at the start.
    bool image_pull_events = false;
    /// Service time runs this many times faster than real time (> 0, default 1): the start
    /// and terminate delays and the windows of `account_limits` are divided by it. Every
    /// figure the emulator reports (options, events, stats) stays in service time.
    double time_scale = 1;
    AccountRateLimitOptions account_limits;
    /// When sandboxes get their processes: when Running (default) or at their first exec.
    RuntimeStart runtime_start = RuntimeStart::at_running;
    /// How long a deleted sandbox stays listed as Terminating (its processes die at once);
    /// 0 (default) = gone from listings as soon as DeleteContainerGroup returns.
    std::chrono::milliseconds terminate_delay{0};
    std::uint64_t seed = 1;  ///< seeds fault decisions and generated ids
    ExitStatusMode exit_status = ExitStatusMode::none;
    std::size_t exec_command_limit = 2048;  ///< max total bytes of ExecContainerCommand.Command
    /// Also enforce the API reference's per-element rules on ExecContainerCommand.Command (at
    /// most 20 elements of at most 256 characters each). Off by default: the official Python
    /// package sends single elements of up to about 1,900 bytes and the real service runs them
    /// (docs/emulator.md, "Fidelity"). `--strict-command-limits` turns it on.
    bool strict_command_limits = false;
    std::chrono::seconds exec_url_ttl{30};        ///< how long a WebSocketUri stays usable
    std::chrono::seconds sync_exec_timeout{600};  ///< Sync=true exec is killed after this
    /// Sandboxes asking for more vCPU than this are accepted by CreateContainerGroup, then
    /// end in ScheduleFailed with a Warning event `NoStock`, as the service reports a zone out
    /// of stock. 0 (default) = no limit.
    double max_sandbox_cpu = 0;
    /// Connection limits (docs/emulator.md, "Connection limits"). A connection beyond either
    /// bound is closed as soon as it is accepted, so idle or stalled clients cannot hold the
    /// descriptors and memory that legitimate ones need.
    /// Open client connections in total (HTTP keep-alive and exec WebSockets). The server
    /// also never takes more than half its RLIMIT_NOFILE: sandbox processes need the rest.
    std::size_t max_connections = 4096;
    /// Open connections from one client address. The default admits the project's fan-out
    /// bench (1000 sandboxes, one exec session each plus the API pool) from one client.
    std::size_t max_connections_per_peer = 2048;
    /// A new connection must finish its TLS handshake and send its first request within this.
    std::chrono::milliseconds handshake_timeout{10'000};
    /// A keep-alive connection with no request in progress is closed after this. Longer than
    /// the client library's pool idle time (30 s), so the client closes first.
    std::chrono::milliseconds idle_timeout{60'000};
    /// Tests only (no flag): RuntimeOptions::exec_child_stall, init_child_stall and
    /// kill_timeout of the runtime.
    std::chrono::milliseconds exec_child_stall{0};
    std::chrono::milliseconds init_child_stall{0};
    std::chrono::milliseconds kill_timeout{10'000};
    FaultOptions faults;
    MetadataOptions metadata;
};

/// Sets what `profile` means, over the options given: for realistic, start delays drawn from
/// 10000-40000 ms, the image pull events and the documented per-minute limits per AccessKey
/// (docs/emulator.md, "The realistic profile"). fast changes nothing.
void apply_profile(EmulatorOptions& options, Profile profile);

/// A service-time duration in real time under `time_scale` (rounded to the nearest
/// microsecond, at least 1 us when `service` is positive).
std::chrono::steady_clock::duration scaled_duration(std::chrono::milliseconds service,
                                                    double time_scale);

/// Parsed command line: options, or a request for --help.
struct CommandLine {
    EmulatorOptions options;
    bool help = false;
};

/// Environment variables the secrets are taken from when no flag gives them: the safe way
/// to pass them (argv is visible to every user through `ps` and /proc/PID/cmdline).
inline constexpr std::string_view access_key_secret_env = "ECI_EMULATOR_ACCESS_KEY_SECRET";
inline constexpr std::string_view security_token_env = "ECI_EMULATOR_SECURITY_TOKEN";

/// Parses `eci-emulator` arguments (argv without the program name). `environment` looks up
/// an environment variable (access_key_secret_env, security_token_env); null = none.
/// --access-key-secret-file and --security-token-file are read here (trailing newlines
/// stripped). Precedence: the flag, then the file, then the environment.
/// Errors: invalid_argument naming the offending flag or value (never the secret itself).
Result<CommandLine> parse_command_line(
    const std::vector<std::string_view>& args,
    const std::function<std::optional<std::string>(std::string_view)>& environment = nullptr);

/// Overwrites, in place, the values of --access-key-secret and --security-token in a
/// process's argv (both `--flag value` and `--flag=value`), so they no longer show in
/// /proc/PID/cmdline and `ps` once the process has parsed them. Returns how many it hid.
int scrub_secret_arguments(int argc, char** argv) noexcept;

/// The --help text.
std::string_view usage_text() noexcept;

/// Whether `host` is a loopback address literal or "localhost".
bool is_loopback_host(std::string_view host);

}  // namespace eci::emulator
