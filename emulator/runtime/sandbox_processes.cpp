// SPDX-License-Identifier: Apache-2.0
#include "emulator/runtime/sandbox_processes.hpp"

#include "emulator/runtime/exec_launch.hpp"
#include "emulator/runtime/proc_scan.hpp"
#include "emulator/runtime/runtime_shared.hpp"
#include "emulator/runtime/sandbox_init.hpp"
#include "emulator/runtime/spawn.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <system_error>

namespace eci::emulator {

using detail::UniqueFd;
using stream_descriptor = asio::posix::stream_descriptor;

namespace {

// The child's start report, read without blocking the emulator's one thread. A start (cgroup
// joins, setns, fork, confinement, execve) takes tens of milliseconds on a loaded machine;
// read synchronously it held up every other connection, and 1000 sessions opening at once
// queued behind each other's starts until their open timeouts passed (issue 14).
// `fd` stays open and owned by the caller.
asio::awaitable<Result<std::optional<detail::ChildReport>>> read_child_report_async(
    asio::any_io_executor executor, int fd, std::chrono::milliseconds timeout) {
    using namespace asio::experimental::awaitable_operators;
    stream_descriptor pipe(executor, fd);
    struct Borrowed {
        stream_descriptor& pipe;
        ~Borrowed() { (void)pipe.release(); }
    } borrowed{pipe};
    detail::ChildReport report{};
    asio::steady_timer timer(executor, timeout);
    auto outcome = co_await (asio::async_read(pipe, asio::buffer(&report, sizeof report),
                                              asio::as_tuple(asio::use_awaitable)) ||
                             timer.async_wait(asio::as_tuple(asio::use_awaitable)));
    if (outcome.index() == 1)
        co_return Error::make(ErrorKind::timeout, "the child did not report in time");
    const auto [ec, read] = std::get<0>(outcome);
    if (read == sizeof report)
        co_return std::optional<detail::ChildReport>(report);
    if (ec == asio::error::eof && read == 0)
        co_return std::optional<detail::ChildReport>();  // execve closed the pipe: running
    if (ec == asio::error::eof)
        co_return Error::make(ErrorKind::service, "the child sent a torn report");
    co_return Error::make(ErrorKind::service, "reading the child's report: " + ec.message());
}

int send_signal(int pidfd, int sig) noexcept {
    return static_cast<int>(::syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0U));
}

Error failure_error(const detail::ChildReport& report, std::string_view what) {
    const auto stage = static_cast<detail::ChildStage>(report.stage);
    std::string message = std::string(what) + ": " + std::string(detail::to_string(stage)) +
                          " failed: " + std::strerror(report.value);
    return Error::make(
        stage == detail::ChildStage::exec ? ErrorKind::invalid_argument : ErrorKind::service,
        std::move(message));
}

void set_nonblocking(int fd) {
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
}

}  // namespace

SandboxProcesses::SandboxProcesses(Key, std::shared_ptr<detail::RuntimeShared> runtime,
                                   SandboxSpec spec)
    : runtime_(std::move(runtime)),
      spec_(std::move(spec)),
      log_(runtime_->options.log_capacity),
      status_record_(std::make_unique<detail::ChildReport>()) {}

SandboxProcesses::~SandboxProcesses() {
    (void)destroy();
}

bool SandboxProcesses::isolated() const noexcept {
    return runtime_->isolated;
}

std::filesystem::path SandboxProcesses::files_dir() const {
    return runtime_->options.state_dir / "sandboxes" / spec_.id;
}

std::vector<std::string> SandboxProcesses::markers() const {
    return {"ECI_EMULATOR_SANDBOX=" + spec_.id, "ECI_EMULATOR_INSTANCE=" + runtime_->instance};
}

std::string SandboxProcesses::default_working_dir() const {
    return runtime_->isolated ? std::string("/workspace") : (files_dir() / "workspace").string();
}

