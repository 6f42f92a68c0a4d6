// SPDX-License-Identifier: Apache-2.0
// The exec WebSocket's message format, without any socket: channel-prefixed frames, the three
// ways a server may report the exit status, and a bounded collector for the output.
//
// See docs/exec-websocket.md for the protocol and the reasons behind each choice.
#pragma once

#include <eci/result.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace eci::detail {

/// The first byte of every binary exec message.
///
/// 0-2 are fixed. The meaning of 3 and 4 depends on the server: the Python package labels them
/// "resize" and "exit"; a Kubernetes-style server (v4.channel.k8s.io) uses 3 for a v1.Status
/// JSON and 4 for resize. Hence the neutral names.
enum class ExecChannel : std::uint8_t {
    stdin_ = 0,    ///< client -> server: the process's standard input
    stdout_ = 1,   ///< server -> client: standard output
    stderr_ = 2,   ///< server -> client: standard error
    channel3 = 3,  ///< Kubernetes: error/status (v1.Status JSON); Python package: "resize"
    channel4 = 4,  ///< emulator `channel4` mode: decimal exit code; Kubernetes: resize
};

/// The highest channel number the protocol knows.
inline constexpr std::uint8_t max_exec_channel = 4;

/// A stable name for logs and test output: "stdin", "stdout", "stderr", "channel3", "channel4".
std::string_view to_string(ExecChannel channel) noexcept;

/// One message with its channel byte removed.
///
/// Lifetime: `payload` views the message passed to decode_frame; it dangles once that buffer
/// is reused or freed.
struct DecodedFrame {
    ExecChannel channel = ExecChannel::stdout_;
    std::string_view payload;
};

/// Builds any channel's message: the channel byte followed by `payload`.
std::string encode_frame(ExecChannel channel, std::string_view payload);

/// Builds a stdin message: 0x00 followed by `bytes` (any bytes, not only UTF-8).
std::string encode_stdin_frame(std::string_view bytes);

/// Builds the `channel4` exit report: channel 4 and the exit code in decimal ASCII.
std::string encode_channel4_exit_frame(int exit_code);

/// Builds the Kubernetes-style exit report on channel 3: {"status":"Success"} for 0, otherwise
/// a Failure/NonZeroExitCode v1.Status with the code in details.causes[reason=ExitCode].
std::string encode_k8s_status_frame(int exit_code);

/// The payload of a terminal resize message, Kubernetes' TerminalSize JSON:
/// `{"Width":<columns>,"Height":<rows>}`. Which channel carries it is the server's convention
/// (3 for the Python package's labels, 4 for Kubernetes); docs/exec-websocket.md, "Resize".
std::string encode_resize_payload(unsigned rows, unsigned columns);

/// Splits one received WebSocket message into channel and payload.
///
/// A text message (`is_text`) is stdout as a whole, as the Python package treats it. A binary
/// message must carry a channel byte 0-4; the payload may be empty.
///
/// Errors: ErrorKind::protocol for an empty binary message or a channel byte above 4. (The
/// Python package would pass such bytes through as output; we refuse them so that garbage is
/// never mistaken for the command's output.)
Result<DecodedFrame> decode_frame(std::string_view message, bool is_text);

/// How a server reported an exit status.
enum class ExitStatusSource {
    k8s_status,  ///< channel 3, a Kubernetes v1.Status JSON
    channel4,    ///< channel 4, a decimal exit code
};

/// An exit status decoded from a status frame.
struct ExitStatus {
    int exit_code = 0;
    ExitStatusSource source = ExitStatusSource::channel4;
    /// Status.message of a Kubernetes Failure, as the server sent it (service text; may be
    /// empty). Never used for anything but diagnostics.
    std::string service_message;
};

/// Decodes an exit status frame, if `payload` on `channel` is one.
///
/// - channel 3: a JSON object with "status" "Success" -> 0. "Failure" -> the integer in
///   details.causes[i].message where causes[i].reason == "ExitCode" (above 255 -> not a status:
///   no process exits with it, and 256 taken modulo 256 would read as success); without such a
///   cause but with a cause of reason "Signal" holding a number N -> 128 + N (the shell's
///   convention); with neither -> 1 (the Kubernetes client fails such an exec with a plain error,
///   so the command must count as failed, but no code was reported). Nesting deeper than 16 levels,
///   other "status" values or non-JSON -> not a status.
/// - channel 4: one to nine ASCII digits, optionally surrounded by ASCII whitespace -> that code
///   if it is 0-255; a larger number -> not a status.
/// - anything else -> std::nullopt: the caller ignores (and counts) the frame.
///
/// Errors: none; a frame that is not a status is simply not a status.
std::optional<ExitStatus> parse_exit_frame(ExecChannel channel, std::string_view payload);

