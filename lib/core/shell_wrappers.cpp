// SPDX-License-Identifier: Apache-2.0
#include "core/shell_wrappers.hpp"

#include "core/encoding.hpp"

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

}  // namespace

std::string exit_report(std::string_view marker) {
    return "__eci_rc=$?; " + report_rc(marker);
}

std::vector<std::string> bash_base64_argv(std::string_view command, std::string_view marker) {
    std::string wrapper = "echo ";
    wrapper += base64_encode(command);
    wrapper += " | base64 -d | bash; ";
    wrapper += exit_report(marker);
    return {"bash", "-lc", std::move(wrapper)};
}

std::vector<std::string> bash_stdin_argv(std::size_t script_bytes, std::string_view marker) {
    std::string script =
        "__eci_f=$(mktemp) || exit 125; head -c " + std::to_string(script_bytes) +
        " > \"$__eci_f\"; bash \"$__eci_f\" < /dev/null; __eci_rc=$?; rm -f \"$__eci_f\"; ";
    script += report_rc(marker);
    return {"bash", "-lc", std::move(script)};
}

std::vector<std::string> exit_status_argv(const std::vector<std::string>& argv,
                                          std::string_view marker) {
    std::vector<std::string> wrapped;
    wrapped.reserve(argv.size() + 4);
    wrapped.emplace_back("/bin/sh");
    wrapped.emplace_back("-c");
    // "sh" fills $0, so "$@" is argv exactly.
    wrapped.push_back("\"$@\"; " + exit_report(marker));
    wrapped.emplace_back("sh");
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
