// SPDX-License-Identifier: Apache-2.0
// write and read: byte-exact file transfers into and out of a sandbox; cp: files and trees.
#include "cli/commands.hpp"
#include "cli/json_output.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <fmt/format.h>

#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <functional>
#include <iterator>
#include <memory>
#include <sstream>

namespace eci::cli {

namespace {

namespace json = boost::json;

constexpr OptionSpec write_options[] = {
    {"from", true, false, "FILE", "read the content from FILE (default: stdin)"},
    {"timeout", true, false, "SECONDS", "deadline of the transfer (default 60)"},
    {"container", true, false, "NAME", "container (default: the first)"},
};

constexpr OptionSpec read_options[] = {
    {"to", true, false, "FILE", "write the content to FILE (default: stdout)"},
    {"max-bytes", true, false, "N", "the largest file accepted (default 67108864 = 64 MiB)"},
    {"timeout", true, false, "SECONDS", "deadline of the transfer (default 60)"},
    {"container", true, false, "NAME", "container (default: the first)"},
};

std::optional<FileTransferOptions> transfer_options(Invocation& invocation) {
    FileTransferOptions options;
    auto timeout = seconds_option(invocation, "timeout", options.timeout);
    if (!timeout)
        return std::nullopt;
    options.timeout = *timeout;
    options.container_name = invocation.args.value("container").value_or("");
    return options;
}

Result<std::string> read_local_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in)
        return Error::make(ErrorKind::invalid_argument,
                           fmt::format("cannot open {}: {}", path, std::strerror(errno)));
    std::ostringstream content;
    content << in.rdbuf();
    return std::move(content).str();
}

int run_write(Invocation& invocation) {
    if (!invocation.expect_positionals({"ID", "PATH"}))
        return exit_code::usage;
    auto options = transfer_options(invocation);
    if (!options)
        return exit_code::usage;
    auto from = invocation.args.value("from");
    auto content = from ? read_local_file(*from) : read_all_stdin();
    if (!content)
        return report_error(content.error());
    auto* client = invocation.client();
    if (client == nullptr)
        return exit_code::error;
    auto written =
        client->write_file_ws(invocation.args.positionals[0], invocation.args.positionals[1],
                              std::move(*content), std::move(*options));
    if (!written)
        return report_error(written.error());
    if (invocation.json)
        print_json(json::object{{"path", written->path},
                                {"size", written->size},
                                {"sha256", written->sha256},
                                {"request_id", written->request_id}});
    else
        print_line(fmt::format("wrote {} bytes to {} (sha256 {})", written->size, written->path,
                               written->sha256));
    return exit_code::ok;
}

int run_read(Invocation& invocation) {
    if (!invocation.expect_positionals({"ID", "PATH"}))
        return exit_code::usage;
    auto to = invocation.args.value("to");
    if (invocation.json && !to)
        return usage_error(invocation, "--json needs --to FILE (stdout carries the JSON)");
    auto options = transfer_options(invocation);
    if (!options)
        return exit_code::usage;
    if (auto text = invocation.args.value("max-bytes")) {
        auto max_bytes = parse_integer("--max-bytes", *text, 1, 1LL << 50);
        if (!max_bytes)
            return usage_error(invocation, max_bytes.error().message);
        options->max_bytes = static_cast<std::size_t>(*max_bytes);
    }
    auto* client = invocation.client();
    if (client == nullptr)
        return exit_code::error;
    auto file = client->read_file(invocation.args.positionals[0], invocation.args.positionals[1],
                                  std::move(*options));
    if (!file)
        return report_error(file.error());
    if (to) {
        std::ofstream out(*to, std::ios::binary | std::ios::trunc);
        out.write(file->content.data(), static_cast<std::streamsize>(file->content.size()));
        out.close();
        if (!out)
            return report_error(
                Error::make(ErrorKind::invalid_argument, fmt::format("cannot write {}", *to)));
    } else {
        write_fd(STDOUT_FILENO, file->content);
    }
    if (invocation.json)
        print_json(json::object{{"path", file->path},
                                {"size", file->content.size()},
                                {"sha256", file->sha256},
                                {"request_id", file->request_id}});
    return exit_code::ok;
}

constexpr OptionSpec cp_options[] = {
    {"timeout", true, false, "SECONDS", "deadline of the copy (default and maximum 600)"},
    {"container", true, false, "NAME", "container (default: the first)"},
};

// "ID:PATH": an id of [A-Za-z0-9_-] before the first ':' and a non-empty path after it. A
// local path with a ':' can be written "./a:b" (or absolute) to never be read as one.
std::optional<std::pair<std::string, std::string>> sandbox_operand(const std::string& text) {
    const auto colon = text.find(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == text.size())
        return std::nullopt;
    for (std::size_t i = 0; i < colon; ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (std::isalnum(c) == 0 && c != '-' && c != '_')
            return std::nullopt;
    }
    return std::pair{text.substr(0, colon), text.substr(colon + 1)};
}

