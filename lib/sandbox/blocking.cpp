// SPDX-License-Identifier: Apache-2.0
#include <eci/blocking.hpp>

#include "sandbox/blocking_runtime.hpp"

#include <chrono>
#include <vector>

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
    const std::lock_guard whole(shutdown_mutex_);
    {
        std::unique_lock lock(mutex_);
        if (stopping_ && !thread.joinable())
            return;
        stopping_ = true;
        // Cancellation signals may only be emitted on the thread that runs the operations.
        asio::post(io, [this] {
            std::vector<std::shared_ptr<asio::cancellation_signal>> signals;
            {
                std::lock_guard inner(mutex_);
                for (auto& [id, call] : in_flight_)
                    signals.push_back(call.signal);
            }
            for (auto& signal : signals)
                signal->emit(asio::cancellation_type::terminal);
        });
        // Every operation honours cancellation promptly; the bound only guards against a bug.
        idle_.wait_for(lock, shutdown_bound, [this] { return in_flight_.empty(); });
    }
    work.reset();
    io.stop();
    if (thread.joinable())
        thread.join();
    // A call that outlived the bound is suspended in the stopped io_context, which lives on
    // while a Sandbox handle shares this Runtime: its caller would wait forever. The thread is
    // joined, so nothing else touches these completions now; fail them here.
    std::map<std::uint64_t, InFlight> abandoned;
    {
        std::lock_guard lock(mutex_);
        abandoned.swap(in_flight_);
    }
    for (auto& [id, call] : abandoned)
        call.abandon();
}

