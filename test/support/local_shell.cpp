// SPDX-License-Identifier: Apache-2.0
#include "support/local_shell.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <stdexcept>

namespace eci::test {
namespace {

void make_pipe(int fds[2]) {
    if (::pipe2(fds, O_CLOEXEC) != 0)
        throw std::runtime_error("pipe2 failed");
}

}  // namespace

LocalRun run_local(const std::vector<std::string>& argv, std::string_view stdin_data,
                   const LocalRunOptions& options) {
    int in[2];
    int out[2];
    int err[2];
    make_pipe(in);
    make_pipe(out);
    make_pipe(err);
    std::vector<char*> args;
    for (const auto& arg : argv)
        args.push_back(const_cast<char*>(arg.c_str()));
    args.push_back(nullptr);

    pid_t pid = ::fork();
    if (pid < 0)
        throw std::runtime_error("fork failed");
    if (pid == 0) {
        ::setpgid(0, 0);
        ::dup2(in[0], 0);
        ::dup2(out[1], 1);
        ::dup2(err[1], 2);
        // The wrappers run `bash -l`, which would read the host user's ~/.profile: on a machine
        // whose profile waits (pyenv's rehash behind a lock a killed shell left), every run
        // timed out. A sandbox's login shell reads its image's profile, not ours.
        ::setenv("HOME", "/nonexistent-eci-test-home", 1);
        for (const auto& [name, value] : options.env) {
            if (value) {
                ::setenv(name.c_str(), value->c_str(), 1);
            } else {
                ::unsetenv(name.c_str());
            }
        }
        ::execvp(args[0], args.data());
        ::_exit(127);
    }
    ::close(in[0]);
    ::close(out[1]);
    ::close(err[1]);
    int in_fd = in[1];
    ::fcntl(in_fd, F_SETFL, O_NONBLOCK);
    ::signal(SIGPIPE, SIG_IGN);

    LocalRun run;
    int out_fd = out[0];
    int err_fd = err[0];
    std::size_t written = 0;
    if (stdin_data.empty() && !options.keep_stdin_open) {
        ::close(in_fd);
        in_fd = -1;
    }
    auto deadline = std::chrono::steady_clock::now() + options.deadline;
    while (out_fd >= 0 || err_fd >= 0) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            run.timed_out = true;
            ::kill(-pid, SIGKILL);
            break;
        }
        pollfd fds[3];
        nfds_t n = 0;
        if (out_fd >= 0)
            fds[n++] = {out_fd, POLLIN, 0};
        if (err_fd >= 0)
            fds[n++] = {err_fd, POLLIN, 0};
        bool want_write = in_fd >= 0 && written < stdin_data.size();
        if (want_write)
            fds[n++] = {in_fd, POLLOUT, 0};
        int ready = ::poll(fds, n, static_cast<int>(std::min<long long>(left.count(), 100)));
        if (ready < 0 && errno != EINTR)
            throw std::runtime_error("poll failed");
        for (nfds_t i = 0; i < n; ++i) {
            if (fds[i].revents == 0)
                continue;
            if (fds[i].fd == in_fd) {
                auto w = ::write(in_fd, stdin_data.data() + written, stdin_data.size() - written);
                if (w > 0)
                    written += static_cast<std::size_t>(w);
                if (w < 0 && errno != EAGAIN)
                    written = stdin_data.size();  // reader gone
                if (written == stdin_data.size() && !options.keep_stdin_open) {
                    ::close(in_fd);
                    in_fd = -1;
                }
                continue;
            }
            char buffer[65536];
            auto r = ::read(fds[i].fd, buffer, sizeof buffer);
            if (r > 0) {
                (fds[i].fd == out_fd ? run.out : run.err)
                    .append(buffer, static_cast<std::size_t>(r));
            } else if (r == 0 || (errno != EINTR && errno != EAGAIN)) {
                ::close(fds[i].fd);
                (fds[i].fd == out_fd ? out_fd : err_fd) = -1;
            }
        }
    }
    if (in_fd >= 0)
        ::close(in_fd);
    if (out_fd >= 0)
        ::close(out_fd);
    if (err_fd >= 0)
        ::close(err_fd);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (!run.timed_out && WIFEXITED(status))
        run.exit_code = WEXITSTATUS(status);
    return run;
}

}  // namespace eci::test
