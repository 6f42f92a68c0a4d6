// SPDX-License-Identifier: Apache-2.0
#include "cli/app.hpp"

#include "cli/terminal_text.hpp"

#include <fmt/format.h>

#include <unistd.h>

#include <cerrno>
#include <cstdio>

namespace eci::cli {

namespace {

constexpr OptionSpec global_option_table[] = {
    {"endpoint", true, false, "URL",
     "OpenAPI endpoint (default: ECI_SANDBOX_ENDPOINT, else the region's)"},
    {"region", true, false, "ID", "region id (default: ECI_SANDBOX_REGION_ID, else cn-shanghai)"},
    {"ca-file", true, false, "PEM", "extra trusted CA bundle (default: ECI_SANDBOX_CA_FILE)"},
    {"env-file", true, false, "PATH", "read this .env file instead of searching for one"},
    {"access-key-id", true, false, "ID", "AccessKey id (the secret: environment or .env only)"},
    {"json", false, false, "", "machine-readable output on stdout"},
    {"help", false, false, "", "show the help of the command"},
};

}  // namespace

std::span<const OptionSpec> global_options() {
    return global_option_table;
}

EciSandbox* Invocation::client() {
    if (client_)
        return &*client_;
    auto created = EciSandbox::create(config_overrides(args));
    if (!created) {
        report_error(created.error());
        return nullptr;
    }
    client_.emplace(std::move(*created));
    return &*client_;
}

ConfigOverrides config_overrides(const ParsedArgs& args) {
    ConfigOverrides overrides;
    if (auto value = args.value("endpoint"))
        overrides.endpoint = *value;
    if (auto value = args.value("region"))
        overrides.region_id = *value;
    if (auto value = args.value("ca-file"))
        overrides.ca_file = *value;
    if (auto value = args.value("env-file"))
        overrides.dotenv_path = *value;
    if (auto value = args.value("access-key-id"))
        overrides.access_key_id = *value;
    return overrides;
}

bool Invocation::expect_positionals(std::initializer_list<std::string_view> names, bool at_least) {
    const auto& given = args.positionals;
    if (given.size() == names.size() || (at_least && given.size() > names.size()))
        return true;
    std::string wanted;
    for (auto name : names)
        wanted += fmt::format("{}{}", wanted.empty() ? "" : " ", name);
    if (given.size() < names.size())
        usage_error(*this, fmt::format("missing argument {}", *(names.begin() + given.size())));
    else
        usage_error(*this, fmt::format("unexpected argument (expected {})",
                                       wanted.empty() ? std::string("none") : wanted));
    return false;
}

int usage_error(const Invocation& invocation, std::string_view message) {
    fmt::print(stderr, "eci-sandbox {}: {} (see 'eci-sandbox {} --help')\n",
               invocation.command.name, bounded_line(terminal_safe(message)),
               invocation.command.name);
    return exit_code::usage;
}

int report_error(const Error& error) {
    // Escaped, then bounded: a server's message can neither act on the terminal nor forge
    // or flood lines.
    fmt::print(stderr, "eci-sandbox: error: {}\n", bounded_line(terminal_safe(error.to_string())));
    return error.kind == ErrorKind::timeout ? exit_code::timed_out : exit_code::error;
}

void print_line(std::string_view text) {
    std::string line = terminal_safe(text);
    line += '\n';
    write_fd(STDOUT_FILENO, line);
}

void write_fd(int fd, std::string_view bytes) {
    // stdio buffers are bypassed on purpose: remote output is written as it arrives, from the
    // client's thread, and must never interleave half-lines with our own stdio output.
    std::fflush(fd == STDOUT_FILENO ? stdout : stderr);
    while (!bytes.empty()) {
        const ssize_t n = ::write(fd, bytes.data(), bytes.size());
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return;  // a closed pipe: nothing sensible left to do with the bytes
        }
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
}

std::optional<std::chrono::milliseconds> seconds_option(Invocation& invocation,
                                                        std::string_view name,
                                                        std::chrono::milliseconds fallback) {
    auto text = invocation.args.value(name);
    if (!text)
        return fallback;
    auto seconds = parse_number(fmt::format("--{}", name), *text, 0.001, 86400);
    if (!seconds) {
        usage_error(invocation, seconds.error().message);
        return std::nullopt;
    }
    return std::chrono::milliseconds(static_cast<long long>(*seconds * 1000.0 + 0.5));
}

Progress::Progress(std::string label) : label_(std::move(label)) {
    if (::isatty(STDERR_FILENO) == 0)
        return;
    thread_ = std::thread([this] {
        const auto start = std::chrono::steady_clock::now();
        std::unique_lock lock(mutex_);
        while (!done_) {
            const auto elapsed = std::chrono::duration_cast<std::chrono::seconds>(
                std::chrono::steady_clock::now() - start);
            write_fd(STDERR_FILENO, fmt::format("\r{} ({}s)\x1b[K", label_, elapsed.count()));
            wake_.wait_for(lock, std::chrono::milliseconds(500));
        }
        write_fd(STDERR_FILENO, "\r\x1b[K");
    });
}

Progress::~Progress() {
    if (!thread_.joinable())
        return;
    {
        std::lock_guard lock(mutex_);
        done_ = true;
    }
    wake_.notify_all();
    thread_.join();
}

}  // namespace eci::cli
