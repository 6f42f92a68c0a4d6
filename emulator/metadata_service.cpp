// SPDX-License-Identifier: Apache-2.0
#include "emulator/metadata_service.hpp"

#include "emulator/connection_registry.hpp"
#include "emulator/options.hpp"

#include "core/crypto.hpp"
#include "core/ecs_metadata.hpp"
#include "core/host_syntax.hpp"
#include "core/time_format.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

#include <fmt/format.h>

#include <charconv>

namespace eci::emulator {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using std::chrono::steady_clock;

namespace {

beast::string_view beast_view(std::string_view text) {
    return {text.data(), text.size()};
}

std::string random_text(std::size_t bytes) {
    auto hex = eci::detail::random_hex(bytes);
    // The CSPRNG only fails when OpenSSL is unusable; the emulator would not have started.
    return hex.ok() ? std::move(hex).value() : std::string(bytes * 2, '0');
}

}  // namespace

IssuedCredential IssuedCredentials::issue(std::chrono::seconds ttl,
                                          std::chrono::system_clock::time_point now) {
    IssuedCredential issued;
    issued.access_key_id = "STS.emu" + random_text(10);
    issued.access_key_secret = random_text(16);
    issued.security_token = "CAIS" + random_text(32);
    issued.expiration = std::chrono::floor<std::chrono::seconds>(now + ttl);
    // Expired ones are kept: a request signed with them must get InvalidSecurityToken.Expired,
    // not InvalidAccessKeyId.NotFound. A test's emulator issues a handful.
    by_id_[issued.access_key_id] = issued;
    return issued;
}

std::optional<IssuedCredential> IssuedCredentials::find(std::string_view access_key_id) const {
    auto found = by_id_.find(access_key_id);
    if (found == by_id_.end())
        return std::nullopt;
    return found->second;
}

struct MetadataService::State : std::enable_shared_from_this<State> {
    State(Strand strand_in, MetadataOptions options_in,
          std::shared_ptr<IssuedCredentials> issued_in)
        : strand(std::move(strand_in)),
          options(std::move(options_in)),
          issued(std::move(issued_in)),
          acceptor(strand) {}

    Strand strand;
    MetadataOptions options;
    std::shared_ptr<IssuedCredentials> issued;
    tcp::acceptor acceptor;
    std::string endpoint;
    std::map<std::string, steady_clock::time_point, std::less<>> tokens;  // token -> expiry
    // Open connections, closed by close(). A connection deregisters when its coroutine
    // ends, however it ends (also when the io_context destroys the suspended frame).
    ConnectionRegistry connections;
    bool stopped = false;
    std::atomic<std::uint64_t> token_requests{0};
    std::atomic<std::uint64_t> role_list_requests{0};
    std::atomic<std::uint64_t> credential_requests{0};
    std::atomic<std::uint64_t> without_token{0};
    std::atomic<std::uint64_t> refused{0};

    using Response = http::response<http::string_body>;

    Response reply(const http::request<http::string_body>& request, http::status status,
                   std::string body, std::string_view type = "text/plain") {
        if (static_cast<unsigned>(status) >= 400)
            ++refused;
        Response response(status, request.version());
        response.set(http::field::server, "eci-emulator-metadata");
        response.set(http::field::content_type, beast_view(type));
        response.keep_alive(request.keep_alive());
        response.body() = std::move(body);
        response.prepare_payload();
        return response;
    }

    Response handle(const http::request<http::string_body>& request) {
        const std::string_view target(request.target().data(), request.target().size());
        const auto now = steady_clock::now();
        if (target == eci::detail::metadata_token_path) {
            if (!options.token_endpoint)
                return reply(request, http::status::not_found, "Not Found");
            if (request.method() != http::verb::put)
                return reply(request, http::status::method_not_allowed, "Method Not Allowed");
            const auto ttl_field = request[beast_view(eci::detail::metadata_token_ttl_header)];
            const std::string_view ttl_text(ttl_field.data(), ttl_field.size());
            long seconds = 0;
            const auto [end, ec] =
                std::from_chars(ttl_text.data(), ttl_text.data() + ttl_text.size(), seconds);
            if (ttl_text.empty() || ec != std::errc{} || end != ttl_text.data() + ttl_text.size() ||
                seconds < 1 || seconds > 21600)
                return reply(request, http::status::bad_request, "Bad Request");
            std::string token = random_text(24);
            tokens[token] = now + std::chrono::seconds(seconds);
            ++token_requests;
            return reply(request, http::status::ok, std::move(token));
        }
        if (!target.starts_with(eci::detail::security_credentials_path))
            return reply(request, http::status::not_found, "Not Found");
        if (request.method() != http::verb::get)
            return reply(request, http::status::method_not_allowed, "Method Not Allowed");
        const auto token_field = request[beast_view(eci::detail::metadata_token_header)];
        const std::string_view token(token_field.data(), token_field.size());
        if (token.empty()) {
            if (options.require_token)
                return reply(request, http::status::forbidden, "Forbidden");
            ++without_token;
        } else {
            auto found = tokens.find(token);
            if (found == tokens.end() || found->second <= now)
                return reply(request, http::status::unauthorized, "Unauthorized");
        }
        const auto role = target.substr(eci::detail::security_credentials_path.size());
        if (role.empty()) {
            ++role_list_requests;
            return reply(request, http::status::ok, options.role_name);
        }
        if (role != options.role_name)
            return reply(request, http::status::not_found, "Not Found");
        const auto wall = std::chrono::system_clock::now();
        const auto credential = issued->issue(options.credential_ttl, wall);
        boost::json::object body;
        body["AccessKeyId"] = credential.access_key_id;
        body["AccessKeySecret"] = credential.access_key_secret;
        body["SecurityToken"] = credential.security_token;
        body["Expiration"] = eci::detail::format_utc_timestamp(credential.expiration);
        body["LastUpdated"] = eci::detail::format_utc_timestamp(wall);
        body["Code"] = "Success";
        ++credential_requests;
        return reply(request, http::status::ok, boost::json::serialize(body), "application/json");
    }

