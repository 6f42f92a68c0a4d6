// SPDX-License-Identifier: Apache-2.0
#include "support/test_api_client.hpp"

#include "core/crypto.hpp"
#include "core/encoding.hpp"
#include "core/signing.hpp"
#include "core/time_format.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/json/parse.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>

namespace eci::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using asio::ip::tcp;
using TlsStream = asio::ssl::stream<beast::tcp_stream>;

namespace {

constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);

Error net_error(std::string what, boost::system::error_code ec) {
    return Error::make(ErrorKind::network, fmt::format("{}: {}", what, ec.message()));
}

std::shared_ptr<asio::ssl::context> client_context(const std::string& ca_pem) {
    auto context = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
    boost::system::error_code ec;
    if (!ca_pem.empty())
        context->add_certificate_authority(asio::buffer(ca_pem), ec);
    context->set_verify_mode(asio::ssl::verify_peer);
    return context;
}

/// A JS encodeURIComponent-style encoding: leaves `!'()*` raw (what the Node SDK sends).
std::string lenient_encode(std::string_view text) {
    std::string strict = eci::detail::percent_encode(text);
    for (auto [from, to] : {std::pair{"%21", "!"}, std::pair{"%27", "'"}, std::pair{"%28", "("},
                            std::pair{"%29", ")"}, std::pair{"%2A", "*"}}) {
        for (auto pos = strict.find(from); pos != std::string::npos; pos = strict.find(from, pos)) {
            strict.replace(pos, 3, to);
        }
    }
    return strict;
}

/// Python's quote_plus: unreserved bytes raw, a space as `+`, everything else %XX.
std::string python_form_encode(std::string_view text) {
    std::string out;
    for (char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        if (std::isalnum(byte) || c == '_' || c == '.' || c == '-' || c == '~') {
            out += c;
        } else if (c == ' ') {
            out += '+';
        } else {
            out += fmt::format("%{:02X}", byte);
        }
    }
    return out;
}

std::string python_urlencode(const eci::detail::Params& params) {
    std::string out;
    for (const auto& [name, value] : params) {
        if (!out.empty())
            out += '&';
        out += python_form_encode(name) + "=" + python_form_encode(value);
    }
    return out;
}

template <class Stream>
asio::awaitable<Result<std::vector<TestReply>>> exchange(
    Stream& stream, std::vector<http::request<http::string_body>> requests) {
    std::vector<TestReply> replies;
    beast::flat_buffer buffer;
    for (auto& request : requests) {
        auto [write_ec, written] = co_await http::async_write(stream, request, tuple_awaitable);
        (void)written;
        if (write_ec)
            co_return net_error("write", write_ec);
        http::response<http::string_body> response;
        auto [read_ec, read] = co_await http::async_read(stream, buffer, response, tuple_awaitable);
        (void)read;
        if (read_ec)
            co_return net_error("read (no reply)", read_ec);
        TestReply reply;
        reply.status = response.result_int();
        reply.body = std::move(response.body());
        boost::system::error_code json_ec;
        reply.json = boost::json::parse(reply.body, json_ec);
        if (json_ec)
            reply.json = nullptr;
        replies.push_back(std::move(reply));
    }
    co_return replies;
}

asio::awaitable<Result<std::vector<TestReply>>> send_all(
    asio::any_io_executor executor, const TestEndpoint& endpoint,
    std::vector<http::request<http::string_body>> requests) {
    beast::tcp_stream tcp_stream(executor);
    tcp_stream.expires_after(std::chrono::seconds(20));
    auto address = asio::ip::make_address(endpoint.host);
    auto [connect_ec] =
        co_await tcp_stream.async_connect(tcp::endpoint(address, endpoint.port), tuple_awaitable);
    if (connect_ec)
        co_return net_error("connect", connect_ec);
    if (!endpoint.tls) {
        auto replies = co_await exchange(tcp_stream, std::move(requests));
        boost::system::error_code ignored;
        tcp_stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
        co_return replies;
    }
    auto context = client_context(endpoint.ca_pem);
    TlsStream stream(std::move(tcp_stream), *context);
    stream.set_verify_callback(asio::ssl::host_name_verification(endpoint.host));
    auto [handshake_ec] =
        co_await stream.async_handshake(asio::ssl::stream_base::client, tuple_awaitable);
    if (handshake_ec) {
        co_return Error::make(ErrorKind::tls, fmt::format("handshake: {}", handshake_ec.message()));
    }
    auto replies = co_await exchange(stream, std::move(requests));
    if (replies) {
        beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(2));
        co_await stream.async_shutdown(tuple_awaitable);
    }
    co_return replies;
}

}  // namespace

std::string TestReply::code() const {
    return str("Code");
}

std::string TestReply::str(std::string_view key) const {
    if (!json.is_object())
        return {};
    const auto* value = json.as_object().if_contains(key);
    if (!value || !value->is_string())
        return {};
    return std::string(value->as_string());
}

TestApiClient::TestApiClient(asio::any_io_executor executor, TestEndpoint endpoint)
    : executor_(std::move(executor)), endpoint_(std::move(endpoint)) {}