/// The exit code of parse_exit_frame, for callers that need only the number.
std::optional<int> parse_exit_status(ExecChannel channel, std::string_view payload);

/// Collects a command's output: stdout and stderr in separate buffers and both interleaved in
/// arrival order in a combined buffer, each bounded by `max_bytes`.
///
/// When a buffer would exceed its bound it keeps the LAST `max_bytes` bytes and drops the
/// oldest: the end of the output is what a caller needs most (the error, the final result,
/// and the exit-code marker the sandbox layer's shell wrapper prints last). Truncation may cut
/// a multi-byte UTF-8 character at the start of a buffer. The optional callback sees every
/// chunk in full, before any truncation, so a streaming caller loses nothing.
///
/// Thread safety: none; one reader appends. The callback runs inside append().
class OutputCollector {
  public:
    using ChunkCallback = std::function<void(ExecChannel, std::string_view)>;

    /// The default bound of each buffer: 16 MiB.
    static constexpr std::size_t default_max_bytes = 16 * 1024 * 1024;

    /// `max_bytes` bounds each of the three buffers; 0 keeps nothing (count and stream only).
    explicit OutputCollector(std::size_t max_bytes = default_max_bytes,
                             ChunkCallback on_chunk = {});

    /// Records one chunk. Only stdout and stderr are collected; other channels are ignored.
    void append(ExecChannel channel, std::string_view chunk);

    /// The retained bytes (the last `max_bytes` of each stream). Views are invalidated by the
    /// next append().
    std::string_view stdout_view() const noexcept { return stdout_.view(); }
    std::string_view stderr_view() const noexcept { return stderr_.view(); }
    std::string_view combined_view() const noexcept { return combined_.view(); }
    std::string stdout_text() const { return std::string(stdout_view()); }
    std::string stderr_text() const { return std::string(stderr_view()); }
    std::string combined_text() const { return std::string(combined_view()); }

    /// Whether any buffer dropped bytes.
    bool truncated() const noexcept { return dropped_bytes() > 0; }
    /// Bytes dropped from the combined buffer (= all bytes received minus those retained).
    std::size_t dropped_bytes() const noexcept { return combined_.dropped(); }
    std::size_t stdout_dropped_bytes() const noexcept { return stdout_.dropped(); }
    std::size_t stderr_dropped_bytes() const noexcept { return stderr_.dropped(); }
    /// Bytes received per stream, retained or not.
    std::size_t stdout_received_bytes() const noexcept { return stdout_.received(); }
    std::size_t stderr_received_bytes() const noexcept { return stderr_.received(); }
    std::size_t max_bytes() const noexcept { return max_bytes_; }

    /// A bound on the bytes received (stdout and stderr, kept or not); 0 (default) = none.
    /// The collector still records every chunk: the reader checks over_received_limit() and
    /// ends the stream, so a server that streams without end cannot outlast the caller.
    void set_received_limit(std::size_t limit) noexcept { received_limit_ = limit; }
    std::size_t received_limit() const noexcept { return received_limit_; }
    bool over_received_limit() const noexcept {
        return received_limit_ != 0 &&
               stdout_received_bytes() + stderr_received_bytes() > received_limit_;
    }

  private:
    // Keeps the last `limit` bytes. Appends are amortised O(chunk): the storage may grow to
    // twice the limit before the oldest bytes are erased in one go.
    class TailBuffer {
      public:
        explicit TailBuffer(std::size_t limit) : limit_(limit) {}
        void append(std::string_view chunk);
        std::string_view view() const noexcept;
        std::size_t received() const noexcept { return received_; }
        std::size_t dropped() const noexcept { return received_ - view().size(); }

      private:
        std::string data_;
        std::size_t limit_;
        std::size_t received_ = 0;
    };

    std::size_t max_bytes_;
    std::size_t received_limit_ = 0;
    ChunkCallback on_chunk_;
    TailBuffer stdout_;
    TailBuffer stderr_;
    TailBuffer combined_;
};

}  // namespace eci::detail
