// SPDX-License-Identifier: Apache-2.0
#include "support/child_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <thread>

namespace eci::test {

namespace {

using Clock = std::chrono::steady_clock;

/// argv/envp arrays pointing into `storage` (kept alive by the caller).
std::vector<char*> pointers(std::vector<std::string>& storage) {
    std::vector<char*> out;
    for (auto& item : storage)
        out.push_back(item.data());
    out.push_back(nullptr);
    return out;
}

int decode_status(int status) {
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int milliseconds_left(Clock::time_point deadline) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    return left < 0 ? 0 : static_cast<int>(left);
}

/// Waits for `pid` until `deadline`; returns the decoded status or nullopt.
std::optional<int> wait_until(pid_t pid, Clock::time_point deadline) {
    for (;;) {
        int status = 0;
        const pid_t done = waitpid(pid, &status, WNOHANG);
        if (done == pid)
            return decode_status(status);
        if (done < 0 && errno != EINTR)
            return -1;
        if (Clock::now() >= deadline)
            return std::nullopt;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
}

/// Spawns with the given child-side fds on 0, 1, 2 (-1 = inherit).
pid_t spawn(const std::string& binary, const std::vector<std::string>& args,
            const ProcessOptions& options, int in_fd, int out_fd, int err_fd, std::string& why) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    if (in_fd >= 0)
        posix_spawn_file_actions_adddup2(&actions, in_fd, STDIN_FILENO);
    if (out_fd >= 0)
        posix_spawn_file_actions_adddup2(&actions, out_fd, STDOUT_FILENO);
    if (err_fd >= 0)
        posix_spawn_file_actions_adddup2(&actions, err_fd, STDERR_FILENO);
    if (!options.working_directory.empty())
        posix_spawn_file_actions_addchdir_np(&actions, options.working_directory.c_str());
    std::vector<std::string> argv_storage = args;
    argv_storage.insert(argv_storage.begin(), binary);
    std::vector<std::string> env_storage = options.environment;
    auto argv = pointers(argv_storage);
    auto envp = pointers(env_storage);
    pid_t pid = -1;
    const int rc = posix_spawn(&pid, binary.c_str(), &actions, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
        why = std::strerror(rc);
        return -1;
    }
    return pid;
}

}  // namespace

ProcessResult run_process(const std::string& binary, const std::vector<std::string>& args,
                          const ProcessOptions& options) {
    ProcessResult result;
    // A child that exits before reading all its input must not kill the test with SIGPIPE.
    std::signal(SIGPIPE, SIG_IGN);
    int in[2], out[2], err[2];
    if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) {
        result.exit_code = 127;
        result.err = "pipe2 failed";
        return result;
    }
    std::string why;
    const pid_t pid = spawn(binary, args, options, in[0], out[1], err[1], why);
    close(in[0]);
    close(out[1]);
    close(err[1]);
    if (pid < 0) {
        close(in[1]);
        close(out[0]);
        close(err[0]);
        result.exit_code = 127;
        result.err = "cannot start " + binary + ": " + why;
        return result;
    }
    fcntl(in[1], F_SETFL, O_NONBLOCK);
    std::string_view input = options.input;
    int in_fd = in[1];
    if (input.empty()) {
        close(in_fd);
        in_fd = -1;
    }
    int out_fd = out[0], err_fd = err[0];
    const auto deadline = Clock::now() + options.deadline;
    while (out_fd >= 0 || err_fd >= 0) {
        pollfd fds[3] = {{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}, {in_fd, POLLOUT, 0}};
        const int left = milliseconds_left(deadline);
        if (left == 0) {
            result.timed_out = true;
            break;
        }
        if (poll(fds, 3, left) < 0 && errno != EINTR)
            break;
        for (int i = 0; i < 2; ++i) {
            if (fds[i].fd < 0 || fds[i].revents == 0)
                continue;
            char buffer[65536];
            const ssize_t n = read(fds[i].fd, buffer, sizeof buffer);
            if (n <= 0) {
                close(fds[i].fd);
                (i == 0 ? out_fd : err_fd) = -1;
            } else {
                (i == 0 ? result.out : result.err).append(buffer, static_cast<std::size_t>(n));
            }
        }
        if (in_fd >= 0 && fds[2].revents != 0) {
            const ssize_t n = write(in_fd, input.data(), input.size());
            if (n > 0)
                input.remove_prefix(static_cast<std::size_t>(n));
            if (input.empty() || (n < 0 && errno != EAGAIN && errno != EINTR)) {
                close(in_fd);
                in_fd = -1;
            }
        }
    }
    for (int fd : {in_fd, out_fd, err_fd}) {
        if (fd >= 0)
            close(fd);
    }
    if (result.timed_out)
        kill(pid, SIGKILL);
    auto status = wait_until(pid, Clock::now() + std::chrono::seconds(10));
    if (!status) {
        kill(pid, SIGKILL);
        status = wait_until(pid, Clock::now() + std::chrono::seconds(10));
    }
    result.exit_code = status.value_or(-1);
    return result;
}

ChildProcess::ChildProcess(const std::string& binary, const std::vector<std::string>& args,
                           const ProcessOptions& options) {
    int out[2];
    if (pipe2(out, O_CLOEXEC) != 0)
        return;
    std::string why;
    pid_ = spawn(binary, args, options, -1, out[1], -1, why);
    close(out[1]);
    if (pid_ < 0) {
        close(out[0]);
        return;
    }
    stdout_fd_ = out[0];
}

ChildProcess::~ChildProcess() {
    stop();
}

std::optional<std::string> ChildProcess::read_line(std::chrono::milliseconds deadline) {
    const auto until = Clock::now() + deadline;
    while (buffered_.find('\n') == std::string::npos) {
        if (stdout_fd_ < 0)
            return std::nullopt;
        pollfd descriptor{stdout_fd_, POLLIN, 0};
        const int left = milliseconds_left(until);
        if (left == 0 || poll(&descriptor, 1, left) <= 0)
            return std::nullopt;
        char buffer[4096];
        const ssize_t n = read(stdout_fd_, buffer, sizeof buffer);
        if (n <= 0)
            return std::nullopt;
        buffered_.append(buffer, static_cast<std::size_t>(n));
    }
    const auto newline = buffered_.find('\n');
    std::string line = buffered_.substr(0, newline);
    buffered_.erase(0, newline + 1);
    return line;
}

int ChildProcess::stop(std::chrono::milliseconds grace) {
    if (pid_ > 0) {
        kill(pid_, SIGTERM);
        auto status = wait_until(pid_, Clock::now() + grace);
        if (!status) {
            kill(pid_, SIGKILL);
            status = wait_until(pid_, Clock::now() + std::chrono::seconds(10));
        }
        status_ = status.value_or(-1);
        pid_ = -1;
    }
    if (stdout_fd_ >= 0) {
        close(stdout_fd_);
        stdout_fd_ = -1;
    }
    return status_;
}

}  // namespace eci::test
