// SPDX-License-Identifier: Apache-2.0
// Transport and routing: the accept loop, HTTP/1.1 keep-alive sessions over TLS or plain TCP,
// request decoding, authentication, faults, and the Emulator facade.
#include "emulator/server.hpp"

#include "emulator/metadata_service.hpp"
#include "emulator/request_decode.hpp"

#include "core/crypto.hpp"
#include "core/encoding.hpp"
#include "core/service_error.hpp"
#include "core/time_format.hpp"
#include "net/certificates.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <fmt/format.h>

#include <sys/resource.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <system_error>

namespace eci::emulator {

namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;
using TlsStream = asio::ssl::stream<beast::tcp_stream>;

namespace {

constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t max_body_bytes = 8 * 1024 * 1024;
constexpr std::size_t max_header_bytes = 64 * 1024;
constexpr auto io_phase_timeout = std::chrono::seconds(30);

std::string random_alnum(std::mt19937_64& random, std::size_t n) {
    static constexpr std::string_view alphabet = "0123456789abcdefghijklmnopqrstuvwxyz";
    std::uniform_int_distribution<std::size_t> pick(0, alphabet.size() - 1);
    std::string out;
    out.reserve(n);
    for (std::size_t i = 0; i < n; ++i)
        out.push_back(alphabet[pick(random)]);
    return out;
}

std::string generated_secret() {
    auto hex = eci::detail::random_hex(15);
    return hex ? *hex : std::string("emulatorsecret0000000000000000");
}

void close_socket(tcp::socket& socket) {
    boost::system::error_code ignored;
    socket.shutdown(tcp::socket::shutdown_both, ignored);
    socket.close(ignored);
}

tcp::socket& lowest_socket(beast::tcp_stream& stream) {
    return stream.socket();
}
tcp::socket& lowest_socket(TlsStream& stream) {
    return stream.next_layer().socket();
}

Server::Reply dropped_reply() {
    Server::Reply reply;
    reply.drop_connection = true;
    return reply;
}

void finish_stream(beast::tcp_stream& stream) {
    boost::system::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

}  // namespace

// ------------------------------------------------------------------------------------------
// Connection limits

class Server::ConnectionSlot {
  public:
    // Holds the server: a coroutine's parameters outlive its locals (its own `self`).
    ConnectionSlot(std::shared_ptr<Server> server, asio::ip::address peer)
        : server_(std::move(server)), peer_(std::move(peer)) {
        ++server_->open_connections_;
        ++server_->connections_per_peer_[peer_];
    }
    ~ConnectionSlot() {
        --server_->open_connections_;
        auto found = server_->connections_per_peer_.find(peer_);
        if (found != server_->connections_per_peer_.end() && --found->second == 0)
            server_->connections_per_peer_.erase(found);
    }
    ConnectionSlot(const ConnectionSlot&) = delete;
    ConnectionSlot& operator=(const ConnectionSlot&) = delete;

