// SPDX-License-Identifier: Apache-2.0
#include "options.hpp"

#include "core/ecs_metadata.hpp"

#include <boost/asio/ip/address.hpp>

#include <fmt/format.h>
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>

namespace eci::emulator {

namespace {

constexpr std::string_view usage = R"(Usage: eci-emulator [options]

A local ECI OpenAPI (2018-08-08, RPC style) server backed by real sandbox processes.
When ready it prints one JSON line on stdout:
  {"endpoint":"127.0.0.1:PORT","scheme":"https","ca_file":"...","region_id":"...",
   "access_key_id":"...","access_key_secret":"..."}
and serves until SIGINT/SIGTERM, then removes every sandbox and exits 0.

Options:
  --listen HOST:PORT         bind address (default 127.0.0.1:0, 0 = ephemeral port)
  --allow-remote             permit a non-loopback listen address
  --region ID                the region served (default cn-hangzhou)
  --access-key-id ID         accepted AccessKeyId (default: generated)
  --access-key-secret-file F read its secret from file F (default: generated)
  --access-key-secret S      its secret on the command line: VISIBLE TO EVERY USER (ps)
                             until parsed; prefer the file or ECI_EMULATOR_ACCESS_KEY_SECRET
  --security-token-file F    require the STS token read from file F on every call
  --security-token T         the same on the command line (visible like the secret; or set
                             ECI_EMULATOR_SECURITY_TOKEN)
  --sandbox-network none|host  sandboxes get a private network with loopback only (none,
                             default) or share the host's: then code in a sandbox reaches
                             this API, every loopback service and whatever the host reaches
  --sandbox-pids-limit N     most processes per sandbox (default 1024, 0 = none); with Cpu
                             and Memory enforced through cgroups where writable
  --sandbox-userns on|off    each sandbox in its own user namespace (on, default): its root
                             is host uid/gid BASE + 65536 x n, not the host's root
  --sandbox-userns-base N    BASE, the first host id of those ranges (default 1000000000)
  --tls self-signed|off      HTTPS with a generated CA (default) or plain HTTP
  --state-dir DIR            where ca.pem is written (default: a fresh temp dir)
  --start-delay-ms N|A-B     Pending -> Running delay (default 300); A-B draws each
                             sandbox's delay uniformly from A to B ms
  --terminate-delay-ms N     how long a deleted sandbox stays listed as Terminating (default 0)
Profiles (docs/emulator.md, "The realistic profile"):
  --profile fast|realistic   fast (default): the delays above, no limits. realistic: start
                             delays of 10000-40000 ms with the service's events (Scheduled,
                             Pulling, Pulled, Created, Started) and the documented per-minute
                             limits per AccessKey and action (Throttling.User beyond them);
                             --start-delay-ms and --rate-limit still override it
  --time-scale K             service time runs K times faster (K > 0, default 1): start and
                             terminate delays and limit windows are divided by K; reported
                             figures stay in service time
  --runtime eager|lazy       when a sandbox's processes start: when it turns Running (eager,
                             default) or at its first exec (lazy: thousands of sandboxes
                             fit on one host; DescribeContainerLog is empty until then)
  --rate-limit Action=N/min  at most N calls a minute per AccessKey to Action (repeatable;
                             N = 0 lifts the action's limit); with or without the profile
  --seed N                   seed of fault decisions, generated ids and drawn start delays
                             (default 1)
  --exit-status MODE         none|channel4|k8s: exec WebSocket exit frame (default none)
  --exec-command-limit N     max bytes of ExecContainerCommand.Command (default 2048)
  --strict-command-limits    also refuse a Command of over 20 elements or with an element of
                             over 256 characters (the API reference's rule; off by default,
                             as the real service runs longer elements)
  --max-sandbox-cpu N        sandboxes above N vCPU end ScheduleFailed/NoStock (default 0: none)
Connection limits (docs/emulator.md, "Connection limits"):
  --max-connections N        open client connections in total, HTTP and exec WebSockets
                             (default 4096; at most half the descriptor limit)
  --max-connections-per-peer N  open connections from one client address (default 2048)
  --handshake-timeout-ms N   a new connection's TLS handshake and first request (default 10000)
  --idle-timeout-ms N        a keep-alive connection idle between requests (default 60000)
ECS instance metadata service (docs/emulator.md, "Metadata service"):
  --metadata-listen HOST:PORT  also serve it over plain HTTP (PORT 0 = ephemeral; the ready
                             line then has "metadata_endpoint"); its STS credentials are
                             accepted by the API until they expire
  --metadata-role NAME       the RAM role attached (default eci-emulator-role)
  --metadata-credential-ttl SECONDS  lifetime of each set of credentials (default 3600)
  --metadata-imdsv2-only     refuse requests without a session token (hardened mode)
Faults (probabilities in [0,1]):
  --fault-throttle P         reply Throttling.User
  --throttle-status 400|429  HTTP status for Throttling.User (default 400)
  --fault-unavailable P      reply 503 ServiceUnavailable
  --fault-reset P            close the connection without a reply (before or after the action)
  --fault-ws-drop P          cut an exec WebSocket mid-stream
  --latency-ms N             delay every API reply by N ms
  --qps-limit Action=N       N calls a second to Action, all keys together (a fault: a
                             token bucket of N per action, repeatable)
  --help                     this text
)";

