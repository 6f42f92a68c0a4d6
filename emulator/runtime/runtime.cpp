// SPDX-License-Identifier: Apache-2.0
#include "emulator/runtime/runtime.hpp"

#include "emulator/runtime/proc_scan.hpp"
#include "emulator/runtime/runtime_shared.hpp"

#include <fmt/core.h>

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <random>
#include <system_error>
#include <unordered_set>

namespace eci::emulator {

namespace detail {

void RuntimeShared::warn(std::string_view message) const {
    if (options.warning) {
        options.warning(message);
    } else {
        fmt::print(stderr, "eci-emulator: warning: {}\n", message);
    }
}

std::uint64_t RuntimeShared::namespace_flags() const noexcept {
    // UTS and IPC too: sethostname and System V IPC objects would otherwise be the host's.
    std::uint64_t flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC;
    // With CLONE_NEWUSER the kernel creates the user namespace first and the others are
    // owned by it: the sandbox's root is privileged over them and nothing else.
    if (userns)
        flags |= CLONE_NEWUSER;
    if (options.sandbox_network == SandboxNetwork::none)
        flags |= CLONE_NEWNET;
    return flags;
}

}  // namespace detail

namespace {

std::string random_token() {
    std::random_device device;
    std::uniform_int_distribution<std::uint64_t> distribution;
    return fmt::format("{:016x}", distribution(device));
}

bool valid_id(const std::string& id) {
    if (id.empty() || id.size() > 64 || id == "." || id == "..")
        return false;
    for (char c : id) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                        (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
        if (!ok)
            return false;
    }
    return true;
}

// eci-sandbox-init: next to the running executable (an installed emulator), else the one
// built with this tree (tests, `eci-sandbox emulator` from the build directory).
std::filesystem::path find_init_program(const std::filesystem::path& configured) {
    if (!configured.empty())
        return configured;
    std::error_code ec;
    const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (!ec) {
        auto beside = self.parent_path() / "eci-sandbox-init";
        if (std::filesystem::is_regular_file(beside, ec))
            return beside;
    }
#ifdef ECI_SANDBOX_INIT_PATH
    return ECI_SANDBOX_INIT_PATH;
#else
    return {};
#endif
}

Result<detail::UniqueFd> open_init_program(const std::filesystem::path& configured) {
    const auto path = find_init_program(configured);
    if (path.empty()) {
        return Error::make(ErrorKind::service,
                           "the sandbox init program (eci-sandbox-init) was not found");
    }
    detail::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) {
        return Error::make(ErrorKind::service,
                           detail::errno_message("cannot open " + path.string(), errno));
    }
    return fd;
}

void raise_descriptor_limit() {
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &limit);
    }
}

}  // namespace

