// SPDX-License-Identifier: Apache-2.0
// write and read: byte-exact file transfers into and out of a sandbox.
#include "cli/commands.hpp"
#include "cli/json_output.hpp"

#include <boost/json/object.hpp>

#include <fmt/format.h>

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
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

const Command commands[] = {
    {"write", "ID PATH [--from FILE]", "write stdin (or FILE) to PATH in the sandbox",
     write_options,
     "Byte-exact: the sandbox checks size and SHA-256 before the file replaces PATH.\n", run_write},
    {"read", "ID PATH [--to FILE]", "print the file at PATH (or save it to FILE)", read_options,
     "Byte-exact, checked against the sandbox's SHA-256. With --json (needs --to), prints\n"
     "{path, size, sha256, request_id}.\n",
     run_read},
};

}  // namespace

std::span<const Command> file_commands() {
    return commands;
}

}  // namespace eci::cli
