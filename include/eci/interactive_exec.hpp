// SPDX-License-Identifier: Apache-2.0
// eci::InteractiveExec: one command on an exec WebSocket, driven as a stream: bytes in (stdin),
// output chunks out, terminal resizes, and the exit status at the end. `eci-sandbox shell`
// is built on it.
#pragma once

#include <eci/async_sandbox.hpp>
#include <eci/command.hpp>
#include <eci/result.hpp>

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace eci {

/// Rows and columns of a terminal.
struct TerminalSize {
    unsigned short rows = 24;
    unsigned short columns = 80;
};

/// Which channel a resize message goes out on. The service's convention is unknown: the
/// Python package labels channel 3 "resize", Kubernetes uses 4 (docs/exec-websocket.md,
/// "Resize"). `both` sends the message on 3 and then on 4; a server ignores the channel that
/// is not its resize channel (the emulator does, in every --exit-status mode).
enum class ResizeChannels { both, channel3, channel4 };

/// How an InteractiveExec starts. Every field has a usable default.
struct InteractiveExecOptions {
    /// The container to run in. Empty (default): the handle's container.
    std::string container_name;
    /// Allocate a TTY (default true): output arrives merged on stdout, the terminal's line
    /// discipline (echo, Ctrl-C as SIGINT) is the remote one, and resize() applies.
    bool tty = true;
    /// Sent as a resize right after connecting, before any stdin. Default none.
    std::optional<TerminalSize> terminal_size;
    /// Deadline of opening: the ExecContainerCommand call and the WebSocket. Default 60 s.
    std::chrono::milliseconds open_timeout{60000};
    /// Send argv bare. By default (false) argv runs under the `/bin/sh -c '"$@"; <report>'`
    /// wrapper of exec_command, so the exit code is known whether or not the service's stream
    /// reports one; the report line is removed from the output. Set it for an image without
    /// /bin/sh (the exit code is then known only from a status frame).
    bool raw_argv = false;
    ResizeChannels resize_channels = ResizeChannels::both;
};

/// A chunk of the command's output.
struct InteractiveOutput {
    OutputStream stream = OutputStream::standard_output;
    std::string bytes;
};

/// The end of the stream: the server closed the connection.
struct InteractiveExit {
    /// The command's exit code: from the wrapper's report, else from the server's status
    /// frame; empty when neither came (raw_argv on a server without status frames).
    std::optional<int> exit_code;
    std::uint16_t close_code = 0;  ///< the close frame's code (1000 normal)
    std::string close_reason;      ///< the close frame's reason (service text)
};

/// What read() produces.
using InteractiveEvent = std::variant<InteractiveOutput, InteractiveExit>;

/// One command with its stdin open, reached over ONE exec WebSocket, for a caller that relays
/// a terminal (or any byte stream) to it.
///
/// Usage: open(), then one coroutine calling read() until InteractiveExit or an error, while
/// others call write() and resize() (these two are queued internally, so a stdin relay and a
/// SIGWINCH handler may call them concurrently). close() ends it early.
///
/// Errors: read() fails with network when the connection dropped without a close frame (a
/// killed service, a deleted sandbox), timeout when the connection went silent (keep-alive),
/// protocol for a malformed stream; write() and resize() fail likewise once the connection is
/// gone. Every error after the upgrade carries Dispatch::accepted.
/// Cancellation: every operation honours terminal cancellation of the awaiting coroutine;
/// a cancelled read() or write() leaves the connection closed.
/// Lifetimes: a cheap handle; copies share the stream; it ends when the last handle is gone.
/// Thread safety: use from the sandbox client's executor.
class InteractiveExec {
  public:
    /// Starts `argv` (ExecContainerCommand with Stdin on, TTY per options) and connects its
    /// WebSocket, then sends options.terminal_size. Errors: invalid_argument (empty argv);
    /// not_found (no such sandbox) and the other errors of ExecContainerCommand; network /
    /// tls / timeout connecting the WebSocket (open_timeout); cancelled.
    static boost::asio::awaitable<Result<InteractiveExec>> open(AsyncSandbox sandbox,
                                                                std::vector<std::string> argv,
                                                                InteractiveExecOptions options);

    /// The next output chunk, or InteractiveExit once the server closed the connection; after
    /// that, InteractiveExit again. One read() at a time.
    boost::asio::awaitable<Result<InteractiveEvent>> read();

    /// Sends `bytes` to the command's stdin (with a TTY: as typed, e.g. "\x03" for Ctrl-C,
    /// which the remote line discipline turns into SIGINT). Empty bytes send nothing.
    boost::asio::awaitable<Result<void>> write(std::string bytes);

    /// Without a TTY: sends one empty stdin frame, which the emulator takes as the end of
    /// stdin (it closes the command's stdin pipe). The protocol documents no end-of-input; a
    /// server that does not know this convention ignores the frame. With a TTY it sends
    /// nothing (the remote terminal's EOF is the byte Ctrl-D, sent with write()).
    boost::asio::awaitable<Result<void>> write_eof();

    /// Tells the remote terminal its new size (it delivers SIGWINCH to the foreground job).
    /// Without a TTY it sends nothing.
    boost::asio::awaitable<Result<void>> resize(TerminalSize size);

    /// Closes the connection (a normal close); the service then ends the command. Idempotent.
    boost::asio::awaitable<Result<void>> close();

    /// RequestId of the ExecContainerCommand call.
    const std::string& request_id() const noexcept;

    struct State;  ///< defined in lib/sandbox

  private:
    explicit InteractiveExec(std::shared_ptr<State> state);
    std::shared_ptr<State> state_;
};

}  // namespace eci