asio::awaitable<Result<TestReply>> TestApiClient::call(std::string action,
                                                       eci::detail::Params params,
                                                       CallOptions options) {
    if (!eci::detail::has_param(params, "RegionId")) {
        params.insert(params.begin(), {"RegionId", endpoint_.region_id});
    }
    std::string key_id = options.access_key_id.value_or(endpoint_.access_key_id);
    std::string secret = options.secret.value_or(endpoint_.access_key_secret);
    std::string token = options.omit_security_token ? std::string() : endpoint_.security_token;
    std::string timestamp = options.timestamp.value_or(
        eci::detail::format_utc_timestamp(std::chrono::system_clock::now()));
    std::string nonce = options.nonce.value_or(*eci::detail::random_hex(16));
    std::string host = fmt::format("{}:{}", endpoint_.host, endpoint_.port);

    http::request<http::string_body> request;
    request.version(11);
    request.method_string(options.method);
    request.set(http::field::host, host);
    request.set(http::field::accept, "application/json");
    request.set(http::field::user_agent, "eci-test-client");

    eci::detail::Params wire_params = params;
    eci::detail::Headers headers;
    if (options.signing == CallOptions::Signing::rpc_v2) {
        eci::detail::SigningKey key{key_id, secret, token};
        eci::detail::RpcRequest rpc{action, "2018-08-08", options.method, params};
        wire_params = eci::detail::sign_rpc(key, rpc, timestamp, nonce);
        if (options.corrupt_signature) {
            for (auto& [name, value] : wire_params) {
                if (name == "Signature")
                    value[0] = value[0] == 'A' ? 'B' : 'A';
            }
        }
    } else if (options.signing == CallOptions::Signing::acs3) {
        eci::detail::SigningKey key{key_id, secret, token};
        std::string body = !options.form_body    ? std::string()
                           : options.python_form ? python_urlencode(params)
                                                 : eci::detail::build_query(params);
        eci::detail::Params query = options.form_body ? eci::detail::Params{} : params;
        eci::detail::Acs3Request acs3;
        acs3.action = action;
        acs3.version = "2018-08-08";
        acs3.host = host;
        acs3.method = options.method;
        acs3.query = query;
        acs3.body = body;
        if (options.form_body)
            acs3.content_type = "application/x-www-form-urlencoded";
        // Extra x-acs-* headers are signed: sign with them, then add them to the request.
        if (!options.extra_headers.empty()) {
            headers = eci::detail::sign_acs3(key, acs3, timestamp, nonce);
            headers.insert(headers.end(), options.extra_headers.begin(),
                           options.extra_headers.end());
            std::erase_if(headers, [](const auto& h) { return h.first == "authorization"; });
            auto canonical = eci::detail::acs3_canonical_headers(headers);
            std::string body_hash = eci::detail::sha256_hex(body);
            auto string_to_sign =
                eci::detail::acs3_string_to_sign(eci::detail::acs3_canonical_request(
                    options.method, "/", query, canonical, body_hash));
            headers.emplace_back("authorization",
                                 eci::detail::acs3_authorization(
                                     key_id, canonical.signed_names,
                                     eci::detail::acs3_signature(secret, string_to_sign)));
        } else {
            headers = eci::detail::sign_acs3(key, acs3, timestamp, nonce);
        }
        if (options.corrupt_signature) {
            for (auto& [name, value] : headers) {
                if (name == "authorization")
                    value.back() = value.back() == '0' ? '1' : '0';
            }
        }
        if (options.form_body) {
            request.body() = body;
            wire_params.clear();
        } else {
            wire_params = query;
        }
    } else {
        wire_params = params;
        wire_params.emplace_back("Action", action);
        wire_params.emplace_back("Version", "2018-08-08");
    }
    for (const auto& [name, value] : headers) {
        if (name == "host")
            continue;
        request.set(name, value);
    }

    std::string target = "/";
    if (options.signing == CallOptions::Signing::rpc_v2 && options.form_body) {
        request.set(http::field::content_type, "application/x-www-form-urlencoded");
        request.body() = options.python_form ? python_urlencode(wire_params)
                                             : eci::detail::build_query(wire_params);
    } else if (!wire_params.empty()) {
        if (options.python_form) {
            target += "?" + python_urlencode(wire_params);
        } else if (options.lenient_query) {
            std::string query;
            for (auto it = wire_params.rbegin(); it != wire_params.rend(); ++it) {
                if (!query.empty())
                    query += '&';
                query += lenient_encode(it->first) + "=" + lenient_encode(it->second);
            }
            target += "?" + query;
        } else {
            target += "?" + eci::detail::build_query(wire_params);
        }
    }
    request.target(target);
    request.keep_alive(false);
    request.prepare_payload();

    std::vector<http::request<http::string_body>> requests;
    requests.push_back(std::move(request));
    auto replies = co_await send_all(executor_, endpoint_, std::move(requests));
    if (!replies)
        co_return replies.error();
    co_return std::move(replies->front());
}

