// SPDX-License-Identifier: Apache-2.0
#include "core/tree_copy.hpp"

#include "core/encoding.hpp"
#include "core/redact.hpp"
#include "core/shell_wrappers.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

namespace eci::detail {
namespace {

constexpr std::string_view line_done = "__ECI_CP_DONE__";
constexpr std::string_view line_dest = "__ECI_CP_DEST__";
constexpr std::string_view line_mismatch = "__ECI_CP_MISMATCH__";
constexpr std::string_view line_failed = "__ECI_CP_FAILED__";
constexpr std::string_view line_not_found = "__ECI_CP_NOT_FOUND__";
constexpr std::string_view line_end = "__ECI_CP_END__";
constexpr std::string_view line_sha = "__ECI_CP_SHA__";
constexpr std::string_view line_tar = "__ECI_CP_TAR__";

// A line longer than this is no line of ours (a hostile or broken stream): refused.
constexpr std::size_t max_line_bytes = 64 * 1024;

char kind_letter(TransferredEntry::Kind kind) {
    switch (kind) {
        case TransferredEntry::Kind::directory:
            return 'd';
        case TransferredEntry::Kind::symlink:
            return 'l';
        default:
            return 'f';
    }
}

std::string_view trim_cr(std::string_view line) {
    if (!line.empty() && line.back() == '\r')
        line.remove_suffix(1);
    return line;
}

// Feeds complete lines of `bytes` (kept across calls in `pending`) to `on_line`.
template <typename OnLine>
Result<void> split_lines(std::string& pending, std::string_view bytes, OnLine&& on_line) {
    while (!bytes.empty()) {
        const auto newline = bytes.find('\n');
        if (newline == std::string_view::npos) {
            pending.append(bytes);
            if (pending.size() > max_line_bytes)
                return Error::make(ErrorKind::protocol, "copy reply: a line passed 64 KiB");
            return {};
        }
        pending.append(bytes.substr(0, newline));
        bytes.remove_prefix(newline + 1);
        std::string line = std::move(pending);
        pending.clear();
        if (auto handled = on_line(trim_cr(line)); !handled.ok())
            return handled;
    }
    return {};
}

// "./a/b" and "a/b" name the same member.
std::string_view without_dot_slash(std::string_view name) {
    while (name.starts_with("./"))
        name.remove_prefix(2);
    return name;
}

}  // namespace

Result<RemotePath> split_remote_path(std::string_view path) {
    if (path.empty())
        return Error::make(ErrorKind::invalid_argument, "sandbox path is empty");
    if (path.find('\0') != std::string_view::npos)
        return Error::make(ErrorKind::invalid_argument, "sandbox path holds a NUL byte");
    while (path.size() > 1 && path.back() == '/')
        path.remove_suffix(1);
    if (path == "/")
        return Error::make(ErrorKind::invalid_argument, "cannot copy the sandbox's root \"/\"");
    RemotePath out;
    const auto slash = path.rfind('/');
    if (slash == std::string_view::npos) {
        out.parent = ".";
        out.base = std::string(path);
    } else {
        out.parent = slash == 0 ? "/" : std::string(path.substr(0, slash));
        out.base = std::string(path.substr(slash + 1));
    }
    if (out.base == "." || out.base == "..") {
        return Error::make(
            ErrorKind::invalid_argument,
            fmt::format("sandbox path \"{}\" must name an entry, not . or ..", path));
    }
    return out;
}

std::string upload_manifest_line(const TransferredEntry& entry) {
    return fmt::format("{} {:04o} {} {}\n", kind_letter(entry.kind), entry.mode & 07777,
                       entry.kind == TransferredEntry::Kind::file ? entry.sha256 : "-",
                       base64_encode(entry.path));
}

std::string upload_member_name(std::string_view relative_path) {
    return relative_path.empty() ? std::string("r") : fmt::format("r/{}", relative_path);
}

Result<std::string> upload_script(std::string_view destination, std::string_view root_name,
                                  TransferredEntry::Kind root_kind, std::size_t manifest_bytes,
                                  std::uint64_t tar_bytes, std::string_view nonce) {
    if (auto valid = split_remote_path(destination); !valid.ok())
        return std::move(valid).error();
    if (root_name.empty() || root_name.find('/') != std::string_view::npos ||
        root_name.find('\0') != std::string_view::npos) {
        return Error::make(ErrorKind::invalid_argument,
                           fmt::format("bad name for the copied root: \"{}\"", root_name));
    }
    // The staging directory sits next to the destination (same file system: each rename is
    // atomic) under a hidden name, so a file is never seen half-written under its own name.
    // Its directories are 0700 in the stream (their modes are set at the end), so the script
    // can always move entries out of them.
    return fmt::format(
        "d={dest}; b={base}; k={kind}; st=\n"
        "fail() {{ printf '__ECI_CP_FAILED__%s\\n' \"$1\"; [ -n \"$st\" ] && rm -rf -- \"$st\"; "
        "exit 1; }}\n"
        "if [ -d \"$d\" ]; then d=\"${{d%/}}/$b\"; fi\n"
        "case $d in */*) p=${{d%/*}}; p=${{p:-/}} ;; *) p=. ;; esac\n"
        "if [ ! -d \"$p\" ]; then printf '__ECI_CP_NOT_FOUND__%s\\n' \"$p\"; exit 1; fi\n"
        "if [ \"$k\" = d ]; then if [ -e \"$d\" ] && [ ! -d \"$d\" ]; then "
        "fail \"$d exists and is not a directory\"; fi\n"
        "elif [ -d \"$d\" ] && [ ! -L \"$d\" ]; then fail \"$d is a directory\"; fi\n"
        "for c in tar sha256sum base64 head; do command -v $c >/dev/null 2>&1 || "
        "fail \"no $c in the sandbox\"; done\n"
        "st=\"$p/.eci-cp-{nonce}\"\n"
        "e=$(mkdir -- \"$st\" \"$st/t\" 2>&1) || {{ st=; fail \"$e\"; }}\n"
        "head -c {manifest} > \"$st/m\" || fail 'reading the manifest failed'\n"
        "e=$(head -c {tar} | tar -x -f - -C \"$st/t\" 2>&1) || fail \"tar: $e\"\n"
        "i=0\n"
        "while IFS=' ' read -r k m h n; do\n"
        "  r=$(printf %s \"$n\" | base64 -d; echo x); r=${{r%x}}\n"
        "  s=\"$st/t/r${{r:+/$r}}\"; t=\"$d${{r:+/$r}}\"\n"
        "  if [ \"$k\" = d ]; then [ -d \"$t\" ] || e=$(mkdir -- \"$t\" 2>&1) || fail \"$e\"\n"
        "  else\n"
        "    if [ -d \"$t\" ] && [ ! -L \"$t\" ]; then fail \"$t is a directory\"; fi\n"
        "    if [ \"$k\" = f ]; then\n"
        "      g=$(sha256sum < \"$s\") || fail \"sha256sum failed on $t\"; g=${{g%% *}}\n"
        "      if [ \"$g\" != \"$h\" ]; then printf '__ECI_CP_MISMATCH__%s %s\\n' \"$i\" \"$g\"; "
        "rm -rf -- \"$st\"; exit 1; fi\n"
        "      e=$(chmod \"$m\" \"$s\" 2>&1) || fail \"$e\"\n"
        "    fi\n"
        "    e=$(mv -f -- \"$s\" \"$t\" 2>&1) || fail \"$e\"\n"
        "  fi\n"
        "  printf '__ECI_CP_DONE__%s\\n' \"$i\"; i=$((i+1))\n"
        "done < \"$st/m\"\n"
        "while IFS=' ' read -r k m h n; do\n"
        "  [ \"$k\" = d ] || continue\n"
        "  r=$(printf %s \"$n\" | base64 -d; echo x); r=${{r%x}}\n"
        "  e=$(chmod \"$m\" \"$d${{r:+/$r}}\" 2>&1) || fail \"$e\"\n"
        "done < \"$st/m\"\n"
        "rm -rf -- \"$st\"\n"
        "printf '__ECI_CP_DEST__%s\\n' \"$(printf %s \"$d\" | base64 | tr -d '\\n')\"\n"
        "echo __ECI_CP_END__\n",
        fmt::arg("dest", shell_quote(destination)), fmt::arg("base", shell_quote(root_name)),
        fmt::arg("kind", kind_letter(root_kind)), fmt::arg("nonce", nonce),
        fmt::arg("manifest", manifest_bytes), fmt::arg("tar", tar_bytes));
}

std::vector<std::size_t> UploadReplyParser::feed(std::string_view bytes) {
    std::vector<std::size_t> done;
    auto split = split_lines(line_, bytes, [&](std::string_view line) -> Result<void> {
        on_line(line, done);
        return {};
    });
    if (!split.ok()) {
        failed_ = "the script printed an overlong line";
        line_.clear();
    }
    return done;
}

void UploadReplyParser::on_line(std::string_view line, std::vector<std::size_t>& done) {
    if (line.starts_with(line_done)) {
        std::size_t index = 0;
        auto digits = line.substr(line_done.size());
        if (std::from_chars(digits.data(), digits.data() + digits.size(), index).ec ==
            std::errc{}) {
            done.push_back(index);
        }
    } else if (line.starts_with(line_dest)) {
        if (auto decoded = base64_decode(line.substr(line_dest.size())))
            destination_ = std::move(*decoded);
    } else if (line.starts_with(line_mismatch)) {
        auto rest = line.substr(line_mismatch.size());
        const auto space = rest.find(' ');
        std::size_t index = 0;
        if (std::from_chars(rest.data(), rest.data() + std::min(space, rest.size()), index).ec ==
            std::errc{}) {
            mismatch_ = index;
            mismatch_hash_ = space == std::string_view::npos ? "" : rest.substr(space + 1);
        }
    } else if (line.starts_with(line_failed)) {
        if (!failed_)
            failed_ = std::string(line.substr(line_failed.size()));
    } else if (line.starts_with(line_not_found)) {
        not_found_ = true;
        destination_ = line.substr(line_not_found.size());
    } else if (line == line_end) {
        ended_ = true;
    }
}

Result<void> UploadReplyParser::verdict(const std::vector<TransferredEntry>& entries) const {
    if (ended_ && !failed_ && !mismatch_)
        return {};
    if (not_found_) {
        return Error::make(ErrorKind::not_found,
                           fmt::format("no such directory in the sandbox: {}", destination_));
    }
    if (mismatch_) {
        const auto name = *mismatch_ < entries.size() ? entries[*mismatch_].path : "?";
        const auto expected = *mismatch_ < entries.size() ? entries[*mismatch_].sha256 : "?";
        return Error::make(ErrorKind::protocol,
                           fmt::format("file \"{}\" changed in transit: expected SHA-256 {}, the "
                                       "sandbox received {}; it was not written",
                                       name, expected, mismatch_hash_));
    }
    if (failed_) {
        auto error = Error::make(ErrorKind::service, "the copy failed in the sandbox");
        error.service_message = redact_secrets(*failed_);
        return error;
    }
    return Error::make(ErrorKind::protocol,
                       "the copy script did not finish (no end line): output lost or cut");
}

Result<std::string> download_script(std::string_view source) {
    auto split = split_remote_path(source);
    if (!split.ok())
        return std::move(split).error();
    // "./<base>": a name starting with '-' is never an option of find or tar. The hashes are
    // taken before the archive: a file that changes in between fails its check.
    return fmt::format(
        "cd -- {parent} 2>/dev/null || {{ echo __ECI_CP_NOT_FOUND__; exit 2; }}\n"
        "b=./{base}\n"
        "if [ ! -e \"$b\" ] && [ ! -L \"$b\" ]; then echo __ECI_CP_NOT_FOUND__; exit 2; fi\n"
        "for c in tar sha256sum base64 find; do command -v $c >/dev/null 2>&1 || "
        "{{ echo \"__ECI_CP_FAILED__no $c in the sandbox\"; exit 1; }}; done\n"
        "find \"$b\" -type f -exec sh -c 'for f do h=$(sha256sum < \"$f\") || exit 1; "
        "printf \"__ECI_CP_SHA__%s %s\\n\" \"${{h%% *}}\" "
        "\"$(printf %s \"$f\" | base64 | tr -d \"\\n\")\"; done' sh {{}} + || "
        "{{ echo '__ECI_CP_FAILED__hashing the files failed'; exit 1; }}\n"
        "echo __ECI_CP_TAR__\n"
        "tar -c -f - -- \"$b\"\n"
        "printf '\\n__ECI_CP_END__%s\\n' \"$?\"\n",
        fmt::arg("parent", shell_quote(split->parent)), fmt::arg("base", shell_quote(split->base)));
}

Result<void> DownloadStreamParser::on_listing_line(std::string_view line) {
    if (line.starts_with(line_sha)) {
        auto rest = line.substr(line_sha.size());
        const auto space = rest.find(' ');
        auto name =
            space == std::string_view::npos ? std::nullopt : base64_decode(rest.substr(space + 1));
        if (!name || space != 64)
            return Error::make(ErrorKind::protocol, "copy reply: malformed SHA-256 line");
        hashes_[std::string(without_dot_slash(*name))] = std::string(rest.substr(0, space));
    } else if (line == line_tar) {
        phase_ = Phase::tar;
    } else if (line.starts_with(line_not_found)) {
        not_found_ = true;
    } else if (line.starts_with(line_failed) && !failed_) {
        failed_ = std::string(line.substr(line_failed.size()));
    }
    return {};
}

Result<void> DownloadStreamParser::feed(std::string_view bytes, TarHandler& handler) {
    while (!bytes.empty()) {
        switch (phase_) {
            case Phase::listing: {
                // Line by line, so the bytes after the start line go to the tar reader.
                const auto newline = bytes.find('\n');
                const auto take = newline == std::string_view::npos ? bytes.size() : newline + 1;
                auto split = split_lines(line_, bytes.substr(0, take),
                                         [&](std::string_view l) { return on_listing_line(l); });
                if (!split.ok())
                    return split;
                bytes.remove_prefix(take);
                break;
            }
            case Phase::tar: {
                auto used = tar_.feed(bytes, handler);
                if (!used.ok())
                    return std::move(used).error();
                bytes.remove_prefix(*used);
                if (tar_.ended())
                    phase_ = Phase::trailer;
                break;
            }
            case Phase::trailer: {
                // tar pads its archive with zeros to a whole record; the end line follows.
                for (char c : bytes) {
                    if (c != '\0')
                        trailer_.push_back(c);
                }
                if (trailer_.size() > max_line_bytes)
                    return Error::make(ErrorKind::protocol, "copy reply: oversize trailer");
                bytes = {};
                break;
            }
        }
    }
    return {};
}

const std::string* DownloadStreamParser::sha256_of(const std::string& name) const {
    auto found = hashes_.find(without_dot_slash(name));
    return found == hashes_.end() ? nullptr : &found->second;
}

Result<void> DownloadStreamParser::verdict() const {
    if (not_found_)
        return Error::make(ErrorKind::not_found, "no such file or directory in the sandbox");
    if (failed_) {
        auto error = Error::make(ErrorKind::service, "the copy failed in the sandbox");
        error.service_message = redact_secrets(*failed_);
        return error;
    }
    const auto end = trailer_.find(line_end);
    if (phase_ != Phase::trailer || end == std::string::npos) {
        return Error::make(ErrorKind::protocol,
                           "the copy stream ended early (no end of archive or end line)");
    }
    auto status = std::string_view(trailer_).substr(end + line_end.size());
    status = status.substr(0, status.find('\n'));
    if (trim_cr(status) != "0") {
        return Error::make(ErrorKind::service,
                           fmt::format("tar in the sandbox exited with status {} (a file could "
                                       "not be read); see its messages on stderr",
                                       trim_cr(status)));
    }
    return {};
}

}  // namespace eci::detail
