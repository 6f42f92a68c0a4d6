// SPDX-License-Identifier: Apache-2.0
#include "cli/mcp/jsonrpc.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <fmt/format.h>

namespace eci::cli::mcp {

namespace json = boost::json;

void LineSplitter::feed(std::string_view bytes) {
    while (!bytes.empty()) {
        const auto newline = bytes.find('\n');
        const auto segment = bytes.substr(0, newline);
        if (!discarding_) {
            if (partial_.size() + segment.size() > max_line_) {
                // Dropped as it streams in: a hostile line never costs more than max_line.
                discarding_ = true;
                partial_.clear();
                partial_.shrink_to_fit();
            } else {
                partial_.append(segment);
            }
        }
        if (newline == std::string_view::npos)
            return;
        complete();
        bytes.remove_prefix(newline + 1);
    }
}

void LineSplitter::complete() {
    if (discarding_) {
        ready_.push_back(Line{{}, true});
        discarding_ = false;
        return;
    }
    if (!partial_.empty() && partial_.back() == '\r')
        partial_.pop_back();
    ready_.push_back(Line{std::move(partial_), false});
    partial_.clear();
}

std::optional<LineSplitter::Line> LineSplitter::next() {
    if (ready_.empty())
        return std::nullopt;
    Line line = std::move(ready_.front());
    ready_.pop_front();
    return line;
}

std::optional<LineSplitter::Line> LineSplitter::finish() {
    if (partial_.empty() && !discarding_)
        return std::nullopt;
    complete();
    return next();
}

namespace {

bool blank(std::string_view line) {
    return line.find_first_not_of(" \t\r") == std::string_view::npos;
}

/// JSON-RPC ids here are strings or integers (MCP forbids null; fractions invite trouble).
bool valid_id(const json::value& id) {
    return id.is_string() || id.is_int64() || id.is_uint64();
}

}  // namespace

Message parse_message(std::string_view line) {
    if (blank(line))
        return Ignored{};
    json::error_code ec;
    json::value value = json::parse(line, ec);
    if (ec)
        return Malformed{nullptr, rpc_error::parse_error,
                         fmt::format("parse error: {}", ec.message())};
    if (value.is_array())
        return Malformed{nullptr, rpc_error::invalid_request,
                         "batches are not supported: send one message per line"};
    if (!value.is_object())
        return Malformed{nullptr, rpc_error::invalid_request,
                         "invalid request: a message must be a JSON object"};
    json::object& message = value.as_object();
    const json::value* id = message.if_contains("id");
    const json::value* method = message.if_contains("method");
    const json::value* version = message.if_contains("jsonrpc");
    const bool is_request = id != nullptr;
    json::value reply_id = (id != nullptr && valid_id(*id)) ? *id : json::value(nullptr);

    if (method == nullptr && is_request &&
        (message.contains("result") || message.contains("error")))
        return Ignored{};  // a response to a request we never send; nothing to say
    if (version == nullptr || !version->is_string() || version->as_string() != "2.0")
        return is_request ? Message(Malformed{reply_id, rpc_error::invalid_request,
                                              "invalid request: jsonrpc must be \"2.0\""})
                          : Message(Ignored{});
    if (is_request && !valid_id(*id))
        return Malformed{nullptr, rpc_error::invalid_request,
                         "invalid request: id must be a string or an integer"};
    if (method == nullptr || !method->is_string())
        return is_request ? Message(Malformed{reply_id, rpc_error::invalid_request,
                                              "invalid request: method must be a string"})
                          : Message(Ignored{});
    json::object params;
    if (const json::value* given = message.if_contains("params")) {
        if (given->is_object())
            params = given->as_object();
        else if (!given->is_null())
            return is_request ? Message(Malformed{reply_id, rpc_error::invalid_params,
                                                  "invalid params: params must be an object"})
                              : Message(Ignored{});
    }
    std::string name(method->as_string());
    if (!is_request)
        return Notification{std::move(name), std::move(params)};
    return Request{std::move(reply_id), std::move(name), std::move(params)};
}

std::string result_line(const json::value& id, json::value result) {
    json::object reply{{"jsonrpc", "2.0"}, {"id", id}, {"result", std::move(result)}};
    std::string line = json::serialize(reply);
    line += '\n';
    return line;
}

std::string error_line(const json::value& id, int code, std::string_view message) {
    json::object reply{{"jsonrpc", "2.0"},
                       {"id", id},
                       {"error", json::object{{"code", code}, {"message", valid_utf8(message)}}}};
    std::string line = json::serialize(reply);
    line += '\n';
    return line;
}

namespace {

/// The length of the well-formed UTF-8 sequence at the start of `text`, or 0.
std::size_t sequence_length(std::string_view text) noexcept {
    const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
    const unsigned char lead = byte(0);
    if (lead < 0x80)
        return 1;
    std::size_t length = 0;
    unsigned char low = 0x80;
    unsigned char high = 0xBF;  // the allowed range of the second byte
    if (lead >= 0xC2 && lead <= 0xDF) {
        length = 2;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
        length = 3;
        if (lead == 0xE0)
            low = 0xA0;  // no overlongs
        if (lead == 0xED)
            high = 0x9F;  // no surrogates
    } else if (lead >= 0xF0 && lead <= 0xF4) {
        length = 4;
        if (lead == 0xF0)
            low = 0x90;
        if (lead == 0xF4)
            high = 0x8F;  // at most U+10FFFF
    } else {
        return 0;
    }
    if (text.size() < length || byte(1) < low || byte(1) > high)
        return 0;
    for (std::size_t i = 2; i < length; ++i) {
        if (byte(i) < 0x80 || byte(i) > 0xBF)
            return 0;
    }
    return length;
}

}  // namespace

bool is_valid_utf8(std::string_view text) noexcept {
    while (!text.empty()) {
        const std::size_t length = sequence_length(text);
        if (length == 0)
            return false;
        text.remove_prefix(length);
    }
    return true;
}

std::string valid_utf8(std::string_view text) {
    if (is_valid_utf8(text))
        return std::string(text);
    std::string out;
    out.reserve(text.size() + 16);
    while (!text.empty()) {
        const std::size_t length = sequence_length(text);
        if (length == 0) {
            out += "\xEF\xBF\xBD";
            text.remove_prefix(1);
        } else {
            out.append(text.substr(0, length));
            text.remove_prefix(length);
        }
    }
    return out;
}

}  // namespace eci::cli::mcp