std::string_view kind_name(TransferredEntry::Kind kind) {
    switch (kind) {
        case TransferredEntry::Kind::directory:
            return "directory";
        case TransferredEntry::Kind::symlink:
            return "symlink";
        case TransferredEntry::Kind::hardlink:
            return "hardlink";
        default:
            return "file";
    }
}

// "\r12.0/100.0 MiB, 3/7 entries" on stderr, at most 5 times a second: a terminal only.
std::function<void(const TransferProgress&)> terminal_progress() {
    if (::isatty(STDERR_FILENO) == 0)
        return {};
    auto last = std::make_shared<std::chrono::steady_clock::time_point>();
    return [last](const TransferProgress& progress) {
        const auto now = std::chrono::steady_clock::now();
        if (now - *last < std::chrono::milliseconds(200) && progress.path.empty())
            return;
        *last = now;
        constexpr double mib = 1024.0 * 1024.0;
        std::string text = fmt::format("\r{:.1f}", static_cast<double>(progress.bytes_done) / mib);
        if (progress.bytes_total > 0)
            text += fmt::format("/{:.1f}", static_cast<double>(progress.bytes_total) / mib);
        text += fmt::format(" MiB, {}", progress.entries_done);
        if (progress.entries_total > 0)
            text += fmt::format("/{}", progress.entries_total);
        text += " entries\x1b[K";
        write_fd(STDERR_FILENO, text);
    };
}

int run_cp(Invocation& invocation) {
    if (!invocation.expect_positionals({"SOURCE", "DESTINATION"}))
        return exit_code::usage;
    const auto& source = invocation.args.positionals[0];
    const auto& destination = invocation.args.positionals[1];
    auto from = sandbox_operand(source);
    auto to = sandbox_operand(destination);
    if (from.has_value() == to.has_value()) {
        return usage_error(invocation, from ? "both operands name a sandbox (ID:PATH): copy "
                                              "between sandboxes through this machine"
                                            : "one operand must be ID:PATH (a sandbox path)");
    }
    TransferOptions options;
    auto timeout = seconds_option(invocation, "timeout", options.timeout);
    if (!timeout)
        return exit_code::usage;
    options.timeout = *timeout;
    options.container_name = invocation.args.value("container").value_or("");
    options.on_progress = terminal_progress();
    auto* client = invocation.client();
    if (client == nullptr)
        return exit_code::error;
    auto copied = to ? client->upload(to->first, source, to->second, options)
                     : client->download(from->first, from->second, destination, options);
    if (options.on_progress)
        write_fd(STDERR_FILENO, "\r\x1b[K");
    if (!copied)
        return report_error(copied.error());
    if (invocation.json) {
        json::array entries;
        for (const auto& entry : copied->entries) {
            json::object item{{"path", entry.path},
                              {"kind", kind_name(entry.kind)},
                              {"mode", fmt::format("{:04o}", entry.mode)}};
            if (entry.kind == TransferredEntry::Kind::file) {
                item["size"] = entry.size;
                item["sha256"] = entry.sha256;
            }
            if (!entry.link_target.empty())
                item["link_target"] = entry.link_target;
            entries.push_back(std::move(item));
        }
        json::array skipped;
        for (const auto& path : copied->skipped)
            skipped.push_back(json::value(path));
        print_json(json::object{{"source", copied->source},
                                {"destination", copied->destination},
                                {"files", copied->files},
                                {"bytes", copied->bytes},
                                {"entries", std::move(entries)},
                                {"skipped", std::move(skipped)},
                                {"request_id", copied->request_id}});
    } else {
        print_line(fmt::format("copied {} entries ({} files, {} bytes) to {}",
                               copied->entries.size(), copied->files, copied->bytes,
                               copied->destination));
    }
    return exit_code::ok;
}

const Command commands[] = {
    {"write", "ID PATH [--from FILE]", "write stdin (or FILE) to PATH in the sandbox",
     write_options,
     "Byte-exact: the sandbox checks size and SHA-256 before the file replaces PATH.\n", run_write},
    {"read", "ID PATH [--to FILE]", "print the file at PATH (or save it to FILE)", read_options,
     "Byte-exact, checked against the sandbox's SHA-256. With --json (needs --to), prints\n"
     "{path, size, sha256, request_id}.\n",
     run_read},
    {"cp", "SOURCE DESTINATION", "copy a file or directory tree to or from a sandbox", cp_options,
     "One operand is ID:PATH (a sandbox path), the other a local path:\n"
     "  eci-sandbox cp ./dir ID:/workspace/dir     upload\n"
     "  eci-sandbox cp ID:/workspace/out ./out     download\n"
     "A DESTINATION that is an existing directory receives SOURCE inside it. Modes,\n"
     "symlinks and empty directories are kept; every file is checked by SHA-256 at the\n"
     "receiving end and renamed into place only then. One exec, a tar stream; the\n"
     "sandbox needs sh, tar, sha256sum, base64 and head. Progress on stderr when it is a\n"
     "terminal. With --json prints {source, destination, files, bytes, entries, skipped,\n"
     "request_id}. On failure the message names the entries that were complete.\n",
     run_cp},
};

}  // namespace

std::span<const Command> file_commands() {
    return commands;
}

}  // namespace eci::cli