detail::EnvList SandboxProcesses::process_env(const detail::EnvList& extra, bool tty) const {
    detail::EnvList env = {
        {"PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
        {"HOME", runtime_->isolated ? std::string("/root") : (files_dir() / "home").string()},
    };
    if (tty)
        env.emplace_back("TERM", "xterm");
    detail::merge_env(env, spec_.env);
    detail::merge_env(env, extra);
    // Forced: the markers find every process of the sandbox; in degraded mode TMPDIR and
    // TMUX_TMPDIR are what keeps files and tmux servers apart per sandbox.
    detail::EnvList forced = {{"ECI_EMULATOR_SANDBOX", spec_.id},
                              {"ECI_EMULATOR_INSTANCE", runtime_->instance}};
    if (!runtime_->isolated) {
        const std::string tmp = (files_dir() / "tmp").string();
        forced.emplace_back("TMPDIR", tmp);
        forced.emplace_back("TMUX_TMPDIR", tmp);
    }
    detail::merge_env(env, forced);
    return env;
}

// ---- starting --------------------------------------------------------------------------

struct SandboxProcesses::LaunchPlan {
    std::optional<detail::ProgramImage> main_image;
    UniqueFd log_write;  // the main process's stdout and stderr
    const detail::ProgramImage* image() const { return main_image ? &*main_image : nullptr; }
};

Result<SandboxProcesses::LaunchPlan> SandboxProcesses::begin_launch() {
    if (runtime_->shut_down)
        return Error::make(ErrorKind::service, "the runtime is shut down");
    ++generation_;
    main_exit_.reset();
    main_running_ = false;
    pid_namespace_ = 0;
    LaunchPlan plan;
    if (!spec_.command.empty()) {
        auto image = detail::make_program_image(spec_.command, process_env({}, false),
                                                spec_.working_dir, default_working_dir());
        if (!image)
            return std::move(image).error();
        plan.main_image = std::move(*image);
    }
    if (plan.main_image) {
        auto pipe = detail::make_pipe();
        if (!pipe)
            return std::move(pipe).error();
        set_nonblocking(pipe->first.get());
        log_pipe_.emplace(runtime_->executor, pipe->first.release());
        plan.log_write = std::move(pipe->second);
    }
    return plan;
}

Result<void> SandboxProcesses::end_launch(Result<void> launched) {
    if (!launched) {
        close_descriptors();
        return launched;
    }
    state_ = State::running;
    main_running_ = !spec_.command.empty();
    if (log_pipe_)
        arm_log_watch();
    return {};
}

Result<void> SandboxProcesses::launch() {
    auto plan = begin_launch();
    if (!plan)
        return std::move(plan).error();
    if (!runtime_->isolated)
        return end_launch(launch_degraded(plan->image(), plan->log_write.get()));
    auto init = spawn_isolated(plan->image(), plan->log_write.get());
    if (!init)
        return end_launch(std::move(init).error());
    plan->log_write.reset();  // the init holds its own copy
    auto report = detail::read_child_report(init->report.get(), runtime_->options.kill_timeout);
    return end_launch(adopt_isolated(std::move(*init), std::move(report)));
}

asio::awaitable<Result<void>> SandboxProcesses::launch_async() {
    // A start slot, held until the init reports (RuntimeOptions::parallel_sandbox_starts).
    auto start_slot = co_await runtime_->sandbox_starts->acquire(std::nullopt);
    if (!start_slot.ok())
        co_return std::move(start_slot).error();
    eci::detail::SemaphorePermit start_permit(*runtime_->sandbox_starts);
    if (state_ == State::destroyed)
        co_return Error::make(ErrorKind::service, "the sandbox was deleted while starting");
    auto plan = begin_launch();
    if (!plan)
        co_return std::move(plan).error();
    if (!runtime_->isolated)
        co_return end_launch(launch_degraded(plan->image(), plan->log_write.get()));
    auto init = spawn_isolated(plan->image(), plan->log_write.get());
    if (!init)
        co_return end_launch(std::move(init).error());
    plan->log_write.reset();
    // The init builds its root (mounts, pivot_root) before it reports: tens of milliseconds
    // on a loaded machine, during which the emulator serves everyone else.
    auto report = co_await read_child_report_async(runtime_->executor, init->report.get(),
                                                   runtime_->options.kill_timeout);
    co_return end_launch(adopt_isolated(std::move(*init), std::move(report)));
}

Result<SandboxProcesses::PendingInit> SandboxProcesses::spawn_isolated(
    const detail::ProgramImage* main_image, int log_fd) {
    auto status_pipe = detail::make_pipe();
    if (!status_pipe)
        return std::move(status_pipe).error();
    const auto memory_bytes =
        static_cast<std::uint64_t>(std::max(0.0, spec_.memory_gib) * 1024.0 * 1024.0 * 1024.0);
    if (runtime_->cgroups) {
        detail::SandboxLimits limits{spec_.cpu, memory_bytes, runtime_->options.pids_limit};
        auto cgroup = runtime_->cgroups->make(spec_.id, limits);
        if (!cgroup)
            return std::move(cgroup).error();
        cgroup_ = std::move(*cgroup);
    }
    const auto tmpfs = detail::TmpfsOptions::sized(memory_bytes);
    detail::InitPlan plan;
    plan.rootfs = &runtime_->rootfs;
    plan.tmpfs = &tmpfs;
    plan.cgroup_procs = cgroup_ ? &cgroup_->procs : nullptr;
    plan.main = main_image;
    plan.status_fd = status_pipe->second.get();
    plan.log_fd = log_fd;
    plan.devnull_fd = runtime_->devnull.get();
    plan.init_program_fd = runtime_->init_program.get();
    plan.private_network = runtime_->options.sandbox_network == SandboxNetwork::none;
    UniqueFd userns_go;  // one byte: the id maps are written
    if (runtime_->userns && runtime_->options.refuse_user_namespaces) {
        return Error::make(ErrorKind::service,
                           detail::errno_message("creating the sandbox namespaces", EPERM));
    }
    if (runtime_->userns) {
        userns_first_id_ = runtime_->userns_slots.acquire();
        if (!userns_first_id_) {
            return Error::make(ErrorKind::service,
                               "no free range of host ids for the sandbox's user namespace");
        }
        auto sync = detail::make_pipe();
        if (!sync)
            return std::move(sync).error();
        plan.userns_sync_fd = sync->first.release();
        userns_go = std::move(sync->second);
    }
    UniqueFd userns_wait(plan.userns_sync_fd);

    int pidfd = -1;
    const auto stall = runtime_->options.init_child_stall;
    const pid_t pid = detail::spawn_child(runtime_->namespace_flags(), &pidfd);
    if (pid == 0) {
        if (stall.count() > 0)
            detail::child_stall(stall);
        detail::run_sandbox_init(plan);
    }
    if (pid < 0) {
        return Error::make(ErrorKind::service,
                           detail::errno_message("creating the sandbox namespaces", errno));
    }
    UniqueFd pidfd_owner(pidfd);
    status_pipe->second.reset();
    userns_wait.reset();
    if (userns_go.valid()) {
        // Without the byte (EOF) the child gives up: it cannot act without ids.
        auto mapped = detail::write_id_maps(pid, *userns_first_id_);
        if (mapped) {
            while (::write(userns_go.get(), "1", 1) < 0 && errno == EINTR) {
            }
        }
        userns_go.reset();
        if (!mapped) {
            send_signal(pidfd, SIGKILL);
            detail::reap_pidfd(pidfd, runtime_->options.kill_timeout);
            return std::move(mapped).error();
        }
    }
    PendingInit init;
    init.pid = pid;
    init.pidfd = std::move(pidfd_owner);
    init.report = std::move(status_pipe->first);
    init.kill_timeout = runtime_->options.kill_timeout;
    return init;
}

SandboxProcesses::PendingInit::~PendingInit() {
    if (pidfd.valid()) {
        send_signal(pidfd.get(), SIGKILL);
        detail::reap_pidfd(pidfd.get(), kill_timeout);
    }
}

Result<void> SandboxProcesses::adopt_isolated(PendingInit init,
                                              Result<std::optional<detail::ChildReport>> report) {
    // While an asynchronous launch waited, the sandbox may have been destroyed (the runtime
    // shutting down): the init must not outlive that.
    const bool abandoned = state_ == State::destroyed || runtime_->shut_down;
    if (abandoned || !report || !*report || (*report)->type != detail::report_ready) {
        // ~PendingInit kills and reaps the init.
        if (abandoned)
            return Error::make(ErrorKind::service, "the sandbox was deleted while starting");
        if (!report)
            return std::move(report).error();
        if (!*report) {
            return Error::make(ErrorKind::service, "the sandbox init exited during setup");
        }
        return failure_error(**report, "starting the sandbox");
    }
    init_pid_ = init.pid;
    pid_namespace_ = detail::pid_namespace_of(init.pid);
    init_pidfd_.emplace(runtime_->executor, init.pidfd.release());
    status_pipe_.emplace(runtime_->executor, init.report.release());
    arm_init_watch();
    arm_status_read();
    return {};
}

Result<void> SandboxProcesses::launch_degraded(const detail::ProgramImage* main_image, int log_fd) {
    std::error_code ec;
    for (const char* name : {"home", "tmp", "workspace"}) {
        std::filesystem::create_directories(files_dir() / name, ec);
        if (ec) {
            return Error::make(
                ErrorKind::service,
                "cannot create " + (files_dir() / name).string() + ": " + ec.message());
        }
    }
    if (main_image == nullptr)
        return {};
    int pidfd = -1;
    const pid_t pid = detail::spawn_child(0, &pidfd);
    if (pid == 0) {
        const int sources[] = {runtime_->devnull.get(), log_fd, log_fd};
        if (!detail::child_install_fds(sources, 3))
            ::_exit(127);
        detail::child_reset_signals();
        detail::child_exec(*main_image, -1, false);
    }
    if (pid < 0) {
        return Error::make(ErrorKind::service,
                           detail::errno_message("starting the main process", errno));
    }
    main_pid_ = pid;
    main_pidfd_.emplace(runtime_->executor, pidfd);
    arm_main_watch();
    return {};
}

// ---- watching ------------------------------------------------------------------------------

void SandboxProcesses::arm_init_watch() {
    init_pidfd_->async_wait(
        stream_descriptor::wait_read,
        [weak = weak_from_this(), generation = generation_](boost::system::error_code ec) {
            auto self = weak.lock();
            if (!self || ec || generation != self->generation_ || self->state_ != State::running ||
                !self->init_pidfd_) {
                return;
            }
            auto status = detail::reap_pidfd(self->init_pidfd_->native_handle(),
                                             std::chrono::milliseconds(0));
            if (!status) {
                self->arm_init_watch();
                return;
            }
            // Killed from outside: the kernel has already killed everything in the namespace.
            self->drain_log();
            self->close_descriptors();
            self->state_ = State::stopped;
            self->main_running_ = false;
            MainExit event{ExitStatus{0, SIGKILL}, generation, true};
            self->notify(event);
        });
}

void SandboxProcesses::arm_status_read() {
    asio::async_read(
        *status_pipe_, asio::buffer(status_record_.get(), sizeof(detail::ChildReport)),
        [weak = weak_from_this(), generation = generation_](boost::system::error_code ec,
                                                            std::size_t) {
            auto self = weak.lock();
            if (!self || ec || generation != self->generation_ || self->state_ != State::running) {
                return;
            }
            const detail::ChildReport record = *self->status_record_;
            self->arm_status_read();
            if (record.type != detail::report_main_exited)
                return;
            self->main_running_ = false;
            self->main_exit_ = ExitStatus::from_wait_status(record.value);
            self->drain_log();
            self->notify(MainExit{*self->main_exit_, generation, false});
        });
}

void SandboxProcesses::arm_main_watch() {
    main_pidfd_->async_wait(
        stream_descriptor::wait_read,
        [weak = weak_from_this(), generation = generation_](boost::system::error_code ec) {
            auto self = weak.lock();
            if (!self || ec || generation != self->generation_ || self->state_ != State::running ||
                !self->main_pidfd_) {
                return;
            }
            auto status = detail::reap_pidfd(self->main_pidfd_->native_handle(),
                                             std::chrono::milliseconds(0));
            if (!status) {
                self->arm_main_watch();
                return;
            }
            self->main_pidfd_.reset();
            self->main_pid_ = -1;
            self->main_running_ = false;
            self->main_exit_ = status;
            self->drain_log();
            self->notify(MainExit{*status, generation, false});
        });
}

void SandboxProcesses::arm_log_watch() {
    log_pipe_->async_wait(
        stream_descriptor::wait_read,
        [weak = weak_from_this(), generation = generation_](boost::system::error_code ec) {
            auto self = weak.lock();
            if (!self || ec || generation != self->generation_ || !self->log_pipe_)
                return;
            if (self->drain_log()) {
                self->log_pipe_.reset();  // EOF: every writer is gone
            } else {
                self->arm_log_watch();
            }
        });
}

bool SandboxProcesses::drain_log() noexcept {
    if (!log_pipe_)
        return true;
    // Reading here (not through async_read_some) keeps every read on one path, so bytes are
    // appended in order even when a main-exit handler drains before the watcher runs.
    char buffer[16384];
    while (true) {
        const ssize_t n = ::read(log_pipe_->native_handle(), buffer, sizeof buffer);
        if (n > 0) {
            log_.append(std::string_view(buffer, static_cast<std::size_t>(n)));
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        return !(n < 0 && errno == EAGAIN);
    }
}

void SandboxProcesses::notify(const MainExit& event) {
    if (spec_.on_main_exit)
        spec_.on_main_exit(event);
}

// ---- exec ----------------------------------------------------------------------------------

asio::awaitable<Result<ExecProcess>> SandboxProcesses::exec(ExecSpec spec) {
    if (state_ != State::running) {
        co_return Error::make(ErrorKind::invalid_argument,
                              "the sandbox " + spec_.id + " is not running");
    }
    auto image = detail::make_program_image(
        spec.argv, process_env(spec.env, spec.tty),
        spec.working_dir.empty() ? spec_.working_dir : spec.working_dir, default_working_dir());
    if (!image)
        co_return std::move(image).error();

    UniqueFd child_in, child_out, child_err;  // the child's ends
    UniqueFd our_in, our_out, our_err, master;
    if (spec.tty) {
        master.reset(::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC));
        char name[128];
        if (!master.valid() || ::grantpt(master.get()) != 0 || ::unlockpt(master.get()) != 0 ||
            ::ptsname_r(master.get(), name, sizeof name) != 0) {
            co_return Error::make(ErrorKind::service,
                                  detail::errno_message("opening a pty", errno));
        }
        UniqueFd slave(::open(name, O_RDWR | O_NOCTTY | O_CLOEXEC));
        if (!slave.valid()) {
            co_return Error::make(ErrorKind::service,
                                  detail::errno_message("opening the pty", errno));
        }
        winsize window{};
        window.ws_row = spec.terminal_size.rows;
        window.ws_col = spec.terminal_size.columns;
        ::ioctl(master.get(), TIOCSWINSZ, &window);
        child_in.reset(::fcntl(slave.get(), F_DUPFD_CLOEXEC, 0));
        child_out.reset(::fcntl(slave.get(), F_DUPFD_CLOEXEC, 0));
        child_err = std::move(slave);
    } else {
        auto out = detail::make_pipe();
        if (!out)
            co_return std::move(out).error();
        auto err = detail::make_pipe();
        if (!err)
            co_return std::move(err).error();
        our_out = std::move(out->first);
        child_out = std::move(out->second);
        our_err = std::move(err->first);
        child_err = std::move(err->second);
        if (spec.open_stdin) {
            auto in = detail::make_pipe();
            if (!in)
                co_return std::move(in).error();
            child_in = std::move(in->first);
            our_in = std::move(in->second);
        }
    }
    auto report_pipe = detail::make_pipe();
    if (!report_pipe)
        co_return std::move(report_pipe).error();

    // A start slot, held until the child has exec'd (RuntimeOptions::parallel_exec_starts).
    auto start_slot = co_await runtime_->exec_starts->acquire(std::nullopt);
    if (!start_slot.ok())
        co_return std::move(start_slot).error();
    eci::detail::SemaphorePermit start_permit(*runtime_->exec_starts);
    if (state_ != State::running) {
        co_return Error::make(ErrorKind::invalid_argument,
                              "the sandbox " + spec_.id + " is not running");
    }
    if (spec.requester_gone && spec.requester_gone()) {
        co_return Error::make(ErrorKind::cancelled,
                              "the exec's requester went away before it started");
    }

    detail::ExecLaunch launch;
    launch.image = &*image;
    launch.stdin_fd = child_in.valid() ? child_in.get() : runtime_->devnull.get();
    launch.stdout_fd = child_out.get();
    launch.stderr_fd = child_err.get();
    launch.report_fd = report_pipe->second.get();
    launch.init_pidfd = init_pidfd_ ? init_pidfd_->native_handle() : -1;
    launch.join_flags = static_cast<int>(runtime_->namespace_flags());
    launch.cgroup_procs = cgroup_ ? &cgroup_->procs : nullptr;
    launch.tty = spec.tty;
    launch.userns = runtime_->userns;
    const bool relayed = runtime_->isolated;
    const auto stall = runtime_->options.exec_child_stall;

    int pidfd = -1;
    const pid_t pid = detail::spawn_child(0, &pidfd);
    if (pid == 0) {
        if (stall.count() > 0)
            detail::child_stall(stall);
        if (relayed)
            detail::run_exec_relay(launch);
        detail::run_exec_direct(launch);
    }
    if (pid < 0) {
        co_return Error::make(ErrorKind::service,
                              detail::errno_message("starting the exec", errno));
    }
    ExecProcess process(runtime_->executor, pid, pidfd, relayed);
    child_in.reset();
    child_out.reset();
    child_err.reset();
    report_pipe->second.reset();
    // If this coroutine is destroyed while the child has not reported (the emulator shutting
    // down), SIGKILL it: dropping the ExecProcess sends a relay SIGTERM, which a child that
    // never got to unblock its signals would ignore until it does.
    struct KillUnlessReported {
        ExecProcess& process;
        bool reported = false;
        ~KillUnlessReported() {
            if (!reported)
                process.kill_now();
        }
    } guard{process};
    auto report = co_await read_child_report_async(runtime_->executor, report_pipe->first.get(),
                                                   runtime_->options.kill_timeout);
    guard.reported = true;
    if (!report || *report) {
        // SIGKILL, not kill(): a relay that never reported may still have SIGTERM blocked.
        process.kill_now();
        detail::reap_pidfd(pidfd, runtime_->options.kill_timeout);
        if (!report)
            co_return std::move(report).error();
        Error error = failure_error(**report, "exec " + spec.argv.front());
        if ((*report)->stage == static_cast<std::int32_t>(detail::ChildStage::exec) &&
            (*report)->value == ENOENT) {
            error.message = "exec " + spec.argv.front() + ": executable file not found";
        }
        co_return error;
    }
    auto wrap = [&](UniqueFd& fd) -> std::optional<stream_descriptor> {
        if (!fd.valid())
            return std::nullopt;
        return stream_descriptor(runtime_->executor, fd.release());
    };
    process.set_streams(wrap(our_in), wrap(our_out), wrap(our_err), wrap(master));
    co_return process;
}

// ---- stopping ------------------------------------------------------------------------------

void SandboxProcesses::close_descriptors() noexcept {
    // Only once the init is gone (stopped, lost, or never started): then the cgroup is
    // empty. A directory the kernel keeps busy is left for CgroupTree::remove().
    if (cgroup_) {
        cgroup_->remove();
        cgroup_.reset();
    }
    // Likewise the ids: no process of ours holds them any more.
    if (userns_first_id_) {
        runtime_->userns_slots.release(*userns_first_id_);
        userns_first_id_.reset();
    }
    init_pidfd_.reset();
    status_pipe_.reset();
    main_pidfd_.reset();
    log_pipe_.reset();
    init_pid_ = -1;
    main_pid_ = -1;
}

Result<void> SandboxProcesses::kill_degraded() {
    const auto deadline = std::chrono::steady_clock::now() + runtime_->options.kill_timeout;
    const pid_t own_group = ::getpgrp();
    const auto own_markers = markers();
    while (true) {
        bool main_alive = false;
        if (main_pidfd_) {
            // Unreaped, so its pid and process group cannot have been reused.
            ::kill(-main_pid_, SIGKILL);
            send_signal(main_pidfd_->native_handle(), SIGKILL);
            if (detail::reap_pidfd(main_pidfd_->native_handle(), std::chrono::milliseconds(0))) {
                main_pidfd_.reset();
            } else {
                main_alive = true;
            }
        }
        // tmux and other daemons leave the process group, but keep the environment.
        const auto pids = detail::find_marked_processes(own_markers);
        for (pid_t pid : pids) {
            const pid_t group = detail::process_group_of(pid);
            if (group > 1 && group != own_group)
                ::kill(-group, SIGKILL);
            ::kill(pid, SIGKILL);
        }
        if (pids.empty() && !main_alive)
            return {};
        if (std::chrono::steady_clock::now() >= deadline) {
            return Error::make(ErrorKind::timeout,
                               "processes of sandbox " + spec_.id + " survived SIGKILL");
        }
        // SIGKILL takes effect asynchronously; look again shortly.
        ::usleep(2000);
    }
}

Result<void> SandboxProcesses::stop() {
    if (state_ == State::running) {
        state_ = State::stopped;  // from here on, watchers ignore what they see
        main_running_ = false;
        // Killing a pid namespace's init makes the kernel kill every process in it; the init
        // becomes reapable only once they are all gone.
        if (runtime_->isolated)
            send_signal(init_pidfd_->native_handle(), SIGKILL);
    } else if (!stopping_) {
        return {};
    }
    // Running, or an asynchronous stop has sent its SIGKILL and still waits: finish here
    // (the runtime shutting down cannot wait for the executor).
    Result<void> result;
    if (!runtime_->isolated) {
        result = kill_degraded();
    } else if (init_pidfd_ &&
               !detail::reap_pidfd(init_pidfd_->native_handle(), runtime_->options.kill_timeout)) {
        result = Error::make(ErrorKind::timeout,
                             "processes of sandbox " + spec_.id + " survived SIGKILL");
    }
    drain_log();
    close_descriptors();
    pid_namespace_ = 0;
    return result;
}

asio::awaitable<Result<void>> SandboxProcesses::stop_async() {
    using namespace asio::experimental::awaitable_operators;
    auto self = shared_from_this();
    if (state_ != State::running) {
        if (auto under_way = stopping_)
            co_await under_way->async_wait(asio::as_tuple(asio::use_awaitable));
        co_return Result<void>{};
    }
    if (!runtime_->isolated)
        co_return stop();  // degraded mode kills by scanning /proc; no pidfd to wait on
    state_ = State::stopped;
    main_running_ = false;
    auto under_way = std::make_shared<asio::steady_timer>(runtime_->executor,
                                                          asio::steady_timer::time_point::max());
    stopping_ = under_way;
    struct Done {
        SandboxProcesses& self;
        std::shared_ptr<asio::steady_timer> under_way;
        ~Done() {
            if (self.stopping_ == under_way)
                self.stopping_.reset();
            under_way->cancel();  // wakes every caller waiting for this stop
        }
    } done{*this, under_way};

    Result<void> result;
    send_signal(init_pidfd_->native_handle(), SIGKILL);
    asio::steady_timer deadline(runtime_->executor, runtime_->options.kill_timeout);
    const auto exited = co_await (init_pidfd_->async_wait(stream_descriptor::wait_read,
                                                          asio::as_tuple(asio::use_awaitable)) ||
                                  deadline.async_wait(asio::as_tuple(asio::use_awaitable)));
    // Without a pidfd a blocking stop() (the runtime shutting down) finished the job meanwhile.
    if (init_pidfd_ && (exited.index() != 0 || !detail::reap_pidfd(init_pidfd_->native_handle(),
                                                                   std::chrono::milliseconds(0)))) {
        result = Error::make(ErrorKind::timeout,
                             "processes of sandbox " + spec_.id + " survived SIGKILL");
    }
    drain_log();
    // The kernel may count the dead tasks for a moment more; retry without blocking, and
    // leave a directory it keeps busy for CgroupTree::remove().
    for (int attempt = 0; cgroup_ && attempt < 50; ++attempt) {
        if (cgroup_->remove_once() != detail::SandboxCgroup::Removal::busy)
            break;
        asio::steady_timer pause(runtime_->executor, std::chrono::milliseconds(2));
        co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    cgroup_.reset();
    close_descriptors();
    pid_namespace_ = 0;
    co_return result;
}

Result<void> SandboxProcesses::restart() {
    if (state_ == State::destroyed) {
        return Error::make(ErrorKind::invalid_argument, "the sandbox " + spec_.id + " is deleted");
    }
    if (auto stopped = stop(); !stopped)
        return stopped;
    forget_files();
    return launch();
}

asio::awaitable<Result<void>> SandboxProcesses::restart_async() {
    auto self = shared_from_this();
    if (state_ == State::destroyed) {
        co_return Error::make(ErrorKind::invalid_argument,
                              "the sandbox " + spec_.id + " is deleted");
    }
    if (auto stopped = co_await stop_async(); !stopped)
        co_return stopped;
    if (state_ == State::destroyed) {
        co_return Error::make(ErrorKind::invalid_argument,
                              "the sandbox " + spec_.id + " was deleted while restarting");
    }
    forget_files();
    co_return co_await launch_async();
}

Result<void> SandboxProcesses::destroy() {
    if (state_ == State::destroyed)
        return {};
    auto stopped = stop();
    finish_destroy();
    return stopped;
}

asio::awaitable<Result<void>> SandboxProcesses::destroy_async() {
    auto self = shared_from_this();
    if (state_ == State::destroyed)
        co_return Result<void>{};
    auto stopped = co_await stop_async();
    if (state_ != State::destroyed)
        finish_destroy();
    co_return stopped;
}

void SandboxProcesses::forget_files() {
    if (!runtime_->isolated) {
        std::error_code ignored;
        std::filesystem::remove_all(files_dir(), ignored);
    }
}

void SandboxProcesses::finish_destroy() {
    state_ = State::destroyed;
    forget_files();
    auto found = runtime_->sandboxes.find(spec_.id);
    if (found != runtime_->sandboxes.end()) {
        auto registered = found->second.lock();
        if (!registered || registered.get() == this)
            runtime_->sandboxes.erase(found);
    }
}

std::string SandboxProcesses::recent_log(std::size_t limit) const {
    return log_.tail(limit);
}

std::size_t SandboxProcesses::live_process_count() const {
    if (runtime_->isolated) {
        if (pid_namespace_ == 0)
            return 0;
        return detail::count_processes_in_namespaces({pid_namespace_});
    }
    return detail::find_marked_processes(markers()).size();
}

}  // namespace eci::emulator
