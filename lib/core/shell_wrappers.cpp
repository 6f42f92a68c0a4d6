// SPDX-License-Identifier: Apache-2.0
#include "core/shell_wrappers.hpp"

#include "core/encoding.hpp"

#include <optional>

namespace eci::detail {

std::string shell_quote(std::string_view text) {
    std::string quoted = "'";
    for (char c : text) {
        if (c == '\'') {
            quoted += "'\\''";
        } else {
            quoted.push_back(c);
        }
    }
    quoted.push_back('\'');
    return quoted;
}

std::string make_exit_marker(std::string_view nonce) {
    std::string marker = "__ECI_EXIT_";
    marker.append(nonce);
    marker += "__";
    return marker;
}

std::string with_exec_dir(std::string_view command, std::string_view exec_dir) {
    if (exec_dir.empty())
        return std::string(command);
    std::string out = "cd ";
    out += shell_quote(exec_dir);
    out += " && ";
    out.append(command);
    return out;
}

namespace {

// Prints the marker line for "$__eci_rc" on stderr and exits with it.
std::string report_rc(std::string_view marker) {
    std::string out = "printf '%s%d\\n' ";
    out += shell_quote(marker);
    out += " \"$__eci_rc\" >&2; exit \"$__eci_rc\"";
    return out;
}

// `command` with the wrapper shell's own stderr silenced and the command's kept: the shell
// that waits for a command killed by a signal reports the whole pipeline it ran ("Killed  |
// bash", with the base64 text or a temp file name) on its stderr, which is the user's
// stderr. The command's stderr goes to fd 3 (the real stderr), closed again for the command
// itself so it inherits no stray descriptor.
std::string quiet_wrapper(std::string_view command) {
    std::string out = "{ ";
    out.append(command);
    out += " 2>&3 3>&-; } 3>&2 2>/dev/null";
    return out;
}

// `head -c N | `: the command reads exactly the N bytes sent after the script and then sees
// end-of-input (the exec protocol has none of its own).
std::string input_pipe(std::optional<std::size_t> input_bytes) {
    return input_bytes ? "head -c " + std::to_string(*input_bytes) + " | " : std::string();
}

}  // namespace

std::string exit_report(std::string_view marker) {
    return "__eci_rc=$?; " + report_rc(marker);
}

std::vector<std::string> bash_base64_argv(std::string_view command, std::string_view marker) {
    std::string wrapper = quiet_wrapper("echo " + base64_encode(command) + " | base64 -d | bash");
    wrapper += "; ";
    wrapper += exit_report(marker);
    return {"bash", "-lc", std::move(wrapper)};
}

std::vector<std::string> bash_stdin_argv(std::size_t script_bytes, std::string_view marker,
                                         std::optional<std::size_t> input_bytes) {
    const std::string run = input_bytes ? input_pipe(input_bytes) + "bash \"$__eci_f\""
                                        : std::string("bash \"$__eci_f\" < /dev/null");
    std::string script = "__eci_f=$(mktemp) || exit 125; head -c " + std::to_string(script_bytes) +
                         " > \"$__eci_f\"; " + quiet_wrapper(run) +
                         "; __eci_rc=$?; rm -f \"$__eci_f\"; ";
    script += report_rc(marker);
    return {"bash", "-lc", std::move(script)};
}

std::vector<std::string> exit_status_argv(const std::vector<std::string>& argv,
                                          std::string_view marker, std::string_view exec_dir,
                                          std::optional<std::size_t> input_bytes) {
    std::vector<std::string> wrapped;
    wrapped.reserve(argv.size() + 5);
    wrapped.emplace_back("/bin/sh");
    wrapped.emplace_back("-c");
    // "sh" fills $0, so "$@" is argv exactly. The directory travels as $1 (not in the script,
    // which must stay within one Command element's limit whatever its length).
    const std::string cd = exec_dir.empty() ? "" : "cd \"$1\" && shift && ";
    wrapped.push_back(cd + quiet_wrapper(input_pipe(input_bytes) + "\"$@\"") + "; " +
                      exit_report(marker));
    wrapped.emplace_back("sh");
    if (!exec_dir.empty())
        wrapped.emplace_back(exec_dir);
    wrapped.insert(wrapped.end(), argv.begin(), argv.end());
    return wrapped;
}

std::vector<std::string> script_stdin_argv(std::size_t script_bytes) {
    return {"sh", "-c", "eval \"$(head -c " + std::to_string(script_bytes) + ")\""};
}

std::string bash_ws_script(std::string_view command, std::string_view marker) {
    // An EXIT trap reports the status however the shell ends: after the last line, or at an
    // `exit` inside the command itself.
    std::string report = "__eci_rc=$?; printf '%s%d\\n' ";
    report += shell_quote(marker);
    report += " \"$__eci_rc\" >&2";
    std::string script = "trap " + shell_quote(report) + " EXIT\n";
    script.append(command);
    script += "\nexit $?\n";
    return script;
}

}  // namespace eci::detail
