// SPDX-License-Identifier: Apache-2.0
#include "emulator/runtime/spawn.hpp"

#include <fcntl.h>
#include <linux/sched.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#ifndef P_PIDFD
#define P_PIDFD 3
#endif

namespace eci::emulator::detail {

CStringArray::CStringArray(const std::vector<std::string>& items) {
    std::size_t total = 0;
    for (const auto& item : items)
        total += item.size() + 1;
    blob_.resize(total);
    std::size_t offset = 0;
    std::vector<std::size_t> offsets;
    offsets.reserve(items.size());
    for (const auto& item : items) {
        offsets.push_back(offset);
        std::memcpy(blob_.data() + offset, item.c_str(), item.size() + 1);
        offset += item.size() + 1;
    }
    pointers_.reserve(items.size() + 1);
    for (std::size_t o : offsets)
        pointers_.push_back(blob_.data() + o);
    pointers_.push_back(nullptr);
}

void merge_env(EnvList& base, const EnvList& overrides) {
    for (const auto& [name, value] : overrides) {
        bool replaced = false;
        for (auto& entry : base) {
            if (entry.first == name) {
                entry.second = value;
                replaced = true;
            }
        }
        if (!replaced)
            base.emplace_back(name, value);
    }
}

namespace {

bool has_nul(std::string_view text) {
    return text.find('\0') != std::string_view::npos;
}

}  // namespace

Result<ProgramImage> make_program_image(const std::vector<std::string>& argv, const EnvList& env,
                                        std::string working_dir, std::string fallback_dir) {
    if (argv.empty() || argv.front().empty()) {
        return Error::make(ErrorKind::invalid_argument, "the command is empty");
    }
    for (const auto& arg : argv) {
        if (has_nul(arg)) {
            return Error::make(ErrorKind::invalid_argument, "a command argument contains NUL");
        }
    }
    std::vector<std::string> env_strings;
    std::string path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    for (const auto& [name, value] : env) {
        if (name.empty() || name.find('=') != std::string::npos || has_nul(name) ||
            has_nul(value)) {
            return Error::make(ErrorKind::invalid_argument,
                               "invalid environment variable name or value");
        }
        env_strings.push_back(name + "=" + value);
        if (name == "PATH")
            path = value;
    }
    std::vector<std::string> candidates;
    const std::string& program = argv.front();
    if (program.find('/') != std::string::npos) {
        candidates.push_back(program);
    } else {
        // execvp's search: each PATH entry in order, an empty entry meaning ".".
        std::size_t begin = 0;
        while (true) {
            const std::size_t end = path.find(':', begin);
            std::string dir = path.substr(begin, end == std::string::npos ? end : end - begin);
            candidates.push_back((dir.empty() ? std::string(".") : dir) + "/" + program);
            if (end == std::string::npos)
                break;
            begin = end + 1;
        }
    }
    ProgramImage image;
    image.argv = CStringArray(argv);
    image.envp = CStringArray(env_strings);
    image.candidates = CStringArray(candidates);
    image.working_dir = std::move(working_dir);
    image.fallback_dir = std::move(fallback_dir);
    return image;
}

std::string_view to_string(ChildStage stage) noexcept {
    switch (stage) {
        case ChildStage::none:
            return "none";
        case ChildStage::mount_private:
            return "making the mount tree private";
        case ChildStage::mount_root:
            return "mounting the sandbox root";
        case ChildStage::mount_bind:
            return "bind-mounting the host filesystem";
        case ChildStage::mount_readonly:
            return "making the host filesystem read-only";
        case ChildStage::mount_tmpfs:
            return "mounting a private tmpfs";
        case ChildStage::mount_proc:
            return "mounting /proc";
        case ChildStage::mount_dev:
            return "mounting /dev";
        case ChildStage::pivot_root:
            return "pivot_root";
        case ChildStage::join_namespaces:
            return "joining the sandbox namespaces";
        case ChildStage::spawn:
            return "forking";
        case ChildStage::session:
            return "creating a session";
        case ChildStage::terminal:
            return "taking the controlling terminal";
        case ChildStage::exec:
            return "executing the command";
        case ChildStage::network:
            return "bringing up the sandbox's loopback interface";
        case ChildStage::confine:
            return "dropping capabilities and installing the seccomp filter";
        case ChildStage::init_program:
            return "executing the sandbox init program";
        case ChildStage::cgroup:
            return "joining the sandbox's cgroup";
        case ChildStage::user_namespace:
            return "becoming root of the sandbox's user namespace";
    }
    return "unknown";
}

std::string errno_message(std::string_view what, int error) {
    return std::string(what) + ": " + std::strerror(error);
}

pid_t spawn_child(std::uint64_t namespace_flags, int* pidfd) noexcept {
    // Block everything across the clone: the child must not run any handler the emulator
    // (or a test framework) installed before it has reset the dispositions.
    sigset_t all;
    sigset_t previous;
    ::sigfillset(&all);
    ::pthread_sigmask(SIG_SETMASK, &all, &previous);
    clone_args args{};
    args.flags = CLONE_PIDFD | namespace_flags;
    args.pidfd = reinterpret_cast<std::uint64_t>(pidfd);
    args.exit_signal = SIGCHLD;
    const long pid = ::syscall(SYS_clone3, &args, sizeof args);
    if (pid == 0)
        return 0;
    const int saved = errno;
    ::pthread_sigmask(SIG_SETMASK, &previous, nullptr);
    errno = saved;
    return static_cast<pid_t>(pid);
}

Result<std::optional<ChildReport>> read_child_report(int fd, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    ChildReport report;
    std::size_t filled = 0;
    auto* bytes = reinterpret_cast<char*>(&report);
    while (filled < sizeof report) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        pollfd entry{fd, POLLIN, 0};
        const int ready = ::poll(&entry, 1, static_cast<int>(std::max<long>(0, left.count())));
        if (ready < 0 && errno == EINTR)
            continue;
        if (ready < 0)
            return Error::make(ErrorKind::service, errno_message("poll", errno));
        if (ready == 0) {
            return Error::make(ErrorKind::timeout, "the child did not report in time");
        }
        const ssize_t n = ::read(fd, bytes + filled, sizeof report - filled);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n < 0)
            return Error::make(ErrorKind::service, errno_message("read", errno));
        if (n == 0) {
            if (filled == 0)
                return std::optional<ChildReport>();
            return Error::make(ErrorKind::service, "the child sent a torn report");
        }
        filled += static_cast<std::size_t>(n);
    }
    return std::optional<ChildReport>(report);
}

