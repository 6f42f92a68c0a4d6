// SPDX-License-Identifier: Apache-2.0
#include "support/connect_proxy.hpp"

#include <fmt/format.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/core/detail/base64.hpp>
#include <boost/beast/http.hpp>

#include <array>
#include <map>

namespace eci::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

std::string basic_credentials(const std::string& user, const std::string& password) {
    std::string plain = user + ":" + password;
    std::string encoded(beast::detail::base64::encoded_size(plain.size()), '\0');
    encoded.resize(beast::detail::base64::encode(encoded.data(), plain.data(), plain.size()));
    return "Basic " + encoded;
}
}  // namespace

struct ConnectProxy::State {
    State(asio::io_context& io, ConnectProxyOptions opts)
        : executor(io.get_executor()), options(std::move(opts)), acceptor(io) {}
    asio::any_io_executor executor;
    ConnectProxyOptions options;
    tcp::acceptor acceptor;
    std::uint16_t port = 0;
    std::size_t tunnels = 0, refused = 0;
    std::vector<std::string> tunnel_targets;
    std::map<std::uint64_t, tcp::socket*> live;
    std::uint64_t next_id = 0;
};

namespace {

using State = ConnectProxy::State;

struct LiveSocket {
    LiveSocket(State& s, tcp::socket& socket) : state(s), id(s.next_id++) {
        state.live[id] = &socket;
    }
    ~LiveSocket() { state.live.erase(id); }
    State& state;
    std::uint64_t id;
};

asio::awaitable<void> pump(tcp::socket& from, tcp::socket& to) {
    std::array<char, 16 * 1024> data;
    for (;;) {
        auto [read_ec, n] = co_await from.async_read_some(asio::buffer(data), use_tuple);
        if (read_ec)
            co_return;
        auto [write_ec, written] = co_await asio::async_write(to, asio::buffer(data, n), use_tuple);
        (void)written;
        if (write_ec)
            co_return;
    }
}

asio::awaitable<void> refuse(State& state, tcp::socket& client, http::status status) {
    ++state.refused;
    http::response<http::empty_body> response{status, 11};
    if (status == http::status::proxy_authentication_required)
        response.set(http::field::proxy_authenticate, "Basic realm=\"test\"");
    response.keep_alive(false);
    response.prepare_payload();
    co_await http::async_write(client, response, use_tuple);
}

asio::awaitable<void> tunnel(std::shared_ptr<State> state, tcp::socket client) {
    using namespace asio::experimental::awaitable_operators;
    LiveSocket live_client(*state, client);
    beast::flat_buffer buffer;
    http::request_parser<http::empty_body> parser;
    auto [read_ec, read] = co_await http::async_read(client, buffer, parser, use_tuple);
    (void)read;
    if (read_ec)
        co_return;
    const auto& request = parser.get();
    if (request.method() != http::verb::connect) {
        co_await refuse(*state, client, http::status::method_not_allowed);
        co_return;
    }
    if (!state->options.username.empty() &&
        request[http::field::proxy_authorization] !=
            basic_credentials(state->options.username, state->options.password)) {
        co_await refuse(*state, client, http::status::proxy_authentication_required);
        co_return;
    }
    // Target "host:port" or "[v6]:port".
    std::string target(request.target());
    auto colon = target.rfind(':');
    if (colon == std::string::npos) {
        co_await refuse(*state, client, http::status::bad_request);
        co_return;
    }
    std::string host = target.substr(0, colon);
    std::string port = target.substr(colon + 1);
    if (host.size() > 2 && host.front() == '[')
        host = host.substr(1, host.size() - 2);

    tcp::resolver resolver(state->executor);
    auto [resolve_ec, endpoints] = co_await resolver.async_resolve(host, port, use_tuple);
    tcp::socket upstream(state->executor);
    LiveSocket live_upstream(*state, upstream);
    boost::system::error_code connect_ec = resolve_ec;
    if (!connect_ec) {
        auto [ec, endpoint] = co_await asio::async_connect(upstream, endpoints, use_tuple);
        (void)endpoint;
        connect_ec = ec;
    }
    if (connect_ec) {
        co_await refuse(*state, client, http::status::bad_gateway);
        co_return;
    }
    static constexpr std::string_view established = "HTTP/1.1 200 Connection established\r\n\r\n";
    auto [write_ec, written] =
        co_await asio::async_write(client, asio::buffer(established), use_tuple);
    (void)written;
    if (write_ec)
        co_return;
    ++state->tunnels;
    state->tunnel_targets.push_back(target);
    if (buffer.size() != 0) {
        auto [ec, n] = co_await asio::async_write(upstream, buffer.data(), use_tuple);
        (void)n;
        if (ec)
            co_return;
    }
    co_await (pump(client, upstream) || pump(upstream, client));
    boost::system::error_code ignored;
    client.shutdown(tcp::socket::shutdown_both, ignored);
    upstream.shutdown(tcp::socket::shutdown_both, ignored);
}

asio::awaitable<void> accept_loop(std::shared_ptr<State> state) {
    for (;;) {
        auto [ec, socket] = co_await state->acceptor.async_accept(use_tuple);
        if (!state->acceptor.is_open())
            co_return;
        if (ec)
            continue;
        asio::co_spawn(state->executor, tunnel(state, std::move(socket)), asio::detached);
    }
}

}  // namespace

ConnectProxy::ConnectProxy(asio::io_context& io, ConnectProxyOptions options)
    : state_(std::make_shared<State>(io, std::move(options))) {
    tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), 0);
    state_->acceptor.open(endpoint.protocol());
    state_->acceptor.set_option(tcp::acceptor::reuse_address(true));
    state_->acceptor.bind(endpoint);
    state_->acceptor.listen();
    state_->port = state_->acceptor.local_endpoint().port();
    asio::co_spawn(state_->executor, accept_loop(state_), asio::detached);
}

ConnectProxy::~ConnectProxy() {
    stop();
}

void ConnectProxy::stop() {
    boost::system::error_code ignored;
    state_->acceptor.close(ignored);
    for (auto& [id, socket] : state_->live)
        socket->close(ignored);
}

std::uint16_t ConnectProxy::port() const {
    return state_->port;
}
std::string ConnectProxy::url(const std::string& user, const std::string& password) const {
    if (user.empty())
        return fmt::format("http://127.0.0.1:{}", state_->port);
    return fmt::format("http://{}:{}@127.0.0.1:{}", user, password, state_->port);
}
std::size_t ConnectProxy::tunnels() const {
    return state_->tunnels;
}
const std::vector<std::string>& ConnectProxy::tunnel_targets() const {
    return state_->tunnel_targets;
}
std::size_t ConnectProxy::refused_requests() const {
    return state_->refused;
}

}  // namespace eci::test