  private:
    std::shared_ptr<Server> server_;
    asio::ip::address peer_;
};

std::unique_ptr<Server::ConnectionSlot> Server::take_connection_slot(
    const asio::ip::address& peer) {
    if (open_connections_ >= connection_limit_)
        return nullptr;
    if (auto found = connections_per_peer_.find(peer);
        found != connections_per_peer_.end() &&
        found->second >= options_.max_connections_per_peer) {
        return nullptr;
    }
    return std::make_unique<ConnectionSlot>(shared_from_this(), peer);
}

// ------------------------------------------------------------------------------------------
// Construction, start, stop

Server::Server(asio::any_io_executor executor, EmulatorOptions options)
    : strand_(asio::make_strand(std::move(executor))),
      options_(std::move(options)),
      acceptor_(strand_),
      faults_(options_.faults, options_.seed),
      ids_(options_.seed ^ 0x9e3779b97f4a7c15ULL) {}

Server::~Server() = default;

Result<void> Server::open() {
    if (!options_.allow_remote && !is_loopback_host(options_.listen_host)) {
        return Error::make(ErrorKind::invalid_argument,
                           fmt::format("listen address {} is not loopback (allow_remote is off)",
                                       options_.listen_host));
    }
    if (options_.access_key_id.empty()) {
        options_.access_key_id = "LTAIemu" + random_alnum(ids_, 17);
    }
    if (options_.access_key_secret.empty())
        options_.access_key_secret = generated_secret();
    default_v_switch_id_ = "vsw-" + random_alnum(ids_, 24);
    default_security_group_id_ = "sg-" + random_alnum(ids_, 20);
    default_vpc_id_ = "vpc-" + random_alnum(ids_, 24);
    auth_ = AuthConfig{options_.access_key_id, options_.access_key_secret, options_.security_token};
    auth_.issued = options_.metadata.issued;  // the metadata service's STS credentials

    ready_.region_id = options_.region_id;
    ready_.access_key_id = options_.access_key_id;
    ready_.access_key_secret = options_.access_key_secret;
    ready_.security_token = options_.security_token;
    ready_.scheme = options_.tls == TlsMode::off ? "http" : "https";

    {
        std::error_code fs_error;
        if (options_.state_dir.empty()) {
            auto base = std::filesystem::temp_directory_path(fs_error);
            if (fs_error)
                base = "/tmp";
            std::string pattern = (base / "eci-emulator-XXXXXX").string();
            if (::mkdtemp(pattern.data()) == nullptr) {
                return Error::make(
                    ErrorKind::invalid_argument,
                    fmt::format("cannot create a state dir under {}", base.string()));
            }
            options_.state_dir = pattern;
            owns_state_dir_ = true;
        } else {
            std::filesystem::create_directories(options_.state_dir, fs_error);
            if (fs_error) {
                return Error::make(ErrorKind::invalid_argument,
                                   fmt::format("cannot create state dir {}: {}", options_.state_dir,
                                               fs_error.message()));
            }
        }
    }
    {
        RuntimeOptions runtime_options;
        runtime_options.state_dir = std::filesystem::path(options_.state_dir) / "rt";
        runtime_options.exec_child_stall = options_.exec_child_stall;
        runtime_options.init_child_stall = options_.init_child_stall;
        runtime_options.kill_timeout = options_.kill_timeout;
        runtime_options.sandbox_network = options_.sandbox_network;
        runtime_options.pids_limit = options_.sandbox_pids_limit;
        runtime_options.user_namespace = options_.sandbox_userns;
        runtime_options.userns_base = options_.sandbox_userns_base;
        auto runtime = Runtime::create(strand_, std::move(runtime_options));
        if (!runtime)
            return runtime.error();
        runtime_ = std::move(*runtime);
        // Said again in the ready line, so a launcher that only reads it knows too.
        ready_.isolation = runtime_->isolated() ? "namespaces" : "none";
        ready_.isolation_warning =
            runtime_->isolated() ? std::string()
                                 : "sandboxes contain nothing: " + runtime_->degraded_reason();
        ready_.sandbox_network =
            !runtime_->isolated() || options_.sandbox_network == SandboxNetwork::host ? "host"
                                                                                      : "none";
        ready_.limits = runtime_->limited() ? runtime_->limits_description() : "none";
        ready_.userns = runtime_->userns() ? "on" : "off";
        ready_.userns_base = runtime_->userns() ? runtime_->userns_base() : 0;
        if (runtime_->isolated() && !runtime_->userns()) {
            ready_.userns_warning =
                "root in a sandbox is root on the host: " + runtime_->userns_reason();
        }
    }
    // After Runtime::create, which raises the soft descriptor limit to the hard one: half of
    // it stays for sandbox processes and exec pipes, so connections can never exhaust it.
    connection_limit_ = options_.max_connections;
    if (struct rlimit limit{};
        ::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY) {
        connection_limit_ = std::min<std::size_t>(
            connection_limit_,
            std::max<std::size_t>(16, static_cast<std::size_t>(limit.rlim_cur / 2)));
    }

    if (options_.tls == TlsMode::self_signed) {
        eci::detail::CertificateOptions cert_options;
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
        auto certs = eci::detail::generate_certificates(cert_options);
        if (!certs)
            return certs.error();
        std::string ca_path = (std::filesystem::path(options_.state_dir) / "ca.pem").string();
        if (auto written = eci::detail::write_pem_file(ca_path, certs->ca_certificate_pem);
            !written) {
            return written.error();
        }
        ready_.ca_file = ca_path;
        ready_.ca_pem = certs->ca_certificate_pem;

        ssl_.emplace(asio::ssl::context::tls_server);
        // An idle connection gives its TLS read and write buffers back, so many idle clients
        // cost less memory.
        SSL_CTX_set_mode(ssl_->native_handle(), SSL_MODE_RELEASE_BUFFERS);
        // Session tickets stay on (OpenSSL's default; no no_ticket option): clients resume
        // their sessions, as against the real service, instead of a full handshake each time.
        boost::system::error_code ec;
        ssl_->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                              asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                              asio::ssl::context::no_tlsv1_1,
                          ec);
        ssl_->use_certificate_chain(asio::buffer(certs->server_certificate_pem), ec);
        if (!ec)
            ssl_->use_private_key(asio::buffer(certs->server_private_key_pem),
                                  asio::ssl::context::pem, ec);
        if (ec) {
            return Error::make(ErrorKind::tls,
                               fmt::format("cannot load the server certificate: {}", ec.message()));
        }
    }