std::optional<ExitStatus> reap_pidfd(int pidfd, std::chrono::milliseconds timeout) noexcept {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
        siginfo_t info{};
        const int rc = ::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd), &info,
                                WEXITED | WNOHANG);
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc < 0)
            return std::nullopt;  // ECHILD: reaped by someone else
        if (info.si_pid != 0) {
            ExitStatus status;
            if (info.si_code == CLD_EXITED) {
                status.exit_code = info.si_status;
            } else {
                status.signal = info.si_status;
            }
            return status;
        }
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0)
            return std::nullopt;
        pollfd entry{pidfd, POLLIN, 0};
        ::poll(&entry, 1, static_cast<int>(left.count()));
    }
}

Result<std::pair<UniqueFd, UniqueFd>> make_pipe() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) {
        return Error::make(ErrorKind::service, errno_message("pipe2", errno));
    }
    return std::pair<UniqueFd, UniqueFd>(UniqueFd(fds[0]), UniqueFd(fds[1]));
}

// ---- child side ----------------------------------------------------------------------------

pid_t child_fork() noexcept {
    clone_args args{};
    args.exit_signal = SIGCHLD;
    const long pid = ::syscall(SYS_clone3, &args, sizeof args);
    // Inside a sandbox the seccomp filter answers clone3 with ENOSYS (its flags live in
    // memory a filter cannot read); plain clone carries them in a register.
    if (pid < 0 && errno == ENOSYS)
        return static_cast<pid_t>(::syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0));
    return static_cast<pid_t>(pid);
}

void child_stall(std::chrono::milliseconds duration) noexcept {
    timespec left{static_cast<time_t>(duration.count() / 1000),
                  static_cast<long>(duration.count() % 1000) * 1'000'000L};
    while (::nanosleep(&left, &left) != 0 && errno == EINTR) {
    }
}

namespace {

void close_from(int first) noexcept {
    if (::syscall(SYS_close_range, static_cast<unsigned>(first), ~0U, 0U) == 0)
        return;
    for (int fd = first; fd < 65536; ++fd)
        ::close(fd);
}

}  // namespace