Result<std::unique_ptr<Runtime>> Runtime::create(asio::any_io_executor executor,
                                                 RuntimeOptions options) {
    auto shared = std::make_shared<detail::RuntimeShared>();
    shared->executor = std::move(executor);
    shared->instance = random_token();
    shared->exec_starts =
        std::make_unique<eci::detail::AsyncSemaphore>(options.parallel_exec_starts);
    shared->sandbox_starts =
        std::make_unique<eci::detail::AsyncSemaphore>(options.parallel_sandbox_starts);
    if (options.state_dir.empty()) {
        options.state_dir = std::filesystem::temp_directory_path() /
                            fmt::format("eci-emulator-{}", shared->instance.substr(0, 8));
        shared->remove_state_dir = true;
    }
    std::error_code ec;
    std::filesystem::create_directories(options.state_dir / "sandboxes", ec);
    if (ec) {
        return Error::make(ErrorKind::service, "cannot create the state directory " +
                                                   options.state_dir.string() + ": " +
                                                   ec.message());
    }
    shared->options = std::move(options);
    shared->devnull.reset(::open("/dev/null", O_RDWR | O_CLOEXEC));
    if (!shared->devnull.valid()) {
        return Error::make(ErrorKind::service, detail::errno_message("open /dev/null", errno));
    }
    ::signal(SIGPIPE, SIG_IGN);
    raise_descriptor_limit();

    if (shared->options.userns_base < detail::userns_range ||
        shared->options.userns_base > 0xFFFFFFFFU - detail::userns_range) {
        return Error::make(ErrorKind::invalid_argument,
                           fmt::format("the user namespace base {} is outside [{}, {}]",
                                       shared->options.userns_base, detail::userns_range,
                                       0xFFFFFFFFU - detail::userns_range));
    }
    shared->userns_slots = detail::UsernsSlots(shared->options.userns_base);
    std::unique_ptr<Runtime> runtime(new Runtime(shared));
    if (shared->options.force_degraded) {
        shared->degraded_reason = "degraded mode forced by the options";
    } else if (::geteuid() != 0) {
        shared->degraded_reason = "not running as root";
    } else if (auto plan = detail::make_rootfs_plan(shared->options.state_dir / "rootfs"); !plan) {
        shared->degraded_reason = plan.error().message;
    } else if (auto init = open_init_program(shared->options.init_program); !init) {
        shared->degraded_reason = init.error().message;
    } else {
        shared->init_program = std::move(*init);
        if (auto tree = detail::CgroupTree::create(shared->instance); tree) {
            shared->limits_description = tree->description();
            shared->cgroups = std::move(*tree);
        } else {
            shared->limits_description = tree.error().message;
        }
        // Probe: start and stop one idle sandbox. It fails (EPERM, EINVAL, ENOSYS) where
        // namespaces, mount_setattr or pidfd-setns are unavailable.
        shared->rootfs = std::move(*plan);
        shared->isolated = true;
        auto probe = [&]() -> Result<void> {
            SandboxSpec probe_spec;
            probe_spec.id = "eci-emulator-probe";
            probe_spec.memory_gib = 0.0625;
            auto sandbox = std::make_shared<SandboxProcesses>(SandboxProcesses::Key(), shared,
                                                              std::move(probe_spec));
            auto started = sandbox->launch();
            (void)sandbox->destroy();
            return started;
        };
        // A sandbox without a user namespace beats no sandbox: where one is refused, the
        // runtime goes on without, and says so.
        shared->userns = shared->options.user_namespace;
        if (!shared->userns)
            shared->userns_reason = "user namespaces disabled by the options";
        auto probe_userns = [&]() -> Result<void> {
            auto started = probe();
            if (started || !shared->userns)
                return started;
            shared->userns = false;
            auto without = probe();
            if (!without) {
                shared->userns = true;  // not the cause
                return started;
            }
            shared->userns_reason = "user namespaces unavailable: " + started.error().message;
            return without;
        };
        auto started = probe_userns();
        if (!started && shared->cgroups) {
            // Isolation without limits beats no isolation: try again without cgroups.
            shared->cgroups->remove();
            shared->cgroups.reset();
            shared->limits_description = "the cgroups are unusable: " + started.error().message;
            started = probe_userns();
        }
        if (!started) {
            shared->isolated = false;
            shared->degraded_reason = "sandbox namespaces unavailable: " + started.error().message;
            if (shared->cgroups) {
                shared->cgroups->remove();
                shared->cgroups.reset();
            }
        }
    }
    if (shared->isolated && !shared->cgroups) {
        shared->warn("per-sandbox limits (Cpu, Memory, processes) are NOT enforced: " +
                     shared->limits_description +
                     ". A fork bomb or a memory hog in a sandbox can exhaust the machine.");
    }
    if (shared->isolated && !shared->userns) {
        shared->warn("sandboxes have NO user namespace (" + shared->userns_reason +
                     "): root in a sandbox is root (uid 0) on the host. It keeps only Docker's "
                     "default capabilities and the seccomp filter, but anything that gets past "
                     "the other namespaces acts as the host's root.");
    }
    if (!shared->isolated && !shared->options.force_degraded) {
        shared->warn("sandboxes run in DEGRADED mode (" + shared->degraded_reason +
                     "): THEY CONTAIN NOTHING. Code in a sandbox runs as this user on the host: "
                     "it can read the emulator's secrets and environment, write the host "
                     "filesystem, reach the network and the emulator's API, and take over other "
                     "sandboxes. Only HOME, TMPDIR and TMUX_TMPDIR are per sandbox. Run as root "
                     "on Linux >= 5.12 for isolation.");
    }
    return runtime;
}