    boost::system::error_code ec;
    std::string host = options_.listen_host == "localhost" ? "127.0.0.1" : options_.listen_host;
    auto address = asio::ip::make_address(host, ec);
    if (ec) {
        return Error::make(ErrorKind::invalid_argument,
                           fmt::format("listen address '{}' is not an IP address", host));
    }
    tcp::endpoint endpoint(address, options_.listen_port);
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec)
        acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec)
        acceptor_.bind(endpoint, ec);
    if (!ec)
        acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
        return Error::make(
            ErrorKind::invalid_argument,
            fmt::format("cannot listen on {}:{}: {}", host, options_.listen_port, ec.message()));
    }
    auto bound = acceptor_.local_endpoint(ec);
    ready_.port = bound.port();
    ready_.endpoint = address.is_v6() ? fmt::format("[{}]:{}", host, ready_.port)
                                      : fmt::format("{}:{}", host, ready_.port);
    return {};
}

void Server::start() {
    asio::co_spawn(
        strand_, [self = shared_from_this()]() { return self->accept_loop(); }, asio::detached);
}

asio::awaitable<void> Server::stop() {
    if (stopped_)
        co_return;
    stopping_ = true;
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    // Close every connection (HTTP sessions and exec WebSockets); their coroutines notice.
    auto closers = std::move(connections_);
    connections_.clear();
    for (auto& [id, close] : closers)
        close();
    exec_tickets_.clear();
    for (auto& entry : store_.all())
        remove_now(entry);
    if (runtime_)
        runtime_->shutdown();
    stopped_ = true;
    if (owns_state_dir_) {
        std::error_code fs_error;
        std::filesystem::remove_all(options_.state_dir, fs_error);
    }
    co_return;
}

void Server::close_now() {
    if (stopped_)
        return;
    stopping_ = true;
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    for (auto& [id, close] : connections_)
        close();
    connections_.clear();
    for (auto& entry : store_.all())
        remove_now(entry);
    if (runtime_)
        runtime_->shutdown();
    stopped_ = true;
    if (owns_state_dir_) {
        std::error_code fs_error;
        std::filesystem::remove_all(options_.state_dir, fs_error);
    }
}

// ------------------------------------------------------------------------------------------
// Accepting and serving connections

asio::awaitable<void> Server::accept_loop() {
    auto self = shared_from_this();
    while (!stopping_) {
        auto [ec, socket] = co_await acceptor_.async_accept(strand_, tuple_awaitable);
        if (ec) {
            if (stopping_ || ec == asio::error::operation_aborted)
                co_return;
            // Out of descriptors and the like: back off briefly instead of spinning.
            asio::steady_timer pause(strand_, std::chrono::milliseconds(50));
            co_await pause.async_wait(tuple_awaitable);
            continue;
        }
        // Over a connection limit: closed at once, before any byte is read, so neither the
        // descriptor nor TLS state is held for it.
        boost::system::error_code peer_ec;
        const auto peer = socket.remote_endpoint(peer_ec);
        auto slot = peer_ec ? nullptr : take_connection_slot(peer.address());
        if (!slot) {
            ++stats_.connections_refused;
            boost::system::error_code ignored;
            socket.close(ignored);
            continue;
        }
        // A TLS response leaves in several records (header, body): without TCP_NODELAY the
        // second waits for the client's delayed ACK, ~40 ms per call on keep-alive.
        boost::system::error_code ignored;
        socket.set_option(tcp::no_delay(true), ignored);
        asio::co_spawn(strand_, self->serve_connection(std::move(socket), std::move(slot)),
                       asio::detached);
    }
}

