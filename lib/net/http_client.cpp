// SPDX-License-Identifier: Apache-2.0
// HttpClient: one send() = a connection from the pool (http_connection_pool.cpp), the wire
// exchange on it (http_exchange.cpp), and one more try on a fresh connection when a pooled
// one turns out dead.
#include "net/http_client.hpp"

#include "core/host_syntax.hpp"
#include "net/http_connection_pool.hpp"
#include "net/http_exchange.hpp"
#include "net/tls_context.hpp"

#include <fmt/format.h>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/system/system_error.hpp>

#include <optional>

namespace eci::detail {

namespace asio = boost::asio;
namespace beast = boost::beast;

struct HttpClient::State {
    State(asio::any_io_executor ex, HttpClientOptions opts)
        : options(std::move(opts)), pool(std::move(ex), options, stats) {}

    HttpClientOptions options;
    HttpClientStats stats;
    HttpConnectionPool pool;  // refers to options and stats: declared after them
    std::string host_header;  // host, or host:port when not the scheme's default

    HttpExchangeContext exchange_context() { return {options, pool.endpoint, stats}; }
};

namespace {

using State = HttpClient::State;

// One request, end to end. One coroutine with the exchange as its only child: each frame is
// an allocation and a resumption per call. Holding `state` keeps the pool alive for the
// lease and the exchange, which therefore take it by reference.
asio::awaitable<Result<HttpResponse>> run_send(std::shared_ptr<State> state, HttpRequest request) {
    ++state->stats.requests;
    HttpConnectionPool& pool = state->pool;
    bool may_have_sent = false;
    try {
        const bool idempotent = request.idempotent;
        const HttpWireRequest message = render_http_request(request, state->host_header);
        auto dispatch = [&may_have_sent] {
            return may_have_sent ? Dispatch::unknown : Dispatch::not_sent;
        };

        std::optional<HttpLease> lease = try_acquire_connection(pool);
        if (!lease) {
            auto waited = co_await acquire_connection(pool);
            if (!waited)
                co_return std::move(waited).error();
            lease.emplace(std::move(*waited));
        }
        for (bool retried = false;; retried = true) {
            if (!lease->connection) {
                auto opened = co_await open_connection(pool);
                if (!opened) {
                    Error error = std::move(opened).error();
                    error.dispatch = dispatch();
                    co_return error;
                }
                lease->connection = std::move(*opened);
            }
            may_have_sent = true;
            HttpExchangeResult outcome =
                co_await exchange_http(*lease->connection, message, state->exchange_context());
            if (outcome.response) {
                lease->finish(outcome.keep_alive);
                co_return std::move(outcome.response);
            }
            // A keep-alive connection the server closed while it sat in the pool fails exactly
            // like this: written (or not), then nothing. Nothing was processed, so an idempotent
            // request may go once more, on a connection that is certainly fresh.
            const bool stale = lease->reused && !outcome.response_started &&
                               outcome.response.error().kind == ErrorKind::network;
            if (retried || !stale || !idempotent)
                co_return std::move(outcome.response).error();
            ++state->stats.stale_retries;
            lease->discard_connection();
        }
    } catch (const boost::system::system_error& failure) {
        // Asio throws operation_aborted from co_await once the coroutine's cancellation state
        // is set (throw_if_cancelled defaults to true and belongs to the caller's coroutine,
        // so we do not change it). Leases and waiters already cleaned up while unwinding.
        if (failure.code() != asio::error::operation_aborted)
            throw;
    }
    co_return pool.make_error(ErrorKind::cancelled,
                              fmt::format("the request to {} was cancelled", pool.endpoint),
                              may_have_sent ? Dispatch::unknown : Dispatch::not_sent);
}

}  // namespace

std::string HttpResponse::header(std::string_view name) const {
    for (const auto& [key, value] : headers)
        if (beast::iequals(key, name))
            return value;
    return {};
}

Result<HttpClient> HttpClient::create(asio::any_io_executor executor, HttpClientOptions options) {
    if (options.scheme != "http" && options.scheme != "https")
        return Error::make(ErrorKind::invalid_argument,
                           fmt::format("scheme must be http or https, not '{}'", options.scheme));
    if (options.host.empty())
        return Error::make(ErrorKind::invalid_argument, "the endpoint host is empty");
    if (options.port == 0)
        return Error::make(ErrorKind::invalid_argument, "the endpoint port is 0");
    if (options.max_connections == 0)
        return Error::make(ErrorKind::invalid_argument, "max_connections must be at least 1");

    auto state = std::make_shared<State>(std::move(executor), std::move(options));
    const HttpClientOptions& opts = state->options;
    HttpConnectionPool& pool = state->pool;
    pool.tls = opts.scheme == "https";
    DialSettings dial;
    dial.proxy = ProxyConfig{opts.proxy_url, opts.no_proxy};
    dial.verify_peer = opts.verify_peer;
    dial.connect_timeout = opts.connect_timeout;
    dial.handshake_timeout = opts.connect_timeout;  // one budget for the whole dial
    auto plan = plan_dial(opts.host, opts.port, dial);
    if (!plan)
        return std::move(plan).error();
    pool.dial_plan = std::move(*plan);
    pool.endpoint = pool.dial_plan.endpoint;
    const std::uint16_t default_port = pool.tls ? 443 : 80;
    state->host_header = opts.port == default_port ? url_host(opts.host) : pool.endpoint;

    TlsClientOptions tls_options;
    tls_options.verify_peer = pool.tls && opts.verify_peer;
    if (pool.tls)
        tls_options.ca_file = opts.ca_file;
    auto context = make_client_tls_context(tls_options);
    if (!context)
        return std::move(context).error();
    pool.tls_context = std::move(*context);
    return HttpClient(std::move(state));
}

HttpClient::HttpClient(std::shared_ptr<State> state) : state_(std::move(state)) {}
HttpClient::HttpClient(HttpClient&&) noexcept = default;
HttpClient& HttpClient::operator=(HttpClient&& other) noexcept {
    if (this != &other) {
        if (state_)
            state_->pool.close();
        state_ = std::move(other.state_);
    }
    return *this;
}
HttpClient::~HttpClient() {
    if (state_)
        state_->pool.close();
}

asio::awaitable<Result<HttpResponse>> HttpClient::send(HttpRequest request) {
    return run_send(state_, std::move(request));
}

const HttpClientStats& HttpClient::stats() const noexcept {
    return state_->stats;
}
const HttpClientOptions& HttpClient::options() const noexcept {
    return state_->options;
}

}  // namespace eci::detail