asio::awaitable<Result<std::vector<TestReply>>> TestApiClient::get_many(std::string target,
                                                                        int count) {
    std::vector<http::request<http::string_body>> requests;
    for (int i = 0; i < count; ++i) {
        http::request<http::string_body> request{http::verb::get, target, 11};
        request.set(http::field::host, fmt::format("{}:{}", endpoint_.host, endpoint_.port));
        request.keep_alive(i + 1 < count);
        requests.push_back(std::move(request));
    }
    co_return co_await send_all(executor_, endpoint_, std::move(requests));
}

// ------------------------------------------------------------------------------------------

namespace {

template <class WebSocket>
asio::awaitable<Result<ExecTranscript>> converse(WebSocket& ws, std::string host,
                                                 std::string target, ExecScript script) {
    ExecTranscript transcript;
    http::response<http::string_body> refusal;
    websocket::response_type upgrade;
    auto [handshake_ec] = co_await ws.async_handshake(upgrade, host, target, tuple_awaitable);
    if (handshake_ec) {
        if (handshake_ec == websocket::error::upgrade_declined) {
            transcript.handshake_refused = true;
            transcript.http_status = upgrade.result_int();
            co_return transcript;
        }
        co_return net_error("websocket handshake", handshake_ec);
    }
    ws.binary(true);
    for (auto& frame : script.frames) {
        auto [ec, n] = co_await ws.async_write(asio::buffer(frame), tuple_awaitable);
        (void)n;
        if (ec)
            break;
    }
    beast::flat_buffer buffer;
    for (;;) {
        if (script.read_pause.count() > 0) {
            asio::steady_timer pause(co_await asio::this_coro::executor, script.read_pause);
            co_await pause.async_wait(tuple_awaitable);
        }
        buffer.clear();
        auto [ec, n] = co_await ws.async_read(buffer, tuple_awaitable);
        if (ec) {
            if (ec == websocket::error::closed)
                transcript.close_code = ws.reason().code;
            break;
        }
        std::string data(static_cast<const char*>(buffer.data().data()), n);
        if (data.empty())
            continue;
        int channel = static_cast<unsigned char>(data[0]);
        std::string payload = data.substr(1);
        if (channel == 1) {
            transcript.stdout_data += payload;
        } else if (channel == 2) {
            transcript.stderr_data += payload;
        } else {
            transcript.other.emplace_back(channel, payload);
        }
        if (script.on_frame) {
            for (auto& reply : script.on_frame(channel, payload)) {
                auto [write_ec, written] =
                    co_await ws.async_write(asio::buffer(reply), tuple_awaitable);
                (void)written;
                if (write_ec)
                    break;
            }
        }
        if (script.vanish_after_stdout_bytes > 0 &&
            transcript.stdout_data.size() >= script.vanish_after_stdout_bytes) {
            boost::system::error_code ignored;
            beast::get_lowest_layer(ws).socket().close(ignored);
            co_return transcript;
        }
    }
    co_return transcript;
}

}  // namespace

asio::awaitable<Result<ExecTranscript>> run_exec_socket(asio::any_io_executor executor,
                                                        std::string uri, std::string ca_pem,
                                                        ExecScript script) {
    bool tls = uri.starts_with("wss://");
    if (!tls && !uri.starts_with("ws://")) {
        co_return Error::make(ErrorKind::invalid_argument, "not a ws:// or wss:// URI");
    }
    std::string rest = uri.substr(tls ? 6 : 5);
    auto slash = rest.find('/');
    std::string authority = rest.substr(0, slash);
    std::string target = slash == std::string::npos ? "/" : rest.substr(slash);
    auto colon = authority.rfind(':');
    std::string host = authority.substr(0, colon);
    std::uint16_t port = 0;
    std::string port_text = authority.substr(colon + 1);
    std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);

    beast::tcp_stream tcp_stream(executor);
    tcp_stream.expires_after(std::chrono::seconds(20));
    auto [connect_ec] = co_await tcp_stream.async_connect(
        tcp::endpoint(asio::ip::make_address(host), port), tuple_awaitable);
    if (connect_ec)
        co_return net_error("connect", connect_ec);
    tcp_stream.expires_never();
    if (!tls) {
        websocket::stream<beast::tcp_stream> ws(std::move(tcp_stream));
        ws.set_option(websocket::stream_base::timeout::suggested(beast::role_type::client));
        co_return co_await converse(ws, authority, target, std::move(script));
    }
    auto context = client_context(ca_pem);
    websocket::stream<TlsStream> ws(std::move(tcp_stream), *context);
    ws.next_layer().set_verify_callback(asio::ssl::host_name_verification(host));
    beast::get_lowest_layer(ws).expires_after(std::chrono::seconds(20));
    auto [handshake_ec] =
        co_await ws.next_layer().async_handshake(asio::ssl::stream_base::client, tuple_awaitable);
    if (handshake_ec)
        co_return Error::make(ErrorKind::tls, handshake_ec.message());
    beast::get_lowest_layer(ws).expires_never();
    ws.set_option(websocket::stream_base::timeout::suggested(beast::role_type::client));
    co_return co_await converse(ws, authority, target, std::move(script));
}

}  // namespace eci::test