asio::awaitable<void> Server::serve_connection(tcp::socket socket,
                                               std::unique_ptr<ConnectionSlot> slot) {
    auto self = shared_from_this();  // keeps the server alive while this connection runs
    (void)slot;                      // held until the connection ends
    std::uint64_t id = next_connection_id_++;
    if (ssl_) {
        TlsStream stream(beast::tcp_stream(std::move(socket)), *ssl_);
        stream.next_layer().expires_after(options_.handshake_timeout);
        auto [ec] =
            co_await stream.async_handshake(asio::ssl::stream_base::server, tuple_awaitable);
        if (ec || stopping_)
            co_return;
        co_await serve_http(std::move(stream), id);
    } else {
        co_await serve_http(beast::tcp_stream(std::move(socket)), id);
    }
}

template <class Stream>
asio::awaitable<void> Server::serve_http(Stream stream, std::uint64_t connection_id) {
    auto self = shared_from_this();
    tcp::socket& socket = lowest_socket(stream);
    connections_[connection_id] = [&socket] { close_socket(socket); };
    struct Deregister {
        Server* server;
        std::uint64_t id;
        ~Deregister() { server->connections_.erase(id); }
    } deregister{this, connection_id};

    boost::system::error_code ec;
    auto remote = socket.remote_endpoint(ec);
    bool remote_is_loopback = !ec && remote.address().is_loopback();

    beast::flat_buffer buffer;
    bool first_request = true;
    while (!stopping_) {
        http::request_parser<http::string_body> parser;
        parser.body_limit(max_body_bytes);
        parser.header_limit(max_header_bytes);
        // The whole request must arrive within the timeout (a deadline, not an inactivity
        // timer), so a client trickling bytes cannot hold the connection either.
        beast::get_lowest_layer(stream).expires_after(first_request ? options_.handshake_timeout
                                                                    : options_.idle_timeout);
        first_request = false;
        auto [read_ec, n] = co_await http::async_read(stream, buffer, parser, tuple_awaitable);
        (void)n;
        if (stopping_)
            break;
        if (read_ec == http::error::body_limit || read_ec == http::error::header_limit) {
            // Say why before closing: a client gets a clear refusal, not a bare reset. The
            // rest of the request is never read, so the connection cannot be reused.
            const bool body = read_ec == http::error::body_limit;
            ApiError refusal = body ? errors::request_too_large("body", max_body_bytes)
                                    : errors::request_too_large("header", max_header_bytes);
            ++stats_.api_errors[refusal.code];
            http::response<http::string_body> res{static_cast<http::status>(refusal.http_status),
                                                  11};
            res.set(http::field::server, "eci-emulator");
            res.set(http::field::content_type, "application/json;charset=utf-8");
            res.keep_alive(false);
            res.body() = error_body(new_request_id(), refusal);
            res.prepare_payload();
            beast::get_lowest_layer(stream).expires_after(io_phase_timeout);
            co_await http::async_write(stream, res, tuple_awaitable);
            break;
        }
        if (read_ec)
            break;
        beast::get_lowest_layer(stream).expires_never();
        http::request<http::string_body> req = parser.release();
        ++stats_.http_requests;

        std::string_view target = req.target();
        auto question = target.find('?');
        std::string path(target.substr(0, question));

        if (beast::websocket::is_upgrade(req)) {
            connections_.erase(connection_id);  // serve_exec registers its own closer
            co_await serve_exec(std::move(stream), std::move(req));
            co_return;
        }

        Reply reply;
        if (path == "/_emulator/stats") {
            if (!remote_is_loopback) {
                reply.status = 403;
                reply.body = R"({"error":"stats are served to loopback clients only"})";
            } else {
                reply.body = stats_json();
            }
        } else {
            eci::detail::Headers headers;
            for (const auto& field : req)
                headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
            auto decoded =
                decode_request(std::string(req.method_string()), target, std::move(headers),
                               std::move(req.body()), remote_is_loopback);
            if (auto* refusal = std::get_if<ApiError>(&decoded)) {
                ++stats_.api_errors[refusal->code];
                reply = Reply{static_cast<unsigned>(refusal->http_status),
                              error_body(new_request_id(), *refusal)};
            } else {
                reply = co_await handle_request(std::get<IncomingRequest>(std::move(decoded)));
            }
        }
        if (reply.drop_connection) {
            close_socket(socket);
            co_return;
        }
        http::response<http::string_body> res{static_cast<http::status>(reply.status),
                                              req.version()};
        res.set(http::field::server, "eci-emulator");
        res.set(http::field::content_type, reply.content_type);
        res.keep_alive(req.keep_alive());
        res.body() = std::move(reply.body);
        res.prepare_payload();
        beast::get_lowest_layer(stream).expires_after(io_phase_timeout);
        auto [write_ec, written] = co_await http::async_write(stream, res, tuple_awaitable);
        (void)written;
        if (write_ec || !res.keep_alive())
            break;
    }
    if (stopping_)
        co_return;
    if constexpr (std::is_same_v<Stream, TlsStream>) {
        beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(5));
        co_await stream.async_shutdown(tuple_awaitable);
    } else {
        finish_stream(stream);
    }
}

