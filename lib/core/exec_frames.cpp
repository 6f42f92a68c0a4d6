// SPDX-License-Identifier: Apache-2.0
#include "core/exec_frames.hpp"
#include "core/redact.hpp"

#include <fmt/format.h>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include <algorithm>
#include <charconv>

namespace eci::detail {

namespace {

// Kubernetes' v1.Status is three levels deep at most; 16 leaves room for extensions while a
// hostile frame cannot make the parser recurse far.
constexpr std::size_t max_status_json_depth = 16;

// An exit code has at most three digits on Linux; nine always fit in an int.
constexpr std::size_t max_exit_code_digits = 9;

// A process's exit status is 0-255. A larger number is not an exit code at all: taken as
// one, a shell or the CLI would reduce it modulo 256 and 256 would read as success.
constexpr int max_exit_code = 255;

bool is_ascii_space(char c) noexcept {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

std::string_view trim_ascii_space(std::string_view text) noexcept {
    while (!text.empty() && is_ascii_space(text.front()))
        text.remove_prefix(1);
    while (!text.empty() && is_ascii_space(text.back()))
        text.remove_suffix(1);
    return text;
}

// A non-negative decimal of 1..9 digits and nothing else (after trimming whitespace).
std::optional<int> parse_decimal(std::string_view text) noexcept {
    text = trim_ascii_space(text);
    if (text.empty() || text.size() > max_exit_code_digits)
        return std::nullopt;
    if (!std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return std::nullopt;
    int value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size())
        return std::nullopt;
    return value;
}

std::string_view string_field(const boost::json::object& object, std::string_view key) {
    const auto* value = object.if_contains(key);
    if (value == nullptr || !value->is_string())
        return {};
    return value->get_string();
}

// The number in the message of the first cause with `reason`, if any.
std::optional<int> cause_number(const boost::json::object& status, std::string_view reason) {
    const auto* details = status.if_contains("details");
    if (details == nullptr || !details->is_object())
        return std::nullopt;
    const auto* causes = details->get_object().if_contains("causes");
    if (causes == nullptr || !causes->is_array())
        return std::nullopt;
    for (const auto& cause : causes->get_array()) {
        if (!cause.is_object())
            continue;
        if (string_field(cause.get_object(), "reason") != reason)
            continue;
        if (auto number = parse_decimal(string_field(cause.get_object(), "message")))
            return number;
    }
    return std::nullopt;
}

std::optional<ExitStatus> parse_k8s_status(std::string_view payload) {
    boost::json::parse_options options;
    options.max_depth = max_status_json_depth;
    boost::system::error_code ec;
    boost::json::value json = boost::json::parse(payload, ec, {}, options);
    if (ec || !json.is_object())
        return std::nullopt;
    const auto& status = json.get_object();
    const std::string_view state = string_field(status, "status");
    ExitStatus result;
    result.source = ExitStatusSource::k8s_status;
    if (state == "Success") {
        result.exit_code = 0;
        return result;
    }
    if (state != "Failure")
        return std::nullopt;
    result.service_message = redact_secrets(string_field(status, "message"));
    if (auto code = cause_number(status, "ExitCode")) {
        if (*code > max_exit_code)
            return std::nullopt;
        result.exit_code = *code;
    } else if (auto signal = cause_number(status, "Signal"); signal && *signal < 128) {
        result.exit_code = 128 + *signal;
    } else {
        result.exit_code = 1;
    }
    return result;
}

}  // namespace

std::string_view to_string(ExecChannel channel) noexcept {
    switch (channel) {
        case ExecChannel::stdin_:
            return "stdin";
        case ExecChannel::stdout_:
            return "stdout";
        case ExecChannel::stderr_:
            return "stderr";
        case ExecChannel::channel3:
            return "channel3";
        case ExecChannel::channel4:
            return "channel4";
    }
    return "unknown";
}

std::string encode_frame(ExecChannel channel, std::string_view payload) {
    std::string message;
    message.reserve(payload.size() + 1);
    message.push_back(static_cast<char>(channel));
    message.append(payload);
    return message;
}

std::string encode_stdin_frame(std::string_view bytes) {
    return encode_frame(ExecChannel::stdin_, bytes);
}

std::string encode_channel4_exit_frame(int exit_code) {
    return encode_frame(ExecChannel::channel4, fmt::format("{}", exit_code));
}

std::string encode_k8s_status_frame(int exit_code) {
    boost::json::object status{{"metadata", boost::json::object{}}};
    if (exit_code == 0) {
        status["status"] = "Success";
    } else {
        status["status"] = "Failure";
        status["message"] =
            fmt::format("command terminated with non-zero exit code: exit status {}", exit_code);
        status["reason"] = "NonZeroExitCode";
        boost::json::object cause{{"reason", "ExitCode"},
                                  {"message", fmt::format("{}", exit_code)}};
        status["details"] = boost::json::object{{"causes", boost::json::array{cause}}};
    }
    return encode_frame(ExecChannel::channel3, boost::json::serialize(status));
}

std::string encode_resize_payload(unsigned rows, unsigned columns) {
    return fmt::format(R"({{"Width":{},"Height":{}}})", columns, rows);
}

Result<DecodedFrame> decode_frame(std::string_view message, bool is_text) {
    if (is_text)
        return DecodedFrame{ExecChannel::stdout_, message};
    if (message.empty())
        return Error::make(ErrorKind::protocol, "exec WebSocket: empty binary message");
    const auto channel = static_cast<std::uint8_t>(message.front());
    if (channel > max_exec_channel)
        return Error::make(ErrorKind::protocol,
                           fmt::format("exec WebSocket: unknown channel {}", channel));
    return DecodedFrame{static_cast<ExecChannel>(channel), message.substr(1)};
}

std::optional<ExitStatus> parse_exit_frame(ExecChannel channel, std::string_view payload) {
    switch (channel) {
        case ExecChannel::channel3:
            return parse_k8s_status(payload);
        case ExecChannel::channel4:
            if (auto code = parse_decimal(payload); code && *code <= max_exit_code)
                return ExitStatus{*code, ExitStatusSource::channel4, {}};
            return std::nullopt;
        default:
            return std::nullopt;
    }
}

std::optional<int> parse_exit_status(ExecChannel channel, std::string_view payload) {
    if (auto status = parse_exit_frame(channel, payload))
        return status->exit_code;
    return std::nullopt;
}

void OutputCollector::TailBuffer::append(std::string_view chunk) {
    received_ += chunk.size();
    if (limit_ == 0)
        return;
    if (chunk.size() >= limit_) {
        data_.assign(chunk.substr(chunk.size() - limit_));
        return;
    }
    data_.append(chunk);
    if (data_.size() > 2 * limit_)
        data_.erase(0, data_.size() - limit_);
}

std::string_view OutputCollector::TailBuffer::view() const noexcept {
    std::string_view all = data_;
    return all.size() > limit_ ? all.substr(all.size() - limit_) : all;
}

OutputCollector::OutputCollector(std::size_t max_bytes, ChunkCallback on_chunk)
    : max_bytes_(max_bytes),
      on_chunk_(std::move(on_chunk)),
      stdout_(max_bytes),
      stderr_(max_bytes),
      combined_(max_bytes) {}

void OutputCollector::append(ExecChannel channel, std::string_view chunk) {
    if (channel == ExecChannel::stdout_) {
        stdout_.append(chunk);
    } else if (channel == ExecChannel::stderr_) {
        stderr_.append(chunk);
    } else {
        return;
    }
    combined_.append(chunk);
    if (on_chunk_)
        on_chunk_(channel, chunk);
}

}  // namespace eci::detail