Error bad(std::string message) {
    return Error::make(ErrorKind::invalid_argument, std::move(message));
}

// A secret from a file: the whole content without trailing newlines (never echoed back).
Result<std::string> read_secret_file(std::string_view flag, std::string_view path) {
    std::ifstream in{std::string(path), std::ios::binary};
    if (!in)
        return bad(fmt::format("{}: cannot read '{}'", flag, path));
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r'))
        text.pop_back();
    if (text.empty())
        return bad(fmt::format("{}: '{}' is empty", flag, path));
    return text;
}

template <class Int>
Result<Int> parse_int(std::string_view flag, std::string_view text) {
    Int value{};
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size()) {
        return bad(fmt::format("{}: '{}' is not a valid number", flag, text));
    }
    return value;
}

Result<double> parse_double(std::string_view flag, std::string_view text, double min, double max) {
    double value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size() || value < min || value > max) {
        return bad(fmt::format("{}: '{}' must be a number in [{}, {}]", flag, text, min, max));
    }
    return value;
}

Result<void> parse_listen(std::string_view flag, std::string_view text, std::string& host_out,
                          std::uint16_t& port_out) {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos)
        return bad(fmt::format("{}: expected HOST:PORT", flag));
    std::string_view host = text.substr(0, colon);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
    }
    if (host.empty())
        return bad(fmt::format("{}: empty host", flag));
    auto port = parse_int<std::uint16_t>(flag, text.substr(colon + 1));
    if (!port)
        return port.error();
    host_out = std::string(host);
    port_out = *port;
    return {};
}

// "N" or "A-B" (A <= B), milliseconds.
Result<void> parse_delay_range(std::string_view flag, std::string_view text,
                               std::chrono::milliseconds& low, std::chrono::milliseconds& high) {
    const auto dash = text.find('-');
    if (dash == std::string_view::npos) {
        auto n = parse_int<std::uint32_t>(flag, text);
        if (!n)
            return n.error();
        low = std::chrono::milliseconds(*n);
        high = std::chrono::milliseconds(0);
        return {};
    }
    auto a = parse_int<std::uint32_t>(flag, text.substr(0, dash));
    auto b = parse_int<std::uint32_t>(flag, text.substr(dash + 1));
    if (!a || !b)
        return bad(fmt::format("{}: '{}' is not N or A-B (milliseconds)", flag, text));
    if (*a > *b)
        return bad(fmt::format("{}: '{}': the range's start is above its end", flag, text));
    low = std::chrono::milliseconds(*a);
    high = std::chrono::milliseconds(*b);
    return {};
}

