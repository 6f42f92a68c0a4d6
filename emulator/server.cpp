// SPDX-License-Identifier: Apache-2.0
#include "emulator/server.hpp"

#include "emulator/certificate_authority.hpp"

#include "core/crypto.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <fmt/format.h>

#include <cstdlib>
#include <filesystem>
#include <system_error>

namespace eci::emulator {

namespace asio = boost::asio;

namespace {

std::string generated_secret() {
    auto hex = eci::detail::random_hex(15);
    return hex ? *hex : std::string("emulatorsecret0000000000000000");
}

}  // namespace

Server::Server(asio::any_io_executor executor, EmulatorOptions options)
    : strand_(asio::make_strand(std::move(executor))),
      options_(std::move(options)),
      ids_(options_.seed),
      faults_(options_.faults, options_.seed,
              AccountRateLimits(options_.account_limits, options_.time_scale)),
      lifecycle_(strand_, options_, store_, stopping_,
                 [this] { return std::shared_ptr<const void>(shared_from_this()); }),
      exec_(strand_, options_, store_, lifecycle_, faults_, stats_, connections_,
            [this] { return std::shared_ptr<const void>(shared_from_this()); }),
      actions_(options_, ready_, store_, ids_, lifecycle_, exec_),
      router_(strand_, options_, stats_, ids_, faults_, stopping_, [this] { return stats_json(); }),
      transport_(strand_, options_, stats_, connections_, router_, exec_, stopping_,
                 [this] { return std::shared_ptr<const void>(shared_from_this()); }) {
    actions_.add_routes(router_);
}

Server::~Server() = default;

// ------------------------------------------------------------------------------------------
// Opening

Result<void> Server::open() {
    if (!options_.allow_remote && !is_loopback_host(options_.listen_host)) {
        return Error::make(ErrorKind::invalid_argument,
                           fmt::format("listen address {} is not loopback (allow_remote is off)",
                                       options_.listen_host));
    }
    if (options_.access_key_id.empty())
        options_.access_key_id = "LTAIemu" + ids_.alnum(17);
    if (options_.access_key_secret.empty())
        options_.access_key_secret = generated_secret();
    actions_.choose_network_defaults();
    AuthConfig auth{options_.access_key_id, options_.access_key_secret, options_.security_token};
    if (options_.metadata.enabled) {
        issued_ = std::make_shared<IssuedCredentials>();
        auth.issued = issued_;  // the metadata service's STS credentials
    }
    router_.set_credentials(std::move(auth));

    ready_.region_id = options_.region_id;
    ready_.access_key_id = options_.access_key_id;
    ready_.access_key_secret = options_.access_key_secret;
    ready_.security_token = options_.security_token;
    ready_.scheme = options_.tls == TlsMode::off ? "http" : "https";

    if (auto made = open_state_dir(); !made)
        return made;
    if (auto made = open_runtime(); !made)
        return made;
    if (options_.tls == TlsMode::self_signed) {
        if (auto made = open_tls(); !made)
            return made;
    }

    boost::system::error_code ec;
    std::string host = options_.listen_host == "localhost" ? "127.0.0.1" : options_.listen_host;
    auto address = asio::ip::make_address(host, ec);
    if (ec) {
        return Error::make(ErrorKind::invalid_argument,
                           fmt::format("listen address '{}' is not an IP address", host));
    }
    auto port = transport_.listen(address, options_.listen_port);
    if (!port)
        return port.error();
    ready_.port = *port;
    ready_.endpoint = address.is_v6() ? fmt::format("[{}]:{}", host, ready_.port)
                                      : fmt::format("{}:{}", host, ready_.port);
    return open_metadata();
}

Result<void> Server::open_metadata() {
    if (!options_.metadata.enabled)
        return {};
    auto opened = MetadataService::open(strand_, options_.metadata, options_.allow_remote, issued_);
    if (!opened)
        return opened.error();
    metadata_ = std::move(*opened);
    ready_.metadata_endpoint = metadata_->endpoint();
    return {};
}

Result<void> Server::open_state_dir() {
    std::error_code fs_error;
    if (options_.state_dir.empty()) {
        auto base = std::filesystem::temp_directory_path(fs_error);
        if (fs_error)
            base = "/tmp";
        std::string pattern = (base / "eci-emulator-XXXXXX").string();
        if (::mkdtemp(pattern.data()) == nullptr) {
            return Error::make(ErrorKind::invalid_argument,
                               fmt::format("cannot create a state dir under {}", base.string()));
        }
        options_.state_dir = pattern;
        owns_state_dir_ = true;
        return {};
    }
    std::filesystem::create_directories(options_.state_dir, fs_error);
    if (fs_error) {
        return Error::make(
            ErrorKind::invalid_argument,
            fmt::format("cannot create state dir {}: {}", options_.state_dir, fs_error.message()));
    }
    return {};
}

Result<void> Server::open_runtime() {
    RuntimeOptions runtime_options;
    runtime_options.state_dir = std::filesystem::path(options_.state_dir) / "rt";
    runtime_options.exec_child_stall = options_.exec_child_stall;
    runtime_options.init_child_stall = options_.init_child_stall;
    runtime_options.kill_timeout = options_.kill_timeout;
    runtime_options.sandbox_network = options_.sandbox_network;
    runtime_options.pids_limit = options_.sandbox_pids_limit;
    runtime_options.user_namespace = options_.sandbox_userns;
    runtime_options.userns_base = options_.sandbox_userns_base;
    auto created = Runtime::create(strand_, std::move(runtime_options));
    if (!created)
        return created.error();
    const Runtime& runtime = **created;
    // Said again in the ready line, so a launcher that only reads it knows too.
    ready_.isolation = runtime.isolated() ? "namespaces" : "none";
    ready_.isolation_warning = runtime.isolated()
                                   ? std::string()
                                   : "sandboxes contain nothing: " + runtime.degraded_reason();
    ready_.sandbox_network =
        !runtime.isolated() || options_.sandbox_network == SandboxNetwork::host ? "host" : "none";
    ready_.limits = runtime.limited() ? runtime.limits_description() : "none";
    ready_.userns = runtime.userns() ? "on" : "off";
    ready_.userns_base = runtime.userns() ? runtime.userns_base() : 0;
    if (runtime.isolated() && !runtime.userns()) {
        ready_.userns_warning = "root in a sandbox is root on the host: " + runtime.userns_reason();
    }
    lifecycle_.use_runtime(std::move(*created));
    return {};
}

Result<void> Server::open_tls() {
    CertificateOptions cert_options;
    cert_options.dns_names = {"localhost"};
    cert_options.ip_addresses = {"127.0.0.1", "::1"};
    if (!is_loopback_host(options_.listen_host) && options_.listen_host != "0.0.0.0" &&
        options_.listen_host != "::") {
        boost::system::error_code ec;
        (void)asio::ip::make_address(options_.listen_host, ec);
        if (ec) {
            cert_options.dns_names.push_back(options_.listen_host);
        } else {
            cert_options.ip_addresses.push_back(options_.listen_host);
        }
    }
    cert_options.ca_common_name = "eci-emulator CA";
    auto certs = generate_certificates(cert_options);
    if (!certs)
        return certs.error();
    std::string ca_path = (std::filesystem::path(options_.state_dir) / "ca.pem").string();
    if (auto written = write_pem_file(ca_path, certs->ca_certificate_pem); !written)
        return written.error();
    ready_.ca_file = ca_path;
    ready_.ca_pem = certs->ca_certificate_pem;
    return transport_.use_tls(certs->server_certificate_pem, certs->server_private_key_pem);
}

// ------------------------------------------------------------------------------------------
// Starting and the one teardown

void Server::start() {
    transport_.start();
    if (metadata_)
        metadata_->start();
}

asio::awaitable<void> Server::stop() {
    teardown();
    co_return;
}

void Server::close_now() {
    teardown();
}

void Server::teardown() {
    if (stopped_)
        return;
    stopping_ = true;
    transport_.close();
    if (metadata_)
        metadata_->close();  // its listener and connections
    // Every connection (HTTP sessions and exec WebSockets); their coroutines notice.
    connections_.close_all();
    exec_.clear_tickets();
    lifecycle_.remove_all();
    stopped_ = true;
    if (owns_state_dir_) {
        std::error_code fs_error;
        std::filesystem::remove_all(options_.state_dir, fs_error);
    }
}

// ------------------------------------------------------------------------------------------

MetadataStats Server::metadata_stats() const noexcept {
    return metadata_ ? metadata_->stats() : MetadataStats{};
}

std::string Server::stats_json() const {
    boost::json::object doc;
    doc["sandboxes"] = store_.size();
    doc["processes"] = lifecycle_.live_processes();
    // The lazy runtime (--runtime lazy): sandboxes started at a first exec, and the runtime
    // sandboxes alive (one per started container), so a test sees which have processes.
    doc["runtime"] = options_.runtime_start == RuntimeStart::at_first_exec ? "lazy" : "eager";
    doc["deferred_starts"] = lifecycle_.deferred_starts();
    doc["runtime_sandboxes"] = lifecycle_.runtime_sandboxes();
    boost::json::object calls;
    for (const auto& [action, n] : stats_.api_calls)
        calls[action] = n;
    doc["api_calls"] = std::move(calls);
    boost::json::object faults;
    for (const auto& [kind, n] : stats_.faults_injected)
        faults[kind] = n;
    doc["faults_injected"] = std::move(faults);
    boost::json::object api_errors;
    for (const auto& [code, n] : stats_.api_errors)
        api_errors[code] = n;
    doc["api_errors"] = std::move(api_errors);
    doc["http_requests"] = stats_.http_requests;
    doc["exec_sessions"] = stats_.exec_sessions;
    doc["exec_tickets"] = exec_.pending_tickets();
    // Open client connections (HTTP keep-alive and exec WebSockets): tests check that a
    // cancelled operation leaves none behind.
    doc["connections"] = connections_.size();
    doc["open_connections"] = transport_.open_connections();
    doc["connection_limit"] = transport_.connection_limit();
    doc["connections_refused"] = stats_.connections_refused;
    doc["exec_starts_abandoned"] = stats_.exec_starts_abandoned;
    // Service time (docs/emulator.md, "The realistic profile"): the delays drawn, whatever
    // --time-scale made of them in real time.
    doc["time_scale"] = options_.time_scale;
    const auto& delays = lifecycle_.start_delays();
    doc["start_delays_ms"] = {{"count", delays.count},
                              {"min", delays.min_ms},
                              {"max", delays.max_ms},
                              {"total", delays.total_ms}};
    return boost::json::serialize(doc);
}

}  // namespace eci::emulator