    asio::awaitable<void> serve(tcp::socket socket) {
        auto self = shared_from_this();
        beast::tcp_stream stream(std::move(socket));
        if (stopped)
            co_return;  // accepted as close() ran
        auto registration = connections.add([&stream] {
            beast::error_code ignored;
            stream.socket().close(ignored);
        });
        beast::flat_buffer buffer;
        for (;;) {
            http::request_parser<http::string_body> parser;
            parser.header_limit(8 * 1024);
            parser.body_limit(1024);
            stream.expires_after(std::chrono::seconds(10));
            [[maybe_unused]] auto [read_error, bytes_read] = co_await http::async_read(
                stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
            if (read_error)
                break;
            auto request = parser.release();
            auto response = handle(request);
            stream.expires_after(std::chrono::seconds(10));
            [[maybe_unused]] auto [write_error, bytes_written] =
                co_await http::async_write(stream, response, asio::as_tuple(asio::use_awaitable));
            if (write_error || !response.keep_alive())
                break;
        }
        registration.release();
        beast::error_code ignored;
        stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
        stream.socket().close(ignored);
    }

    asio::awaitable<void> accept_loop() {
        auto self = shared_from_this();
        while (!stopped) {
            auto [error, socket] =
                co_await acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
            if (error) {
                if (stopped || error == asio::error::operation_aborted)
                    break;
                continue;  // e.g. EMFILE: keep serving the connections there are
            }
            asio::co_spawn(strand, serve(std::move(socket)), asio::detached);
        }
    }

    void close_all() {
        stopped = true;
        beast::error_code ignored;
        acceptor.close(ignored);
        connections.close_all();
    }
};

Result<std::unique_ptr<MetadataService>> MetadataService::open(
    Strand strand, MetadataOptions options, bool allow_remote,
    std::shared_ptr<IssuedCredentials> issued) {
    if (!allow_remote && !is_loopback_host(options.listen_host))
        return Error::make(ErrorKind::invalid_argument,
                           fmt::format("metadata listen address {} is not loopback (allow_remote "
                                       "is off)",
                                       options.listen_host));
    auto state = std::make_shared<State>(std::move(strand), std::move(options), std::move(issued));
    beast::error_code ec;
    const std::string host =
        state->options.listen_host == "localhost" ? "127.0.0.1" : state->options.listen_host;
    const auto address = asio::ip::make_address(host, ec);
    if (ec)
        return Error::make(ErrorKind::invalid_argument,
                           fmt::format("metadata listen address {} is not an IP address",
                                       state->options.listen_host));
    const tcp::endpoint bind_to(address, state->options.listen_port);
    state->acceptor.open(bind_to.protocol(), ec);
    if (!ec)
        state->acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec)
        state->acceptor.bind(bind_to, ec);
    if (!ec)
        state->acceptor.listen(asio::socket_base::max_listen_connections, ec);
    if (ec)
        return Error::make(
            ErrorKind::invalid_argument,
            fmt::format("cannot listen for the metadata service on {}:{}: {}",
                        state->options.listen_host, state->options.listen_port, ec.message()));
    const auto bound = state->acceptor.local_endpoint();
    state->endpoint = eci::detail::host_and_port(bound.address().to_string(), bound.port());
    return std::unique_ptr<MetadataService>(new MetadataService(std::move(state)));
}

MetadataService::MetadataService(std::shared_ptr<State> state) : state_(std::move(state)) {}

MetadataService::~MetadataService() = default;

void MetadataService::start() {
    asio::co_spawn(state_->strand, state_->accept_loop(), asio::detached);
}

void MetadataService::close() {
    state_->close_all();
}

const std::string& MetadataService::endpoint() const noexcept {
    return state_->endpoint;
}

MetadataStats MetadataService::stats() const noexcept {
    MetadataStats stats;
    stats.token_requests = state_->token_requests;
    stats.role_list_requests = state_->role_list_requests;
    stats.credential_requests = state_->credential_requests;
    stats.without_token = state_->without_token;
    stats.refused = state_->refused;
    return stats;
}

}  // namespace eci::emulator
