// SPDX-License-Identifier: Apache-2.0
#include "cli/app.hpp"

#include "cli/json_output.hpp"
#include "cli/terminal_text.hpp"

#include <boost/json/object.hpp>

#include <fmt/format.h>

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace eci::cli {

namespace json = boost::json;

namespace {

constexpr OptionSpec global_option_table[] = {
    {"endpoint", true, false, "URL",
     "OpenAPI endpoint (default: ECI_SANDBOX_ENDPOINT, else the region's)"},
    {"region", true, false, "ID", "region id (default: ECI_SANDBOX_REGION_ID, else cn-shanghai)"},
    {"ca-file", true, false, "PEM", "extra trusted CA bundle (default: ECI_SANDBOX_CA_FILE)"},
    {"env-file", true, false, "PATH", "read this .env file instead of searching for one"},
    {"access-key-id", true, false, "ID", "AccessKey id (the secret: environment or .env only)"},
    {"profile", true, false, "NAME",
     "credentials of this profile of ~/.aliyun/config.json (default: ALIBABA_CLOUD_PROFILE)"},
    {"timeout", true, false, "SECONDS",
     "give up on each API call after this long, retries included (default 60)"},
    {"verbose", false, false, "", "the library's diagnostics on stderr (ECI_SANDBOX_LOG_LEVEL)"},
    {"json", false, false, "", "machine-readable output on stdout"},
    {"help", false, false, "", "show the help of the command", 'h'},
};

}  // namespace

std::span<const OptionSpec> global_options() {
    return global_option_table;
}

Result<ClientConfig> load_client_config(const ParsedArgs& args) {
    // The credential chain (the profiles of ~/.aliyun/config.json and the ECS RAM role
    // included) is load_config()'s: the CLI, `mcp` and `shell` all pass --profile through
    // config_overrides().
    return load_config(config_overrides(args));
}

Logger cli_logger(const ParsedArgs& args) {
    // Retry notices (info) and warnings by default: a call that keeps failing says so as it
    // goes, instead of a minute of silence. --verbose: every request.
    LogLevel level = LogLevel::info;
    if (args.has("verbose")) {
        level = LogLevel::debug;
    } else if (auto name = process_environment("ECI_SANDBOX_LOG_LEVEL")) {
        for (auto candidate : {LogLevel::trace, LogLevel::debug, LogLevel::info, LogLevel::warn,
                               LogLevel::error, LogLevel::off}) {
            if (*name == to_string(candidate))
                level = candidate;
        }
    }
    Logger logger;
    logger.level = level;
    logger.sink = [](LogLevel message_level, std::string_view message) {
        write_fd(STDERR_FILENO, fmt::format("eci-sandbox: {}: {}\n", to_string(message_level),
                                            bounded_line(terminal_safe(message))));
    };
    return logger;
}

EciSandbox* Invocation::client() {
    if (client_)
        return &*client_;
    auto config = load_client_config(args);
    if (!config) {
        report_error(config.error());
        return nullptr;
    }
    if (auto text = args.value("timeout")) {
        // Only ever shortens: exec's own --timeout (up to 600 s) must not stretch API calls.
        auto seconds = parse_number("--timeout", *text, 0.001, 86400);
        if (seconds) {
            const std::chrono::milliseconds bound(static_cast<long long>(*seconds * 1000.0 + 0.5));
            auto& retry = config->retry;
            if (retry.overall_deadline.count() == 0 || bound < retry.overall_deadline)
                retry.overall_deadline = bound;
            config->timeouts.read = std::min(config->timeouts.read, bound);
            config->timeouts.connect = std::min(config->timeouts.connect, bound);
        }
    }
    auto created = EciSandbox::from_config(std::move(*config), cli_logger(args));
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
    if (auto value = args.value("profile"))
        overrides.profile = *value;
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

namespace {
bool json_errors = false;
}  // namespace

void set_json_errors(bool enabled) {
    json_errors = enabled;
}

int usage_error(const Invocation& invocation, std::string_view message) {
    if (json_errors)
        print_json(json::object{{"error", json::object{{"kind", "usage"},
                                                       {"message", message},
                                                       {"command", invocation.command.name}}}});
    fmt::print(stderr, "eci-sandbox {}: {} (see 'eci-sandbox {} --help')\n",
               invocation.command.name, bounded_line(terminal_safe(message)),
               invocation.command.name);
    return exit_code::usage;
}

int report_error(const Error& error) {
    if (json_errors)
        print_json(error_json(error));
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

Result<std::string> read_all_stdin() {
    std::string content;
    char buffer[65536];
    for (;;) {
        const ssize_t n = ::read(STDIN_FILENO, buffer, sizeof buffer);
        if (n == 0)
            return content;
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return Error::make(ErrorKind::invalid_argument,
                               fmt::format("cannot read stdin: {}", std::strerror(errno)));
        }
        content.append(buffer, static_cast<std::size_t>(n));
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
