#include "support/connect_proxy.hpp"

#include <fmt/format.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include <array>

namespace eci::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

struct ConnectProxy::State {
    State(asio::any_io_executor ex, unsigned refuse)
        : executor(ex),
          refuse_status(refuse),
          acceptor(ex, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)),
          port(acceptor.local_endpoint().port()) {}
    asio::any_io_executor executor;
    unsigned refuse_status;
    tcp::acceptor acceptor;
    std::uint16_t port;
    std::size_t tunnels = 0;
    std::string last_target;
    std::string last_authorization;
};

namespace {

asio::awaitable<void> pump(tcp::socket& from, tcp::socket& to) {
    std::array<char, 16 * 1024> chunk;
    for (;;) {
        auto [read_ec, n] =
            co_await from.async_read_some(asio::buffer(chunk), asio::as_tuple(asio::use_awaitable));
        if (read_ec)
            break;
        auto [write_ec, written] = co_await asio::async_write(to, asio::buffer(chunk.data(), n),
                                                              asio::as_tuple(asio::use_awaitable));
        if (write_ec)
            break;
    }
    boost::system::error_code ignored;
    to.shutdown(tcp::socket::shutdown_send, ignored);
}

asio::awaitable<void> serve(std::shared_ptr<ConnectProxy::State> state, tcp::socket client) {
    using namespace asio::experimental::awaitable_operators;
    beast::flat_buffer buffer;
    http::request<http::empty_body> request;
    auto [read_ec, n] =
        co_await http::async_read(client, buffer, request, asio::as_tuple(asio::use_awaitable));
    if (read_ec || request.method() != http::verb::connect)
        co_return;
    state->last_target = std::string(request.target());
    state->last_authorization = std::string(request[http::field::proxy_authorization]);
    const std::string target = state->last_target;
    const auto colon = target.rfind(':');
    tcp::socket upstream(state->executor);
    unsigned status = state->refuse_status;
    if (status == 0) {
        tcp::resolver resolver(state->executor);
        auto [resolve_ec, endpoints] = co_await resolver.async_resolve(
            target.substr(0, colon), target.substr(colon + 1), asio::as_tuple(asio::use_awaitable));
        boost::system::error_code connect_ec = resolve_ec;
        if (!connect_ec)
            std::tie(connect_ec, std::ignore) = co_await asio::async_connect(
                upstream, endpoints, asio::as_tuple(asio::use_awaitable));
        status = connect_ec ? 502 : 200;
    }
    const std::string reply = fmt::format("HTTP/1.1 {} {}\r\n\r\n", status,
                                          status == 200 ? "Connection established" : "Refused");
    auto [write_ec, written] = co_await asio::async_write(client, asio::buffer(reply),
                                                          asio::as_tuple(asio::use_awaitable));
    if (write_ec || status != 200)
        co_return;
    ++state->tunnels;
    co_await (pump(client, upstream) && pump(upstream, client));
}

asio::awaitable<void> accept_loop(std::shared_ptr<ConnectProxy::State> state) {
    for (;;) {
        auto [ec, socket] =
            co_await state->acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
        if (ec)
            co_return;
        asio::co_spawn(state->executor, serve(state, std::move(socket)), asio::detached);
    }
}

}  // namespace

ConnectProxy::ConnectProxy(asio::any_io_executor executor, unsigned refuse_status)
    : state_(std::make_shared<State>(executor, refuse_status)) {
    asio::co_spawn(executor, accept_loop(state_), asio::detached);
}

ConnectProxy::~ConnectProxy() {
    boost::system::error_code ignored;
    state_->acceptor.close(ignored);
}

std::uint16_t ConnectProxy::port() const {
    return state_->port;
}
std::string ConnectProxy::url() const {
    return fmt::format("http://127.0.0.1:{}", state_->port);
}
std::size_t ConnectProxy::tunnels() const {
    return state_->tunnels;
}
const std::string& ConnectProxy::last_target() const {
    return state_->last_target;
}
const std::string& ConnectProxy::last_authorization() const {
    return state_->last_authorization;
}

}  // namespace eci::test