// "Action=N/min": the per-minute unit is spelled out, so it is never read as --qps-limit's
// per-second figure.
Result<void> parse_rate_limit(std::string_view text, AccountRateLimitOptions& limits) {
    constexpr std::string_view flag = "--rate-limit";
    constexpr std::string_view unit = "/min";
    const auto eq = text.find('=');
    if (eq == std::string_view::npos || eq == 0 || !text.ends_with(unit))
        return bad(fmt::format("{}: expected Action=N/min, got '{}'", flag, text));
    auto n = parse_double(flag, text.substr(eq + 1, text.size() - eq - 1 - unit.size()), 0, 1e9);
    if (!n)
        return n.error();
    limits.per_minute[std::string(text.substr(0, eq))] = *n;
    return {};
}

}  // namespace

void apply_profile(EmulatorOptions& options, Profile profile) {
    if (profile != Profile::realistic)
        return;
    // Typical starts of the real service for an image not cached on the node: 10 to 40 s
    // (docs/emulator.md, "The realistic profile", says where the figures come from).
    options.start_delay = std::chrono::milliseconds(10'000);
    options.start_delay_max = std::chrono::milliseconds(40'000);
    options.image_pull_events = true;
    options.account_limits.documented = true;
}

std::chrono::steady_clock::duration scaled_duration(std::chrono::milliseconds service,
                                                    double time_scale) {
    if (service.count() <= 0)
        return std::chrono::steady_clock::duration::zero();
    // The parser refuses a scale <= 0; options built in code get no scaling from one.
    const double scale = time_scale > 0 ? time_scale : 1;
    const double micros = static_cast<double>(service.count()) * 1000.0 / scale;
    return std::chrono::microseconds(std::max<std::int64_t>(1, std::llround(micros)));
}

std::string_view usage_text() noexcept {
    return usage;
}

bool is_loopback_host(std::string_view host) {
    if (host == "localhost")
        return true;
    boost::system::error_code ec;
    auto address = boost::asio::ip::make_address(std::string(host), ec);
    return !ec && address.is_loopback();
}

Result<CommandLine> parse_command_line(
    const std::vector<std::string_view>& args,
    const std::function<std::optional<std::string>(std::string_view)>& environment) {
    CommandLine result;
    EmulatorOptions& o = result.options;
    std::string secret_from_file;
    std::string token_from_file;
    // Applied after the loop, so a flag overrides the profile wherever it stands.
    Profile profile = Profile::fast;
    std::optional<std::pair<std::chrono::milliseconds, std::chrono::milliseconds>> start_delay;
    for (std::size_t i = 0; i < args.size(); ++i) {
        std::string_view flag = args[i];
        std::string_view inline_value;
        bool has_inline = false;
        if (auto eq = flag.find('='); flag.starts_with("--") && eq != std::string_view::npos) {
            inline_value = flag.substr(eq + 1);
            flag = flag.substr(0, eq);
            has_inline = true;
        }
        auto value = [&]() -> Result<std::string_view> {
            if (has_inline)
                return inline_value;
            if (i + 1 >= args.size())
                return bad(fmt::format("{} needs a value", flag));
            return args[++i];
        };
        auto take = [&](auto&& apply) -> Result<void> {
            auto v = value();
            if (!v)
                return v.error();
            return apply(*v);
        };
        Result<void> step;
        if (flag == "--help" || flag == "-h") {
            result.help = true;
        } else if (flag == "--allow-remote") {
            o.allow_remote = true;
        } else if (flag == "--listen") {
            step = take([&](std::string_view v) {
                return parse_listen(flag, v, o.listen_host, o.listen_port);
            });
        } else if (flag == "--metadata-listen") {
            o.metadata.enabled = true;
            step = take([&](std::string_view v) {
                return parse_listen(flag, v, o.metadata.listen_host, o.metadata.listen_port);
            });
        } else if (flag == "--metadata-role") {
            step = take([&](std::string_view v) -> Result<void> {
                if (!eci::detail::is_valid_role_name(v))
                    return bad("--metadata-role: at most 64 letters, digits, '-', '_' or '.'");
                o.metadata.role_name = std::string(v);
                return {};
            });
        } else if (flag == "--metadata-credential-ttl") {
            step = take([&](std::string_view v) -> Result<void> {
                auto n = parse_int<std::uint32_t>(flag, v);
                if (!n)
                    return n.error();
                if (*n < 1 || *n > 43200)
                    return bad("--metadata-credential-ttl: expected 1 to 43200 seconds");
                o.metadata.credential_ttl = std::chrono::seconds(*n);
                return {};
            });
        } else if (flag == "--metadata-imdsv2-only") {
            o.metadata.require_token = true;
        } else if (flag == "--region") {
            step = take([&](std::string_view v) -> Result<void> {
                if (v.empty())
                    return bad("--region: empty");
                o.region_id = std::string(v);
                return {};
            });
        } else if (flag == "--access-key-id") {
            step = take([&](std::string_view v) -> Result<void> {
                o.access_key_id = std::string(v);
                return {};
            });
        } else if (flag == "--access-key-secret") {
            step = take([&](std::string_view v) -> Result<void> {
                o.access_key_secret = std::string(v);
                return {};
            });
        } else if (flag == "--access-key-secret-file" || flag == "--security-token-file") {
            std::string* target =
                flag == "--access-key-secret-file" ? &secret_from_file : &token_from_file;
            step = take([&](std::string_view v) -> Result<void> {
                auto text = read_secret_file(flag, v);
                if (!text)
                    return text.error();
                *target = std::move(*text);
                return {};
            });
        } else if (flag == "--sandbox-network") {
            step = take([&](std::string_view v) -> Result<void> {
                if (v == "none") {
                    o.sandbox_network = SandboxNetwork::none;
                } else if (v == "host") {
                    o.sandbox_network = SandboxNetwork::host;
                } else {
                    return bad("--sandbox-network: expected none or host");
                }
                return {};
            });
        } else if (flag == "--sandbox-userns") {
            step = take([&](std::string_view v) -> Result<void> {
                if (v != "on" && v != "off")
                    return bad("--sandbox-userns: expected on or off");
                o.sandbox_userns = v == "on";
                return {};
            });
        } else if (flag == "--sandbox-userns-base") {
            step = take([&](std::string_view v) -> Result<void> {
                auto n = parse_int<std::uint32_t>(flag, v);
                if (!n)
                    return n.error();
                if (*n < 65536 || *n > 0xFFFFFFFFU - 65536)
                    return bad("--sandbox-userns-base: expected 65536 to 4294901759");
                o.sandbox_userns_base = *n;
                return {};
            });
        } else if (flag == "--sandbox-pids-limit") {
            step = take([&](std::string_view v) -> Result<void> {
                auto n = parse_int<std::uint64_t>(flag, v);
                if (!n)
                    return n.error();
                o.sandbox_pids_limit = *n;
                return {};
            });
        } else if (flag == "--security-token") {
            step = take([&](std::string_view v) -> Result<void> {
                o.security_token = std::string(v);
                return {};
            });
        } else if (flag == "--tls") {
            step = take([&](std::string_view v) -> Result<void> {
                if (v == "self-signed") {
                    o.tls = TlsMode::self_signed;
                } else if (v == "off") {
                    o.tls = TlsMode::off;
                } else {
                    return bad("--tls: expected self-signed or off");
                }
                return {};
            });
        } else if (flag == "--state-dir") {
            step = take([&](std::string_view v) -> Result<void> {
                o.state_dir = std::string(v);
                return {};
            });
        } else if (flag == "--start-delay-ms") {
            step = take([&](std::string_view v) -> Result<void> {
                std::chrono::milliseconds low{};
                std::chrono::milliseconds high{};
                if (auto parsed = parse_delay_range(flag, v, low, high); !parsed)
                    return parsed;
                start_delay = std::make_pair(low, high);
                return {};
            });
        } else if (flag == "--profile") {
            step = take([&](std::string_view v) -> Result<void> {
                if (v == "fast") {
                    profile = Profile::fast;
                } else if (v == "realistic") {
                    profile = Profile::realistic;
                } else {
                    return bad(
                        fmt::format("--profile: unknown profile '{}' (expected fast or "
                                    "realistic)",
                                    v));
                }
                return {};
            });
        } else if (flag == "--time-scale") {
            step = take([&](std::string_view v) -> Result<void> {
                double k = 0;
                auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), k);
                if (ec != std::errc{} || end != v.data() + v.size() || !(k > 0) || k > 1e6)
                    return bad(fmt::format(
                        "--time-scale: '{}' is not a number above 0 (and at most 1000000)", v));
                o.time_scale = k;
                return {};
            });
        } else if (flag == "--runtime") {
            step = take([&](std::string_view v) -> Result<void> {
                if (v == "eager") {
                    o.runtime_start = RuntimeStart::at_running;
                } else if (v == "lazy") {
                    o.runtime_start = RuntimeStart::at_first_exec;
                } else {
                    return bad(
                        fmt::format("--runtime: unknown runtime '{}' (expected eager or lazy)", v));
                }
                return {};
            });
        } else if (flag == "--rate-limit") {
            step = take([&](std::string_view v) { return parse_rate_limit(v, o.account_limits); });
        } else if (flag == "--terminate-delay-ms") {
            step = take([&](std::string_view v) -> Result<void> {
                auto n = parse_int<std::uint32_t>(flag, v);
                if (!n)
                    return n.error();
                o.terminate_delay = std::chrono::milliseconds(*n);
                return {};
            });
        } else if (flag == "--seed") {
            step = take([&](std::string_view v) -> Result<void> {
                auto n = parse_int<std::uint64_t>(flag, v);
                if (!n)
                    return n.error();
                o.seed = *n;
                return {};
            });
        } else if (flag == "--exit-status") {
            step = take([&](std::string_view v) -> Result<void> {
                if (v == "none") {
                    o.exit_status = ExitStatusMode::none;
                } else if (v == "channel4") {
                    o.exit_status = ExitStatusMode::channel4;
                } else if (v == "k8s") {
                    o.exit_status = ExitStatusMode::k8s;
                } else {
                    return bad("--exit-status: expected none, channel4 or k8s");
                }
                return {};
            });
        } else if (flag == "--exec-command-limit") {
            step = take([&](std::string_view v) -> Result<void> {
                auto n = parse_int<std::size_t>(flag, v);
                if (!n)
                    return n.error();
                if (*n == 0)
                    return bad("--exec-command-limit must be positive");
                o.exec_command_limit = *n;
                return {};
            });
        } else if (flag == "--strict-command-limits") {
            o.strict_command_limits = true;
        } else if (flag == "--max-sandbox-cpu") {
            step = take([&](std::string_view v) -> Result<void> {
                auto n = parse_double(flag, v, 0, 1e6);
                if (!n)
                    return n.error();
                o.max_sandbox_cpu = *n;
                return {};
            });
        } else if (flag == "--max-connections" || flag == "--max-connections-per-peer") {
            std::size_t* target =
                flag == "--max-connections" ? &o.max_connections : &o.max_connections_per_peer;
            step = take([&](std::string_view v) -> Result<void> {
                auto n = parse_int<std::size_t>(flag, v);
                if (!n)
                    return n.error();
                if (*n == 0)
                    return bad(fmt::format("{} must be positive", flag));
                *target = *n;
                return {};
            });
        } else if (flag == "--handshake-timeout-ms" || flag == "--idle-timeout-ms") {
            std::chrono::milliseconds* target =
                flag == "--handshake-timeout-ms" ? &o.handshake_timeout : &o.idle_timeout;
            step = take([&](std::string_view v) -> Result<void> {
                auto n = parse_int<std::uint32_t>(flag, v);
                if (!n)
                    return n.error();
                if (*n == 0)
                    return bad(fmt::format("{} must be positive", flag));
                *target = std::chrono::milliseconds(*n);
                return {};
            });
        } else if (flag == "--fault-throttle" || flag == "--fault-unavailable" ||
                   flag == "--fault-reset" || flag == "--fault-ws-drop") {
            double* target = flag == "--fault-throttle"      ? &o.faults.throttle
                             : flag == "--fault-unavailable" ? &o.faults.unavailable
                             : flag == "--fault-reset"       ? &o.faults.reset
                                                             : &o.faults.ws_drop;
            step = take([&](std::string_view v) -> Result<void> {
                auto p = parse_double(flag, v, 0.0, 1.0);
                if (!p)
                    return p.error();
                *target = *p;
                return {};
            });
        } else if (flag == "--throttle-status") {
            step = take([&](std::string_view v) -> Result<void> {
                auto n = parse_int<int>(flag, v);
                if (!n)
                    return n.error();
                if (*n != 400 && *n != 429)
                    return bad("--throttle-status: expected 400 or 429");
                o.faults.throttle_status = *n;
                return {};
            });
        } else if (flag == "--latency-ms") {
            step = take([&](std::string_view v) -> Result<void> {
                auto n = parse_int<std::uint32_t>(flag, v);
                if (!n)
                    return n.error();
                o.faults.latency = std::chrono::milliseconds(*n);
                return {};
            });
        } else if (flag == "--qps-limit") {
            step = take([&](std::string_view v) -> Result<void> {
                auto eq = v.find('=');
                if (eq == std::string_view::npos || eq == 0) {
                    return bad("--qps-limit: expected Action=N");
                }
                auto n = parse_double(flag, v.substr(eq + 1), 0.001, 1e9);
                if (!n)
                    return n.error();
                o.faults.qps_limits[std::string(v.substr(0, eq))] = *n;
                return {};
            });
        } else {
            return bad(fmt::format("unknown option '{}' (see --help)", args[i]));
        }
        if (!step)
            return step.error();
    }
    apply_profile(o, profile);
    if (start_delay) {
        o.start_delay = start_delay->first;
        o.start_delay_max = start_delay->second;
    }
    if (!o.allow_remote && !is_loopback_host(o.listen_host)) {
        return bad(
            fmt::format("--listen {}: not a loopback address (use --allow-remote)", o.listen_host));
    }
    if (o.metadata.enabled && !o.allow_remote && !is_loopback_host(o.metadata.listen_host)) {
        return bad(fmt::format("--metadata-listen {}: not a loopback address (use --allow-remote)",
                               o.metadata.listen_host));
    }
    auto fill = [&](std::string& target, std::string& from_file, std::string_view variable) {
        if (!target.empty())
            return;
        if (!from_file.empty()) {
            target = std::move(from_file);
        } else if (environment) {
            target = environment(variable).value_or("");
        }
    };
    fill(o.access_key_secret, secret_from_file, access_key_secret_env);
    fill(o.security_token, token_from_file, security_token_env);
    if (o.access_key_id.empty() != o.access_key_secret.empty()) {
        return bad("--access-key-id and --access-key-secret go together");
    }
    return result;
}

int scrub_secret_arguments(int argc, char** argv) noexcept {
    int hidden = 0;
    auto hide = [&](char* value) {
        std::memset(value, 'x', std::strlen(value));
        ++hidden;
    };
    for (int i = 1; i < argc; ++i) {
        for (const char* flag : {"--access-key-secret", "--security-token"}) {
            const std::size_t length = std::strlen(flag);
            if (std::strcmp(argv[i], flag) == 0 && i + 1 < argc) {
                hide(argv[++i]);
                break;
            }
            if (std::strncmp(argv[i], flag, length) == 0 && argv[i][length] == '=') {
                hide(argv[i] + length + 1);
                break;
            }
        }
    }
    return hidden;
}

}  // namespace eci::emulator