Runtime::Runtime(std::shared_ptr<detail::RuntimeShared> shared) : shared_(std::move(shared)) {}

Runtime::~Runtime() {
    shutdown();
}

bool Runtime::isolated() const noexcept {
    return shared_->isolated;
}
const std::string& Runtime::degraded_reason() const noexcept {
    return shared_->degraded_reason;
}
const std::string& Runtime::instance() const noexcept {
    return shared_->instance;
}
const std::filesystem::path& Runtime::state_dir() const noexcept {
    return shared_->options.state_dir;
}
bool Runtime::limited() const noexcept {
    return shared_->cgroups.has_value();
}
const std::string& Runtime::limits_description() const noexcept {
    return shared_->limits_description;
}
bool Runtime::userns() const noexcept {
    return shared_->isolated && shared_->userns;
}
const std::string& Runtime::userns_reason() const noexcept {
    return shared_->userns_reason;
}
std::uint32_t Runtime::userns_base() const noexcept {
    return shared_->userns_slots.base();
}

Result<std::shared_ptr<SandboxProcesses>> Runtime::make_sandbox(SandboxSpec spec) {
    if (shared_->shut_down)
        return Error::make(ErrorKind::service, "the runtime is shut down");
    if (!valid_id(spec.id)) {
        return Error::make(ErrorKind::invalid_argument, "invalid sandbox id '" + spec.id + "'");
    }
    if (auto found = shared_->sandboxes.find(spec.id);
        found != shared_->sandboxes.end() && !found->second.expired()) {
        return Error::make(ErrorKind::invalid_argument, "sandbox " + spec.id + " already exists");
    }
    auto sandbox =
        std::make_shared<SandboxProcesses>(SandboxProcesses::Key(), shared_, std::move(spec));
    // Registered before it launches: the id is taken from now on, and shutdown() finds it.
    shared_->sandboxes[sandbox->id()] = sandbox;
    return sandbox;
}

Result<std::shared_ptr<SandboxProcesses>> Runtime::start(SandboxSpec spec) {
    auto sandbox = make_sandbox(std::move(spec));
    if (!sandbox)
        return sandbox;
    if (auto started = (*sandbox)->launch(); !started) {
        (void)(*sandbox)->destroy();
        return std::move(started).error();
    }
    return sandbox;
}

asio::awaitable<Result<std::shared_ptr<SandboxProcesses>>> Runtime::start_async(SandboxSpec spec) {
    auto sandbox = make_sandbox(std::move(spec));
    if (!sandbox)
        co_return sandbox;
    if (auto started = co_await (*sandbox)->launch_async(); !started) {
        (void)(*sandbox)->destroy();  // nothing of it runs: no wait
        co_return std::move(started).error();
    }
    co_return sandbox;
}

std::size_t Runtime::live_process_count() const {
    if (!shared_->isolated) {
        return detail::find_marked_processes({"ECI_EMULATOR_INSTANCE=" + shared_->instance}).size();
    }
    std::unordered_set<ino_t> namespaces;
    for (const auto& [id, weak] : shared_->sandboxes) {
        if (auto sandbox = weak.lock(); sandbox && sandbox->pid_namespace() != 0) {
            namespaces.insert(sandbox->pid_namespace());
        }
    }
    return detail::count_processes_in_namespaces(namespaces);
}

std::size_t Runtime::sandbox_count() const {
    std::size_t count = 0;
    for (const auto& [id, weak] : shared_->sandboxes)
        count += weak.expired() ? 0 : 1;
    return count;
}

void Runtime::shutdown() {
    if (shared_->shut_down)
        return;
    shared_->shut_down = true;
    // destroy() unregisters, so iterate over a copy.
    auto sandboxes = shared_->sandboxes;
    for (auto& [id, weak] : sandboxes) {
        if (auto sandbox = weak.lock()) {
            if (auto destroyed = sandbox->destroy(); !destroyed) {
                shared_->warn(destroyed.error().message);
            }
        }
    }
    shared_->sandboxes.clear();
    if (shared_->cgroups)
        shared_->cgroups->remove();
    if (shared_->remove_state_dir) {
        std::error_code ignored;
        std::filesystem::remove_all(shared_->options.state_dir, ignored);
    }
}

}  // namespace eci::emulator