ClientStats EciSandbox::Runtime::stats() {
    auto snapshot = call<ClientStats>(
        [api = client->api()]() -> asio::awaitable<Result<ClientStats>> { co_return api.stats(); });
    if (snapshot.ok())
        return std::move(snapshot).value();
    // Refused: shutdown() began. Once it returns the thread is joined, and nothing else
    // touches the counters.
    const std::lock_guard stopped(shutdown_mutex_);
    return client->api().stats();
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

Result<EciSandbox> EciSandbox::from_config(ClientConfig config, Logger logger) {
    auto runtime = std::make_shared<Runtime>();
    auto client = AsyncEciSandbox::from_config(runtime->io.get_executor(), std::move(config),
                                               std::move(logger));
    if (!client.ok())
        return std::move(client).error();
    runtime->client.emplace(std::move(client).value());
    return EciSandbox(std::move(runtime));
}

Result<EciSandbox> EciSandbox::from_config(const ConfigOverrides& overrides, Logger logger) {
    auto config = load_config(overrides);
    if (!config.ok())
        return std::move(config).error();
    return from_config(std::move(config).value(), std::move(logger));
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

Result<ListSummary> EciSandbox::list_pages(ListOptions options, ListPageHandler handler) {
    return runtime_->call<ListSummary>([client = *runtime_->client, options = std::move(options),
                                        handler = std::move(handler)]() mutable {
        return client.list_pages(std::move(options), std::move(handler));
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
                                               std::vector<std::string> argv,
                                               ExecCommandOptions options) {
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

Result<FileWriteResult> EciSandbox::write_file_ws(std::string sandbox_id, std::string path,
                                                  std::string content,
                                                  FileTransferOptions options) {
    return runtime_->call<FileWriteResult>([client = *runtime_->client, id = std::move(sandbox_id),
                                            path = std::move(path), content = std::move(content),
                                            options = std::move(options)]() mutable {
        return client.write_file_ws(std::move(id), std::move(path), std::move(content),
                                    std::move(options));
    });
}

Result<FileReadResult> EciSandbox::read_file(std::string sandbox_id, std::string path,
                                             FileTransferOptions options) {
    return runtime_->call<FileReadResult>([client = *runtime_->client, id = std::move(sandbox_id),
                                           path = std::move(path),
                                           options = std::move(options)]() mutable {
        return client.read_file(std::move(id), std::move(path), std::move(options));
    });
}

Result<TransferResult> EciSandbox::upload(std::string sandbox_id, std::string local_path,
                                          std::string sandbox_path, TransferOptions options) {
    return runtime_->call<TransferResult>(
        [client = *runtime_->client, id = std::move(sandbox_id), local = std::move(local_path),
         remote = std::move(sandbox_path), options = std::move(options)]() mutable {
            return client.upload(std::move(id), std::move(local), std::move(remote),
                                 std::move(options));
        });
}

Result<TransferResult> EciSandbox::download(std::string sandbox_id, std::string sandbox_path,
                                            std::string local_path, TransferOptions options) {
    return runtime_->call<TransferResult>(
        [client = *runtime_->client, id = std::move(sandbox_id), remote = std::move(sandbox_path),
         local = std::move(local_path), options = std::move(options)]() mutable {
            return client.download(std::move(id), std::move(remote), std::move(local),
                                   std::move(options));
        });
}

Result<std::string> EciSandbox::tmux_start(std::string sandbox_id, std::string command,
                                           TmuxStartOptions options) {
    return runtime_->call<std::string>([client = *runtime_->client, id = std::move(sandbox_id),
                                        command = std::move(command),
                                        options = std::move(options)]() mutable {
        return client.tmux_start(std::move(id), std::move(command), std::move(options));
    });
}

Result<TmuxPollResult> EciSandbox::tmux_poll(std::string sandbox_id, std::string session_id,
                                             TmuxPollOptions options) {
    return runtime_->call<TmuxPollResult>([client = *runtime_->client, id = std::move(sandbox_id),
                                           session = std::move(session_id),
                                           options = std::move(options)]() mutable {
        return client.tmux_poll(std::move(id), std::move(session), std::move(options));
    });
}

Result<TmuxPollResult> EciSandbox::tmux_wait(std::string sandbox_id, std::string session_id,
                                             TmuxWaitOptions options) {
    return runtime_->call<TmuxPollResult>([client = *runtime_->client, id = std::move(sandbox_id),
                                           session = std::move(session_id),
                                           options = std::move(options)]() mutable {
        return client.tmux_wait(std::move(id), std::move(session), std::move(options));
    });
}

Result<bool> EciSandbox::tmux_kill(std::string sandbox_id, std::string session_id) {
    return runtime_->call<bool>([client = *runtime_->client, id = std::move(sandbox_id),
                                 session = std::move(session_id)]() mutable {
        return client.tmux_kill(std::move(id), std::move(session));
    });
}

Result<std::vector<TmuxSessionInfo>> EciSandbox::tmux_list(std::string sandbox_id) {
    return runtime_->call<std::vector<TmuxSessionInfo>>(
        [client = *runtime_->client, id = std::move(sandbox_id)]() mutable {
            return client.tmux_list(std::move(id));
        });
}

ClientStats EciSandbox::stats() const {
    return runtime_->stats();
}

Result<ContainerLog> EciSandbox::logs(std::string sandbox_id, LogOptions options) {
    return runtime_->call<ContainerLog>([client = *runtime_->client, id = std::move(sandbox_id),
                                         options = std::move(options)]() mutable {
        return client.logs(std::move(id), std::move(options));
    });
}

// ---------------------------------------------------------------------------------------

Sandbox::Sandbox(std::shared_ptr<EciSandbox::Runtime> runtime, AsyncSandbox handle)
    : runtime_(std::move(runtime)), handle_(std::move(handle)) {}

ClientStats Sandbox::stats() const {
    return runtime_->stats();
}

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
Result<CommandResult> Sandbox::exec_command(std::vector<std::string> argv,
                                            ExecCommandOptions options) {
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

Result<FileWriteResult> Sandbox::write_file_ws(std::string path, std::string content,
                                               FileTransferOptions options) {
    return runtime_->call<FileWriteResult>([handle = handle_, path = std::move(path),
                                            content = std::move(content),
                                            options = std::move(options)]() mutable {
        return handle.write_file_ws(std::move(path), std::move(content), std::move(options));
    });
}
Result<TransferResult> Sandbox::upload(std::string local_path, std::string sandbox_path,
                                       TransferOptions options) {
    return runtime_->call<TransferResult>([handle = handle_, local = std::move(local_path),
                                           remote = std::move(sandbox_path),
                                           options = std::move(options)]() mutable {
        return handle.upload(std::move(local), std::move(remote), std::move(options));
    });
}

Result<TransferResult> Sandbox::download(std::string sandbox_path, std::string local_path,
                                         TransferOptions options) {
    return runtime_->call<TransferResult>([handle = handle_, remote = std::move(sandbox_path),
                                           local = std::move(local_path),
                                           options = std::move(options)]() mutable {
        return handle.download(std::move(remote), std::move(local), std::move(options));
    });
}

Result<FileReadResult> Sandbox::read_file(std::string path, FileTransferOptions options) {
    return runtime_->call<FileReadResult>(
        [handle = handle_, path = std::move(path), options = std::move(options)]() mutable {
            return handle.read_file(std::move(path), std::move(options));
        });
}
Result<std::string> Sandbox::tmux_start(std::string command, TmuxStartOptions options) {
    return runtime_->call<std::string>(
        [handle = handle_, command = std::move(command), options = std::move(options)]() mutable {
            return handle.tmux_start(std::move(command), std::move(options));
        });
}
Result<TmuxPollResult> Sandbox::tmux_poll(std::string session_id, TmuxPollOptions options) {
    return runtime_->call<TmuxPollResult>([handle = handle_, session = std::move(session_id),
                                           options = std::move(options)]() mutable {
        return handle.tmux_poll(std::move(session), std::move(options));
    });
}
Result<TmuxPollResult> Sandbox::tmux_wait(std::string session_id, TmuxWaitOptions options) {
    return runtime_->call<TmuxPollResult>([handle = handle_, session = std::move(session_id),
                                           options = std::move(options)]() mutable {
        return handle.tmux_wait(std::move(session), std::move(options));
    });
}
Result<bool> Sandbox::tmux_kill(std::string session_id) {
    return runtime_->call<bool>([handle = handle_, session = std::move(session_id)]() mutable {
        return handle.tmux_kill(std::move(session));
    });
}
Result<std::vector<TmuxSessionInfo>> Sandbox::tmux_list() {
    return runtime_->call<std::vector<TmuxSessionInfo>>(
        [handle = handle_]() mutable { return handle.tmux_list(); });
}

}  // namespace eci