bool child_install_fds(const int* sources, int count) noexcept {
    constexpr int max_fds = 8;
    constexpr int scratch_base = 64;  // above every target, so copies never collide
    if (count > max_fds)
        return false;
    int copies[max_fds];
    for (int i = 0; i < count; ++i) {
        copies[i] = sources[i] >= 0 ? ::fcntl(sources[i], F_DUPFD, scratch_base) : -1;
        if (sources[i] >= 0 && copies[i] < 0)
            return false;
    }
    for (int i = 0; i < count; ++i) {
        if (copies[i] >= 0) {
            if (::dup2(copies[i], i) < 0)
                return false;  // dup2 clears FD_CLOEXEC on i
        } else {
            ::close(i);
        }
    }
    close_from(count);
    return true;
}

void child_reset_signals() noexcept {
    struct sigaction action {};
    action.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; ++sig) {
        if (sig == SIGKILL || sig == SIGSTOP)
            continue;
        ::sigaction(sig, &action, nullptr);  // EINVAL for glibc's reserved ones: harmless
    }
}

void child_unblock_signals() noexcept {
    sigset_t none;
    ::sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
}

void child_write_report(int fd, std::int32_t type, ChildStage stage, std::int32_t value) noexcept {
    if (fd < 0)
        return;
    ChildReport report;
    report.type = type;
    report.stage = static_cast<std::int32_t>(stage);
    report.value = value;
    while (::write(fd, &report, sizeof report) < 0 && errno == EINTR) {
    }
}

void child_fail(int report_fd, ChildStage stage, int error) noexcept {
    child_write_report(report_fd, report_failed, stage, error);
    ::_exit(127);
}

namespace {

void write_all(int fd, const char* text) noexcept {
    std::size_t length = 0;
    while (text[length] != '\0')
        ++length;
    while (length > 0) {
        const ssize_t n = ::write(fd, text, length);
        if (n <= 0)
            return;
        text += n;
        length -= static_cast<std::size_t>(n);
    }
}

void write_number(int fd, int value) noexcept {
    char digits[16];
    int at = 15;
    digits[at] = '\0';
    unsigned magnitude =
        value < 0 ? 0U - static_cast<unsigned>(value) : static_cast<unsigned>(value);
    do {
        digits[--at] = static_cast<char>('0' + magnitude % 10);
        magnitude /= 10;
    } while (magnitude != 0 && at > 1);
    if (value < 0)
        digits[--at] = '-';
    write_all(fd, digits + at);
}

}  // namespace

void child_exec(const ProgramImage& image, int report_fd, bool controlling_tty) noexcept {
    // child_install_fds() cleared FD_CLOEXEC; the report pipe must close on execve, since
    // its EOF is what tells the parent that the command is executing.
    if (report_fd >= 0)
        ::fcntl(report_fd, F_SETFD, FD_CLOEXEC);
    if (::setsid() < 0)
        child_fail(report_fd, ChildStage::session, errno);
    if (controlling_tty && ::ioctl(0, TIOCSCTTY, 0) < 0) {
        child_fail(report_fd, ChildStage::terminal, errno);
    }
    if (image.working_dir.empty() || ::chdir(image.working_dir.c_str()) != 0) {
        if (::chdir(image.fallback_dir.c_str()) != 0)
            ::chdir("/");
    }
    child_unblock_signals();
    int error = ENOENT;
    bool denied = false;
    for (std::size_t i = 0; i < image.candidates.size(); ++i) {
        ::execve(image.candidates[i], image.argv.data(), image.envp.data());
        error = errno;
        if (error == EACCES) {
            denied = true;
        } else if (error != ENOENT && error != ENOTDIR) {
            break;
        }
    }
    if (denied && (error == ENOENT || error == ENOTDIR))
        error = EACCES;
    if (report_fd >= 0) {
        child_write_report(report_fd, report_failed, ChildStage::exec, error);
    } else {
        write_all(2, "eci-emulator: cannot execute ");
        write_all(2, image.argv[0]);
        write_all(2, ": errno ");
        write_number(2, error);
        write_all(2, error == ENOENT ? " (not found)\n" : "\n");
    }
    ::_exit(error == ENOENT ? 127 : 126);
}

}  // namespace eci::emulator::detail