// ------------------------------------------------------------------------------------------
// One API call: method, authentication, faults, latency, the action.

asio::awaitable<Server::Reply> Server::handle_request(IncomingRequest request) {
    std::string request_id = new_request_id();
    auto refuse = [&](const ApiError& error) {
        ++stats_.api_errors[error.code];
        return Reply{static_cast<unsigned>(error.http_status), error_body(request_id, error)};
    };
    if (request.path != "/") {
        co_return refuse(errors::invalid_action(request.path));
    }
    if (request.method != "GET" && request.method != "POST") {
        co_return refuse(errors::unsupported_method());
    }
    auto auth = authenticate(request, auth_, nonces_, std::chrono::system_clock::now(),
                             std::chrono::steady_clock::now());
    if (auto* error = std::get_if<ApiError>(&auth))
        co_return refuse(*error);
    auto call = std::get<AuthenticatedCall>(std::move(auth));
    ++stats_.api_calls[call.action];

    FaultKind fault = faults_.decide(call.action, std::chrono::steady_clock::now());
    if (fault != FaultKind::none)
        ++stats_.faults_injected[std::string(to_string(fault))];
    if (options_.faults.latency.count() > 0) {
        asio::steady_timer delay(strand_, options_.faults.latency);
        co_await delay.async_wait(tuple_awaitable);
        if (stopping_)
            co_return dropped_reply();
    }
    switch (fault) {
        case FaultKind::throttle:
        case FaultKind::qps_limit:
            co_return refuse(errors::throttling_user(options_.faults.throttle_status));
        case FaultKind::unavailable:
            co_return refuse(errors::service_unavailable());
        case FaultKind::reset_before:
            co_return dropped_reply();
        case FaultKind::none:
        case FaultKind::reset_after:
            break;
    }
    if (call.version != "2018-08-08")
        co_return refuse(errors::invalid_version());

    ActionOutcome outcome = co_await run_action(call.action, std::move(request), request_id);
    if (fault == FaultKind::reset_after)
        co_return dropped_reply();
    if (auto* error = std::get_if<ApiError>(&outcome))
        co_return refuse(*error);
    co_return Reply{200, boost::json::serialize(std::get<boost::json::value>(outcome))};
}

// ------------------------------------------------------------------------------------------
// Helpers

std::string Server::new_request_id() {
    // UUID-shaped, upper-case hex, like the service's RequestIds.
    std::uniform_int_distribution<int> nibble(0, 15);
    static constexpr std::string_view hex = "0123456789ABCDEF";
    std::string id;
    for (int group : {8, 4, 4, 4, 12}) {
        if (!id.empty())
            id.push_back('-');
        for (int i = 0; i < group; ++i)
            id.push_back(hex[static_cast<std::size_t>(nibble(ids_))]);
    }
    return id;
}

