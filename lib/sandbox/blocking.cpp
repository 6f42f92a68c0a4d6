#include <eci/blocking.hpp>

#include "sandbox/blocking_runtime.hpp"

#include <chrono>

namespace eci {
namespace asio = boost::asio;
using std::chrono::milliseconds;

EciSandbox::Runtime::Runtime() : work(asio::make_work_guard(io)), thread([this] { io.run(); }) {}

EciSandbox::Runtime::~Runtime() {
    shutdown();
}

void EciSandbox::Runtime::finish(std::uint64_t id) {
    std::lock_guard lock(mutex_);
    in_flight_.erase(id);
    if (in_flight_.empty())
        idle_.notify_all();
}

void EciSandbox::Runtime::shutdown() {
    {
        std::unique_lock lock(mutex_);
        if (stopping_ && !thread.joinable())
            return;
        stopping_ = true;
        // Cancellation signals may only be emitted on the thread that runs the operations.
        asio::post(io, [this] {
            std::map<std::uint64_t, std::shared_ptr<asio::cancellation_signal>> signals;
            {
                std::lock_guard inner(mutex_);
                signals = in_flight_;
            }
            for (auto& [id, signal] : signals)
                signal->emit(asio::cancellation_type::terminal);
        });
        // Every operation honours cancellation promptly; the bound only guards against a bug.
        idle_.wait_for(lock, std::chrono::seconds(10), [this] { return in_flight_.empty(); });
    }
    work.reset();
    io.stop();
    if (thread.joinable())
        thread.join();
    // Whatever did not finish is destroyed with the io_context; its Completion then reports
    // "cancelled" to the waiting caller.
}

EciSandbox::EciSandbox(std::shared_ptr<Runtime> runtime) : runtime_(std::move(runtime)) {}
EciSandbox::EciSandbox(EciSandbox&&) noexcept = default;
EciSandbox& EciSandbox::operator=(EciSandbox&& other) noexcept {
    if (this != &other) {
        if (runtime_)
            runtime_->shutdown();
        runtime_ = std::move(other.runtime_);
    }
    return *this;
}
EciSandbox::~EciSandbox() {
    if (runtime_)
        runtime_->shutdown();
}

Result<EciSandbox> EciSandbox::create(ClientConfig config, Logger logger) {
    auto runtime = std::make_shared<Runtime>();
    auto client =
        AsyncEciSandbox::create(runtime->io.get_executor(), std::move(config), std::move(logger));
    if (!client.ok())
        return std::move(client).error();
    runtime->client.emplace(std::move(client).value());
    return EciSandbox(std::move(runtime));
}

Result<EciSandbox> EciSandbox::create(const ConfigOverrides& overrides, Logger logger) {
    auto config = load_config(overrides);
    if (!config.ok())
        return std::move(config).error();
    return create(std::move(config).value(), std::move(logger));
}

Result<Sandbox> EciSandbox::create(CreateOptions options) {
    auto handle = runtime_->call<AsyncSandbox>(
        [client = *runtime_->client, options = std::move(options)]() mutable {
            return client.create(std::move(options));
        });
    if (!handle.ok())
        return std::move(handle).error();
    return Sandbox(runtime_, std::move(handle).value());
}

Result<Sandbox> EciSandbox::get(std::string sandbox_id) {
    auto handle = runtime_->call<AsyncSandbox>(
        [client = *runtime_->client, id = std::move(sandbox_id)]() mutable {
            return client.get(std::move(id));
        });
    if (!handle.ok())
        return std::move(handle).error();
    return Sandbox(runtime_, std::move(handle).value());
}

// Each lambda holds a copy of the client (a shared handle) and runs inside the spawned
// coroutine, so the awaitable's `this` stays valid for as long as the operation runs.

Result<SandboxInfo> EciSandbox::get_sandbox(std::string sandbox_id) {
    return runtime_->call<SandboxInfo>(
        [client = *runtime_->client, id = std::move(sandbox_id)]() mutable {
            return client.get_sandbox(std::move(id));
        });
}

Result<ListPage> EciSandbox::list(ListOptions options) {
    return runtime_->call<ListPage>(
        [client = *runtime_->client, options = std::move(options)]() mutable {
            return client.list(std::move(options));
        });
}

Result<std::vector<SandboxInfo>> EciSandbox::list_all(ListOptions options) {
    return runtime_->call<std::vector<SandboxInfo>>(
        [client = *runtime_->client, options = std::move(options)]() mutable {
            return client.list_all(std::move(options));
        });
}

Result<Receipt> EciSandbox::remove(std::string sandbox_id, bool force) {
    return runtime_->call<Receipt>(
        [client = *runtime_->client, id = std::move(sandbox_id), force]() mutable {
            return client.remove(std::move(id), force);
        });
}

Result<Receipt> EciSandbox::restart(std::string sandbox_id) {
    return runtime_->call<Receipt>(
        [client = *runtime_->client, id = std::move(sandbox_id)]() mutable {
            return client.restart(std::move(id));
        });
}

Result<SandboxInfo> EciSandbox::wait_until_running(std::string sandbox_id, milliseconds timeout) {
    return runtime_->call<SandboxInfo>(
        [client = *runtime_->client, id = std::move(sandbox_id), timeout]() mutable {
            return client.wait_until_running(std::move(id), timeout);
        });
}

Result<CommandResult> EciSandbox::exec_command(std::string sandbox_id,
                                               std::vector<std::string> argv, ExecOptions options) {
    return runtime_->call<CommandResult>([client = *runtime_->client, id = std::move(sandbox_id),
                                          argv = std::move(argv),
                                          options = std::move(options)]() mutable {
        return client.exec_command(std::move(id), std::move(argv), std::move(options));
    });
}

Result<CommandResult> EciSandbox::bash(std::string sandbox_id, std::string command,
                                       ExecOptions options) {
    return runtime_->call<CommandResult>([client = *runtime_->client, id = std::move(sandbox_id),
                                          command = std::move(command),
                                          options = std::move(options)]() mutable {
        return client.bash(std::move(id), std::move(command), std::move(options));
    });
}

Result<CommandResult> EciSandbox::bash_ws(std::string sandbox_id, std::string command,
                                          ExecOptions options) {
    return runtime_->call<CommandResult>([client = *runtime_->client, id = std::move(sandbox_id),
                                          command = std::move(command),
                                          options = std::move(options)]() mutable {
        return client.bash_ws(std::move(id), std::move(command), std::move(options));
    });
}

// ---------------------------------------------------------------------------------------

Sandbox::Sandbox(std::shared_ptr<EciSandbox::Runtime> runtime, AsyncSandbox handle)
    : runtime_(std::move(runtime)), handle_(std::move(handle)) {}

Result<SandboxInfo> Sandbox::info() {
    return runtime_->call<SandboxInfo>([handle = handle_]() mutable { return handle.info(); });
}
Result<Receipt> Sandbox::remove(bool force) {
    return runtime_->call<Receipt>(
        [handle = handle_, force]() mutable { return handle.remove(force); });
}
Result<Receipt> Sandbox::restart() {
    return runtime_->call<Receipt>([handle = handle_]() mutable { return handle.restart(); });
}
Result<SandboxInfo> Sandbox::wait_until_running(milliseconds timeout) {
    return runtime_->call<SandboxInfo>(
        [handle = handle_, timeout]() mutable { return handle.wait_until_running(timeout); });
}
Result<CommandResult> Sandbox::exec_command(std::vector<std::string> argv, ExecOptions options) {
    return runtime_->call<CommandResult>(
        [handle = handle_, argv = std::move(argv), options = std::move(options)]() mutable {
            return handle.exec_command(std::move(argv), std::move(options));
        });
}
Result<CommandResult> Sandbox::bash(std::string command, ExecOptions options) {
    return runtime_->call<CommandResult>(
        [handle = handle_, command = std::move(command), options = std::move(options)]() mutable {
            return handle.bash(std::move(command), std::move(options));
        });
}
Result<CommandResult> Sandbox::bash_ws(std::string command, ExecOptions options) {
    return runtime_->call<CommandResult>(
        [handle = handle_, command = std::move(command), options = std::move(options)]() mutable {
            return handle.bash_ws(std::move(command), std::move(options));
        });
}

}  // namespace eci
