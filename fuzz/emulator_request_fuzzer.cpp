// SPDX-License-Identifier: Apache-2.0
// The emulator's request path without sockets: raw bytes through Beast's HTTP request parser
// (in memory, with the server's limits), decode_request (query, form body, UTF-8, parameter
// count), then authenticate() (both signature versions, timestamps, nonces, STS tokens).
// The seeds (make_seeds.cpp) are requests correctly signed with the key below, so mutations
// start inside signature verification rather than at its door.
#include "fuzz_input.hpp"

#include "core/time_format.hpp"
#include "emulator/request_auth.hpp"
#include "emulator/request_decode.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>

namespace http = boost::beast::http;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    http::request_parser<http::string_body> parser;
    parser.eager(true);
    parser.header_limit(64 * 1024);
    parser.body_limit(8 * 1024 * 1024);
    boost::system::error_code ec;
    std::size_t used = 0;
    while (!parser.is_done() && used < size) {
        const std::size_t n = parser.put(boost::asio::buffer(data + used, size - used), ec);
        if (ec || n == 0)
            break;
        used += n;
    }
    // put_eof() may only follow some input (Beast asserts it): with none there is no request.
    if (!ec && !parser.is_done() && parser.got_some())
        parser.put_eof(ec);
    if (ec || !parser.is_done())
        return 0;
    auto request = parser.release();

    eci::detail::Headers headers;
    for (const auto& field : request)
        headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
    auto decoded =
        eci::emulator::decode_request(std::string(request.method_string()), request.target(),
                                      std::move(headers), std::move(request.body()), true);
    const auto* incoming = std::get_if<eci::emulator::IncomingRequest>(&decoded);
    if (!incoming)
        return 0;

    eci::emulator::AuthConfig config;
    config.access_key_id = "LTAIfuzzkey0001";
    config.access_key_secret = "fuzz-secret-0001";
    // Wide enough that a mutated timestamp does not hide the signature check behind it.
    config.max_clock_skew = std::chrono::hours(24 * 365 * 50);
    static const auto now = *eci::detail::parse_utc_timestamp("2026-11-26T00:00:00Z");
    eci::emulator::NonceCache nonces;
    auto outcome = eci::emulator::authenticate(*incoming, config, nonces, now,
                                               eci::emulator::NonceCache::Clock::now());
    if (auto* error = std::get_if<eci::emulator::ApiError>(&outcome)) {
        // A refusal never quotes the secret, unless the request itself carried it (the
        // SignatureDoesNotMatch message quotes the server's string-to-sign, built from the
        // request).
        const std::string_view input = eci::fuzz::as_text(data, size);
        if (input.find(config.access_key_secret) == std::string_view::npos)
            eci::fuzz::require(error->message.find(config.access_key_secret) == std::string::npos);
    }
    return 0;
}
