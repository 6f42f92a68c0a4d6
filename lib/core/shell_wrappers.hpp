// SPDX-License-Identifier: Apache-2.0
// The shell command lines the sandbox layer runs: quoting, the base64 wrapper of `bash`, the
// stdin path for long commands, the `bash_ws` script, and the exit-code report each carries.
//
// The exit code travels as one line on stderr: `<marker><code>\n`, where the marker holds a
// random per-call nonce (see make_exit_marker), so no command output can forge it. The
// ExitMarkerFilter (core/exit_marker.hpp) removes that line from the output.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace eci::detail {

/// The longest element of ExecContainerCommand's `Command` array the API reference documents:
/// 256 characters. The Python package sends elements of up to about 1900 bytes and the real
/// service takes them, so the emulator enforces this only under `--strict-command-limits`;
/// the library stays within it anyway (anything whose wrapper exceeds it travels on stdin),
/// so it works whichever rule a service applies.
inline constexpr std::size_t exec_command_element_limit = 256;

/// `text` in single quotes, each `'` written as `'\''`: one shell word whatever it holds.
std::string shell_quote(std::string_view text);

/// "__ECI_EXIT_<nonce>__": the marker that starts the exit-code line.
std::string make_exit_marker(std::string_view nonce);

/// `cd <quoted dir> && command`, or `command` when `exec_dir` is empty (Python's prefix).
std::string with_exec_dir(std::string_view command, std::string_view exec_dir);

/// The shell text that reports the previous command's status and exits with it:
/// `__eci_rc=$?; printf '%s%d\n' '<marker>' "$__eci_rc" >&2; exit "$__eci_rc"`.
std::string exit_report(std::string_view marker);

/// The argv of `bash` for a command that fits (Python's wrapper plus the exit report):
/// {"bash", "-lc", "{ echo <b64> | base64 -d | bash ...; } ...; <exit_report>"}. The wrapper
/// shell's own stderr is silenced around the pipeline, so a command killed by a signal never
/// shows the wrapper's text (bash reports the pipeline it waited for); the command's stderr
/// is untouched.
std::vector<std::string> bash_base64_argv(std::string_view command, std::string_view marker);

/// The argv of `bash` for a command sent on stdin (any length): reads exactly
/// `script_bytes` bytes of stdin into a temp file with `head -c`, runs it with stdin from
/// /dev/null (as the base64 path has no stdin either), removes it, reports the exit code.
/// The protocol has no end-of-input, hence the byte count. With `input_bytes`, the script's
/// stdin is instead the next `input_bytes` bytes of stdin (after the script), then
/// end-of-input: how `bash` forwards a caller's input.
std::vector<std::string> bash_stdin_argv(std::size_t script_bytes, std::string_view marker,
                                         std::optional<std::size_t> input_bytes = std::nullopt);

/// The argv that runs `argv` unchanged and then reports its exit status (exec_command on a
/// service whose exec stream carries no exit frame, the real ECI's convention):
/// {"/bin/sh", "-c", "\"$@\"; <exit_report>", "sh", argv...}. The arguments reach the program
/// as they are, with no shell parsing of them: `"$@"` expands to exactly the words given. The
/// wrapper costs four Command elements and about 150 bytes of the 2048-byte total.
/// `exec_dir` (non-empty): the program runs in that directory (one more element; a failed
/// `cd` is the command's failure). `input_bytes`: the program's stdin is exactly that many
/// bytes of the exec's stdin, then end-of-input. As for bash, the wrapper shell's own
/// stderr is silenced, so a killed program shows no shell job report.
std::vector<std::string> exit_status_argv(const std::vector<std::string>& argv,
                                          std::string_view marker, std::string_view exec_dir = {},
                                          std::optional<std::size_t> input_bytes = std::nullopt);

/// The argv of `sh` for a script sent at the start of stdin (the exec API limits each
/// Command element to 256 characters, far below the framed scripts of core/tmux_commands
/// and core/file_transfer): `eval "$(head -c <script_bytes>)"`. `head -c` reads exactly that
/// many bytes from the pipe (GNU coreutils, as bash_stdin_argv), so any bytes after the
/// script stay on stdin for it (the content of a file write).
std::vector<std::string> script_stdin_argv(std::size_t script_bytes);

/// What `bash_ws` writes to the interactive shell's stdin: an EXIT trap that prints the
/// report (so an `exit` inside the command is reported too), the command, and
/// `\nexit $?\n` as Python sends it.
std::string bash_ws_script(std::string_view command, std::string_view marker);

}  // namespace eci::detail
