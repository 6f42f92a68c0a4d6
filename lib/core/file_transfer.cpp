// SPDX-License-Identifier: Apache-2.0
#include "core/file_transfer.hpp"
#include "core/redact.hpp"

#include "core/crypto.hpp"
#include "core/encoding.hpp"
#include "core/shell_wrappers.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <optional>

namespace eci::detail {
namespace {

constexpr std::string_view frame_written = "__ECI_FILE_WRITTEN__";
constexpr std::string_view frame_mismatch = "__ECI_FILE_MISMATCH__";
constexpr std::string_view frame_failed = "__ECI_FILE_FAILED__";
constexpr std::string_view frame_not_found = "__ECI_FILE_NOT_FOUND__";
constexpr std::string_view frame_not_regular = "__ECI_FILE_NOT_REGULAR__";
constexpr std::string_view frame_sha256 = "__ECI_FILE_SHA256__";
constexpr std::string_view frame_end = "__ECI_FILE_END__";

Result<void> check_path(std::string_view path) {
    if (path.empty())
        return Error::make(ErrorKind::invalid_argument, "file path is empty");
    if (path.find('\0') != std::string_view::npos) {
        return Error::make(ErrorKind::invalid_argument, "file path holds a NUL byte");
    }
    return {};
}

// Position just after the line starting at `begin`, or npos at the end of `text`.
std::size_t line_end(std::string_view text, std::size_t begin) {
    return text.find('\n', begin);
}

// The first line starting with `prefix`: its offset in `text`, or npos.
std::size_t find_line(std::string_view text, std::string_view prefix, std::size_t from = 0) {
    std::size_t pos = from;
    while (pos < text.size()) {
        if (text.substr(pos).starts_with(prefix))
            return pos;
        auto end = line_end(text, pos);
        if (end == std::string_view::npos)
            break;
        pos = end + 1;
    }
    return std::string_view::npos;
}

// The text after `prefix` on the line at `pos` up to the end of the reply, trimmed.
std::string rest_after(std::string_view text, std::size_t pos, std::string_view prefix) {
    auto rest = text.substr(pos + prefix.size());
    while (!rest.empty() && (rest.back() == '\n' || rest.back() == '\r' || rest.back() == ' ')) {
        rest.remove_suffix(1);
    }
    return std::string(rest);
}

bool says_missing_directory(std::string_view message) {
    return message.find("No such file or directory") != std::string_view::npos ||
           message.find("nonexistent directory") != std::string_view::npos ||
           message.find("Directory nonexistent") != std::string_view::npos;
}

}  // namespace

Result<FileWritePlan> plan_file_write(std::string_view path, std::string_view content) {
    if (auto valid = check_path(path); !valid.ok())
        return std::move(valid).error();
    auto nonce = random_hex(6);
    if (!nonce.ok())
        return std::move(nonce).error();
    FileWritePlan plan;
    plan.size = content.size();
    plan.expected_sha256 = sha256_hex(content);
    auto target = shell_quote(path);
    auto temporary = shell_quote(fmt::format("{}.eci-tmp-{}", path, *nonce));
    // `head -c N` stops after exactly N bytes, so the script ends without stdin being closed
    // (the exec stream cannot always half-close it). `2>&1 >"$t"` sends head's and the
    // redirection's errors to `e` and only the bytes to the file. A directory at the
    // destination is refused: `mv` would move the file into it.
    plan.script = fmt::format(
        "t={tmp}\n"
        "if [ -d {dst} ]; then echo '__ECI_FILE_FAILED__is a directory'; exit 1; fi\n"
        "if ! e=$(head -c {size} 2>&1 >\"$t\"); then rm -f -- \"$t\"; "
        "printf '__ECI_FILE_FAILED__%s\\n' \"$e\"; exit 1; fi\n"
        "h=$(sha256sum < \"$t\"); h=${{h%% *}}\n"
        "if [ \"$h\" != {sha} ]; then rm -f -- \"$t\"; printf '__ECI_FILE_MISMATCH__%s\\n' \"$h\"; "
        "exit 1; fi\n"
        "if ! e=$(mv -f -- \"$t\" {dst} 2>&1); then rm -f -- \"$t\"; "
        "printf '__ECI_FILE_FAILED__%s\\n' \"$e\"; exit 1; fi\n"
        "echo __ECI_FILE_WRITTEN__\n",
        fmt::arg("tmp", temporary), fmt::arg("dst", target), fmt::arg("size", content.size()),
        fmt::arg("sha", plan.expected_sha256));
    return plan;
}

std::vector<std::string_view> split_stdin_chunks(std::string_view data, std::size_t chunk_size) {
    chunk_size = std::max<std::size_t>(chunk_size, 1);
    std::vector<std::string_view> chunks;
    chunks.reserve(data.size() / chunk_size + 1);
    while (!data.empty()) {
        auto n = std::min(chunk_size, data.size());
        chunks.push_back(data.substr(0, n));
        data.remove_prefix(n);
    }
    return chunks;
}

Result<void> parse_file_write_reply(std::string_view stdout_text, const FileWritePlan& plan) {
    if (find_line(stdout_text, frame_written) != std::string_view::npos)
        return {};
    if (auto pos = find_line(stdout_text, frame_mismatch); pos != std::string_view::npos) {
        auto got = rest_after(stdout_text, pos, frame_mismatch);
        return Error::make(
            ErrorKind::protocol,
            fmt::format("file content changed in transit: expected SHA-256 {} ({} bytes), the "
                        "sandbox received {}; the file was not written",
                        plan.expected_sha256, plan.size, got.empty() ? "(no sha256sum)" : got));
    }
    if (auto pos = find_line(stdout_text, frame_failed); pos != std::string_view::npos) {
        auto detail = rest_after(stdout_text, pos, frame_failed);
        auto error =
            Error::make(says_missing_directory(detail) ? ErrorKind::not_found : ErrorKind::service,
                        "writing the file in the sandbox failed; the file was not written");
        error.service_message = redact_secrets(detail);
        return error;
    }
    return Error::make(ErrorKind::protocol,
                       "file write reply has no framing line (the write script did not finish)");
}

Result<std::string> file_read_script(std::string_view path) {
    if (auto valid = check_path(path); !valid.ok())
        return std::move(valid).error();
    // The hash and the bytes are read separately: a file changed in between fails the check
    // rather than returning a mix.
    return fmt::format(
        "p={}\n"
        "if [ ! -e \"$p\" ]; then echo __ECI_FILE_NOT_FOUND__; exit 2; fi\n"
        "if [ ! -f \"$p\" ]; then echo __ECI_FILE_NOT_REGULAR__; exit 2; fi\n"
        "if ! h=$(sha256sum < \"$p\" 2>&1); then printf '__ECI_FILE_FAILED__%s\\n' \"$h\"; "
        "exit 1; fi\n"
        "printf '__ECI_FILE_SHA256__%s\\n' \"${{h%% *}}\"\n"
        "base64 < \"$p\" || {{ printf '\\n__ECI_FILE_FAILED__base64 failed\\n'; exit 1; }}\n"
        "printf '\\n__ECI_FILE_END__\\n'\n",
        shell_quote(path));
}

Result<std::string> parse_file_read_reply(std::string_view stdout_text) {
    auto sha_pos = find_line(stdout_text, frame_sha256);
    if (sha_pos == std::string_view::npos) {
        if (find_line(stdout_text, frame_not_found) != std::string_view::npos) {
            return Error::make(ErrorKind::not_found, "no such file in the sandbox");
        }
        if (find_line(stdout_text, frame_not_regular) != std::string_view::npos) {
            return Error::make(ErrorKind::invalid_argument,
                               "the path in the sandbox is not a regular file");
        }
        if (auto pos = find_line(stdout_text, frame_failed); pos != std::string_view::npos) {
            auto error = Error::make(ErrorKind::service, "reading the file in the sandbox failed");
            error.service_message = redact_secrets(rest_after(stdout_text, pos, frame_failed));
            return error;
        }
        return Error::make(ErrorKind::protocol,
                           "file read reply has no framing line (the read script did not run)");
    }
    auto sha_end = line_end(stdout_text, sha_pos);
    if (sha_end == std::string_view::npos) {
        return Error::make(ErrorKind::protocol, "file read reply ends after the hash line");
    }
    auto expected =
        stdout_text.substr(sha_pos + frame_sha256.size(), sha_end - sha_pos - frame_sha256.size());
    if (!expected.empty() && expected.back() == '\r')
        expected.remove_suffix(1);
    auto end_pos = find_line(stdout_text, frame_end, sha_end + 1);
    if (end_pos == std::string_view::npos) {
        if (find_line(stdout_text, frame_failed, sha_end + 1) != std::string_view::npos) {
            return Error::make(ErrorKind::service, "reading the file in the sandbox failed");
        }
        return Error::make(ErrorKind::protocol,
                           "file read reply is truncated (no end line): output lost or cut");
    }
    std::string encoded;
    encoded.reserve(end_pos - sha_end);
    for (char c : stdout_text.substr(sha_end + 1, end_pos - sha_end - 1)) {
        if (c != '\n' && c != '\r' && c != ' ')
            encoded.push_back(c);
    }
    auto bytes = base64_decode(encoded);
    if (!bytes) {
        return Error::make(ErrorKind::protocol, "file read reply holds malformed base64");
    }
    auto actual = sha256_hex(*bytes);
    if (actual != expected) {
        return Error::make(
            ErrorKind::protocol,
            fmt::format("file content changed in transit or while being read: the sandbox "
                        "hashed SHA-256 {}, received {} bytes hash to {}",
                        expected.empty() ? "(none)" : expected, bytes->size(), actual));
    }
    return std::move(*bytes);
}

}  // namespace eci::detail
