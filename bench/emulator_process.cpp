// SPDX-License-Identifier: Apache-2.0
#include "emulator_process.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <fmt/format.h>

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
#include <csignal>
#include <cstring>

#include <chrono>
#include <fstream>

extern char** environ;

namespace eci::bench {

ClientConfig EmulatorEndpoint::client_config() const {
    ClientConfig config;
    config.credentials.access_key_id = access_key_id;
    config.credentials.access_key_secret = access_key_secret;
    config.region_id = region_id;
    auto parsed = parse_endpoint(scheme + "://" + endpoint);
    if (parsed.ok())
        config.endpoint = std::move(parsed).value();
    config.tls.ca_file = ca_file;
    // The emulator's limits are its own flags (--qps-limit). Left on, the client's limiter paces
    // every bench at the real service's per-minute figures (DescribeContainerGroups 2000/min:
    // one call per 30 ms), and the benches measure the pacing instead of the code.
    config.rate_limit.enabled = false;
    return config;
}

Result<EmulatorEndpoint> parse_ready_line(const std::string& line) {
    boost::system::error_code ec;
    auto value = boost::json::parse(line, ec);
    if (ec || !value.is_object())
        return Error::make(ErrorKind::protocol, "the emulator's ready line is not a JSON object");
    const auto& object = value.get_object();
    auto field = [&](std::string_view name) -> std::string {
        const auto* item = object.if_contains(name);
        return item && item->is_string() ? std::string(item->get_string()) : std::string();
    };
    EmulatorEndpoint endpoint{field("endpoint"),      field("scheme"),
                              field("ca_file"),       field("region_id"),
                              field("access_key_id"), field("access_key_secret")};
    if (endpoint.endpoint.empty() || endpoint.access_key_id.empty())
        return Error::make(ErrorKind::protocol, "the emulator's ready line lacks endpoint or keys");
    return endpoint;
}

Result<EmulatorEndpoint> read_ready_file(const std::string& path) {
    std::ifstream in(path);
    std::string line;
    std::getline(in, line);
    return parse_ready_line(line);
}

Result<EmulatorProcess> EmulatorProcess::start(const std::string& binary,
                                               std::vector<std::string> args) {
    int pipe_fds[2];
    if (pipe2(pipe_fds, O_CLOEXEC) != 0)
        return Error::make(ErrorKind::invalid_argument, "pipe() failed");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, pipe_fds[1], STDOUT_FILENO);
    std::vector<char*> argv;
    args.insert(args.begin(), binary);
    for (auto& arg : args)
        argv.push_back(arg.data());
    argv.push_back(nullptr);
    pid_t pid = -1;
    const int rc = posix_spawn(&pid, binary.c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    close(pipe_fds[1]);
    if (rc != 0) {
        close(pipe_fds[0]);
        return Error::make(ErrorKind::invalid_argument,
                           fmt::format("cannot start {}: {}", binary, std::strerror(rc)));
    }
    // Read the first line, with a deadline: the emulator prints it once it is listening.
    std::string line;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (line.find('\n') == std::string::npos) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        pollfd descriptor{pipe_fds[0], POLLIN, 0};
        if (left.count() <= 0 || poll(&descriptor, 1, static_cast<int>(left.count())) <= 0)
            break;
        char buffer[4096];
        const ssize_t n = read(pipe_fds[0], buffer, sizeof buffer);
        if (n <= 0)
            break;
        line.append(buffer, static_cast<std::size_t>(n));
    }
    close(pipe_fds[0]);
    auto endpoint = parse_ready_line(line.substr(0, line.find('\n')));
    if (!endpoint.ok()) {
        kill(pid, SIGKILL);
        waitpid(pid, nullptr, 0);
        return std::move(endpoint).error();
    }
    return EmulatorProcess(pid, std::move(endpoint).value());
}

EmulatorProcess::EmulatorProcess(EmulatorProcess&& other) noexcept
    : pid_(other.pid_), endpoint_(std::move(other.endpoint_)) {
    other.pid_ = -1;
}

EmulatorProcess::~EmulatorProcess() {
    stop();
}

int EmulatorProcess::stop() {
    if (pid_ <= 0)
        return 0;
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

Result<EmulatorEndpoint> ready_or_start(const std::string& ready_file, const std::string& binary,
                                        std::vector<std::string> args,
                                        std::optional<EmulatorProcess>& child) {
    if (!ready_file.empty())
        return read_ready_file(ready_file);
    auto started = EmulatorProcess::start(binary, std::move(args));
    if (!started.ok())
        return std::move(started).error();
    child.emplace(std::move(started).value());
    return child->endpoint();
}

}  // namespace eci::bench
