// SPDX-License-Identifier: Apache-2.0
// The framing of eci::ShellSession, without I/O: the line that runs one command in the
// session's shell, and the per-stream parser that finds where its output begins and ends.
//
// One command = one line on the shell's stdin:
//   printf '%s\n' BEGIN; printf '%s\n' BEGIN >&2;
//   ( s=$(printf %s B64 | base64 -d; echo x); s=${s%x}; eval "$s" ) </dev/null;
//   rc=$?; printf '%s%d\n' END "$rc"; printf '%s%d\n' END "$rc" >&2
// BEGIN and END carry the same fresh 128-bit nonce; the command travels base64-encoded, so
// neither its text nor the markers appear in anything the command can see or print by
// accident; it runs in a subshell (exit, cd and variables do not outlive it) with stdin from
// /dev/null (it cannot eat the session's input). Output before BEGIN (a previous command's
// background job) is dropped; the END report ends each stream.
#pragma once

#include "core/exit_marker.hpp"

#include <eci/error.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace eci::detail {

/// The begin line's marker for an end marker made by make_exit_marker ("__ECI_EXIT_<n>__"):
/// "__ECI_BEGIN_<n>__".
std::string session_begin_marker(std::string_view end_marker);

/// The stdin line (ending in '\n') that runs `script` in the session shell between the two
/// markers, as described at the top of this file.
std::string session_command_line(std::string_view script, std::string_view begin_marker,
                                 std::string_view end_marker);

/// The line a session sends to end its shell: `exit 0`.
std::string_view session_exit_line() noexcept;

/// Splits one output stream (stdout or stderr) of the session at one command's markers:
/// drops everything before the begin line, passes the command's output, removes the end
/// report and keeps its code. Chunks may split the markers anywhere.
/// Thread safety: none.
class SessionStreamFramer {
  public:
    SessionStreamFramer(std::string begin_marker, std::string end_marker);

    /// Feeds one chunk; returns the command's output in it (possibly empty).
    std::string feed(std::string_view chunk);

    /// The stream ended early (error, timeout): every byte of the command still held back.
    std::string finish();

    /// Whether the begin line was seen: the command started.
    bool begun() const noexcept { return begun_; }
    /// The exit code, once the end report was seen.
    std::optional<int> exit_code() const noexcept { return end_.exit_code(); }
    /// Bytes dropped before the begin line.
    std::size_t dropped_bytes() const noexcept { return dropped_; }

  private:
    std::string begin_line_;
    std::string pending_;  // before the begin line: a tail that may be its start
    bool begun_ = false;
    ExitMarkerFilter end_;
    std::size_t dropped_ = 0;
};

/// Whether starting a session's shell is tried again after it failed with `error` (a start
/// runs nothing of the caller's, so only the evidence of a transient cause matters):
/// throttling, 5xx and transport failures, the connection dropping before the shell answered,
/// yes. A shell that closed its stream before printing the begin line (`exited_early`) may be
/// a dropped stream or a missing shell: tried again while `early_exits` (this one included)
/// is at most 3, so a missing shell still fails fast. Refusals, protocol errors and
/// cancellation: no. The caller bounds it all by the open deadline. Thread safety: pure.
bool shell_start_retryable(const Error& error, bool exited_early, int early_exits) noexcept;

}  // namespace eci::detail
