// SPDX-License-Identifier: Apache-2.0
#include "core/shell_session_protocol.hpp"

#include "core/encoding.hpp"
#include "core/shell_wrappers.hpp"

#include <algorithm>

namespace eci::detail {

std::string session_begin_marker(std::string_view end_marker) {
    constexpr std::string_view end_prefix = "__ECI_EXIT_";
    std::string marker = "__ECI_BEGIN_";
    if (end_marker.substr(0, end_prefix.size()) == end_prefix)
        end_marker.remove_prefix(end_prefix.size());
    marker.append(end_marker);
    return marker;
}

std::string session_command_line(std::string_view script, std::string_view begin_marker,
                                 std::string_view end_marker) {
    const std::string begin = shell_quote(begin_marker);
    const std::string end = shell_quote(end_marker);
    // The trailing newline keeps a here-document that ends the script terminated; the `x`
    // keeps $(...) from stripping it.
    std::string encoded = base64_encode(std::string(script) + "\n");
    std::string line;
    line.reserve(encoded.size() + 2 * begin.size() + 2 * end.size() + 256);
    line += "printf '%s\\n' " + begin + "; printf '%s\\n' " + begin + " >&2; ";
    line += "( __eci_s=$(printf %s '" + encoded +
            "' | base64 -d; echo x) || exit 126; __eci_s=${__eci_s%x}; eval \"$__eci_s\" ) "
            "</dev/null; ";
    line += "__eci_rc=$?; printf '%s%d\\n' " + end + " \"$__eci_rc\"; printf '%s%d\\n' " + end +
            " \"$__eci_rc\" >&2\n";
    return line;
}

std::string_view session_exit_line() noexcept {
    return "exit 0\n";
}

SessionStreamFramer::SessionStreamFramer(std::string begin_marker, std::string end_marker)
    : begin_line_(std::move(begin_marker) + "\n"), end_(std::move(end_marker)) {}

std::string SessionStreamFramer::feed(std::string_view chunk) {
    if (begun_)
        return end_.exit_code() ? std::string() : end_.feed(chunk);
    pending_.append(chunk);
    const auto found = pending_.find(begin_line_);
    if (found == std::string::npos) {
        // Keep the longest tail that may be the start of the begin line; drop the rest.
        const std::size_t keep = partial_token_suffix(pending_, begin_line_);
        dropped_ += pending_.size() - keep;
        pending_.erase(0, pending_.size() - keep);
        return {};
    }
    dropped_ += found;
    begun_ = true;
    const std::string rest = pending_.substr(found + begin_line_.size());
    pending_.clear();
    return end_.feed(rest);
}

std::string SessionStreamFramer::finish() {
    if (!begun_ || end_.exit_code())
        return {};
    return end_.finish();
}

bool shell_start_retryable(const Error& error, bool exited_early, int early_exits) noexcept {
    if (error.kind == ErrorKind::cancelled)
        return false;
    if (exited_early)
        return early_exits <= 3;
    // A connect or handshake that timed out inside a still open deadline is transient too.
    return error.is_retryable() || error.kind == ErrorKind::timeout;
}

}  // namespace eci::detail