std::string Server::new_container_group_id() {
    for (;;) {
        std::string id = "eci-" + random_alnum(ids_, 20);
        if (!store_.find(id))
            return id;
    }
}

std::string Server::host_id() const {
    return fmt::format("eci.{}.aliyuncs.com", options_.region_id);
}

std::string Server::error_body(const std::string& request_id, const ApiError& error) {
    return boost::json::serialize(
        eci::detail::service_error_body(request_id, host_id(), error.code, error.message));
}

std::string Server::now_rfc3339() const {
    return eci::detail::format_utc_timestamp(std::chrono::system_clock::now());
}

std::string Server::stats_json() const {
    boost::json::object doc;
    doc["sandboxes"] = store_.size();
    doc["processes"] = live_processes();
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
    doc["exec_tickets"] = exec_tickets_.size();
    // Open client connections (HTTP keep-alive and exec WebSockets): tests check that a
    // cancelled operation leaves none behind.
    doc["connections"] = connections_.size();
    doc["open_connections"] = open_connections_;
    doc["connection_limit"] = connection_limit_;
    doc["connections_refused"] = stats_.connections_refused;
    return boost::json::serialize(doc);
}

// ------------------------------------------------------------------------------------------
// Emulator facade

std::string ReadyInfo::to_json_line() const {
    boost::json::object line;
    line["endpoint"] = endpoint;
    line["scheme"] = scheme;
    line["ca_file"] = ca_file;
    line["region_id"] = region_id;
    line["access_key_id"] = access_key_id;
    line["access_key_secret"] = access_key_secret;
    line["isolation"] = isolation;
    line["sandbox_network"] = sandbox_network;
    line["limits"] = limits;
    line["userns"] = userns;
    if (userns_base != 0)
        line["userns_base"] = userns_base;
    if (!userns_warning.empty())
        line["userns_warning"] = userns_warning;
    if (!isolation_warning.empty())
        line["isolation_warning"] = isolation_warning;
    if (!metadata_endpoint.empty())
        line["metadata_endpoint"] = metadata_endpoint;
    return boost::json::serialize(line);
}

Emulator::Emulator(std::shared_ptr<Server> server, std::unique_ptr<MetadataService> metadata)
    : server_(std::move(server)), metadata_(std::move(metadata)), ready_(server_->ready()) {
    if (metadata_)
        ready_.metadata_endpoint = metadata_->endpoint();
}

Emulator::~Emulator() {
    if (server_)
        server_->close_now();
}

Result<std::unique_ptr<Emulator>> Emulator::start(asio::any_io_executor executor,
                                                  EmulatorOptions options) {
    // The metadata service is a listener of its own (emulator/metadata_service.cpp); the
    // server only learns which STS credentials it issued.
    std::unique_ptr<MetadataService> metadata;
    if (options.metadata.enabled) {
        options.metadata.issued = std::make_shared<IssuedCredentials>();
        auto started = MetadataService::start(executor, options.metadata, options.allow_remote,
                                              options.metadata.issued);
        if (!started)
            return started.error();
        metadata = std::move(*started);
    }
    auto server = std::make_shared<Server>(std::move(executor), std::move(options));
    if (auto opened = server->open(); !opened)
        return opened.error();
    server->start();
    return std::unique_ptr<Emulator>(new Emulator(std::move(server), std::move(metadata)));
}

asio::awaitable<void> Emulator::stop() {
    if (metadata_)
        co_await metadata_->stop();
    auto server = server_;
    co_await asio::co_spawn(server->strand(), server->stop(), asio::use_awaitable);
}

const ReadyInfo& Emulator::ready() const noexcept {
    return ready_;  // the server's, copied at start (immutable after), and the metadata's
}

MetadataStats Emulator::metadata_stats() const noexcept {
    return metadata_ ? metadata_->stats() : MetadataStats{};
}

std::string Emulator::stats_json() const {
    return server_->stats_json();
}

}  // namespace eci::emulator
