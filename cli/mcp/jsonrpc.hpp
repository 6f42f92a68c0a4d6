// SPDX-License-Identifier: Apache-2.0
// JSON-RPC 2.0 as the MCP stdio transport frames it: one message per line (no embedded
// newlines), UTF-8, no batches. Sans-io: bytes in, lines and parsed messages out; replies
// built as ready-to-write lines. The server (mcp/server.cpp) only moves the bytes.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <cstddef>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace eci::cli::mcp {

/// The longest message line accepted: 4 MiB. A longer line is discarded as it arrives (never
/// held in memory whole) and answered with one invalid_request error; serving goes on.
inline constexpr std::size_t max_line_bytes = 4u * 1024u * 1024u;

/// The JSON-RPC error codes the server uses.
namespace rpc_error {
inline constexpr int parse_error = -32700;
inline constexpr int invalid_request = -32600;
inline constexpr int method_not_found = -32601;
inline constexpr int invalid_params = -32602;
inline constexpr int internal_error = -32603;
}  // namespace rpc_error

/// Cuts a byte stream into lines (`\n`, an optional `\r` before it dropped), each at most
/// `max_line` bytes. Thread safety: none (one reader owns it).
class LineSplitter {
  public:
    struct Line {
        std::string text;
        bool too_long = false;  ///< the line passed max_line: `text` is empty, it was dropped
    };

    explicit LineSplitter(std::size_t max_line = max_line_bytes) : max_line_(max_line) {}

    /// Takes the next bytes of the stream; complete lines become available from next().
    void feed(std::string_view bytes);
    /// The next complete line, in order.
    std::optional<Line> next();
    /// At end of stream: the last line when it had no newline.
    std::optional<Line> finish();

  private:
    void complete();

    std::size_t max_line_;
    std::string partial_;
    bool discarding_ = false;  ///< inside an over-long line: skip to its newline
    std::deque<Line> ready_;
};

/// A request: it has an id (a string or an integer) and wants exactly one reply.
struct Request {
    boost::json::value id;
    std::string method;
    boost::json::object params;  ///< empty when the message had none
};

/// A notification: no id, never answered.
struct Notification {
    std::string method;
    boost::json::object params;
};

/// A message that must be answered with an error (id null when it could not be read).
struct Malformed {
    boost::json::value id;
    int code = rpc_error::invalid_request;
    std::string message;
};

/// Something needing no reply: a response from the client (the server sends no requests),
/// a blank line, or a malformed notification (JSON-RPC answers notifications never).
struct Ignored {};

using Message = std::variant<Request, Notification, Malformed, Ignored>;

/// Classifies one line. Never throws; any byte sequence gives one of the four.
Message parse_message(std::string_view line);

/// `{"jsonrpc":"2.0","id":ID,"result":RESULT}` and a newline.
std::string result_line(const boost::json::value& id, boost::json::value result);

/// `{"jsonrpc":"2.0","id":ID,"error":{"code":CODE,"message":MESSAGE}}` and a newline.
std::string error_line(const boost::json::value& id, int code, std::string_view message);

/// `text` made valid UTF-8: every byte that does not start a well-formed sequence becomes
/// U+FFFD. Command output can hold any bytes; a JSON string must not.
std::string valid_utf8(std::string_view text);

/// Whether `text` is well-formed UTF-8 (no overlongs, no surrogates, at most U+10FFFF).
bool is_valid_utf8(std::string_view text) noexcept;

}  // namespace eci::cli::mcp
