// SPDX-License-Identifier: Apache-2.0
#include "core/exit_marker.hpp"

#include <algorithm>

namespace eci::detail {
namespace {

// An exit status is 0-255: three digits at most. A longer or larger number is no exit code
// (256 taken modulo 256 would read as success), so such a line is not a report.
constexpr std::size_t max_code_digits = 3;
constexpr int max_exit_code = 255;

bool all_digits(std::string_view text) {
    return !text.empty() && text.size() <= max_code_digits &&
           std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool is_exit_code(std::string_view digits) {
    return all_digits(digits) && std::stoi(std::string(digits)) <= max_exit_code;
}

}  // namespace

std::size_t partial_token_suffix(std::string_view text, std::string_view token) noexcept {
    if (token.empty())
        return 0;
    std::size_t keep = std::min(text.size(), token.size() - 1);
    while (keep > 0 && text.substr(text.size() - keep) != token.substr(0, keep))
        --keep;
    return keep;
}

ExitMarkerFilter::ExitMarkerFilter(std::string marker) : marker_(std::move(marker)) {}

std::string ExitMarkerFilter::feed(std::string_view chunk) {
    if (exit_code_)
        return std::string(chunk);
    pending_.append(chunk);
    return take_passable();
}

std::string ExitMarkerFilter::take_passable() {
    std::string out;
    for (;;) {
        if (in_report_) {
            const auto newline = pending_.find('\n');
            std::string_view digits =
                std::string_view(pending_).substr(0, std::min(newline, pending_.size()));
            // On a TTY the line discipline turns the report's '\n' into "\r\n".
            const bool carriage_return = !digits.empty() && digits.back() == '\r';
            if (carriage_return)
                digits.remove_suffix(1);
            if (newline == std::string::npos) {
                if (digits.size() <= max_code_digits &&
                    ((digits.empty() && !carriage_return) || all_digits(digits))) {
                    return out;  // the report may still be arriving
                }
            } else if (is_exit_code(digits)) {
                exit_code_ = std::stoi(std::string(digits));
                out.append(pending_, newline + 1);
                pending_.clear();
                in_report_ = false;
                return out;
            }
            // Not a report after all: the marker and what followed are ordinary output.
            out += marker_;
            in_report_ = false;
            continue;
        }
        const auto found = pending_.find(marker_);
        if (found != std::string::npos) {
            out.append(pending_, 0, found);
            pending_.erase(0, found + marker_.size());
            in_report_ = true;
            continue;
        }
        // Hold back the longest suffix that is a prefix of the marker.
        const std::size_t keep = partial_token_suffix(pending_, marker_);
        out.append(pending_, 0, pending_.size() - keep);
        pending_.erase(0, pending_.size() - keep);
        return out;
    }
}

std::string ExitMarkerFilter::finish() {
    std::string out;
    if (in_report_)
        out = marker_;
    out += pending_;
    pending_.clear();
    in_report_ = false;
    return out;
}

}  // namespace eci::detail
