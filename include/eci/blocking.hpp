// SPDX-License-Identifier: Apache-2.0
// eci::EciSandbox and eci::Sandbox: the blocking facade over AsyncEciSandbox, mirroring the
// Python sync client.
#pragma once

#include <eci/async_sandbox.hpp>
#include <eci/command.hpp>
#include <eci/config.hpp>
#include <eci/logger.hpp>
#include <eci/reaper.hpp>
#include <eci/result.hpp>
#include <eci/sandbox_client.hpp>
#include <eci/sandbox_types.hpp>
#include <eci/tmux.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace eci {

class Sandbox;

/// The blocking sandbox client (Python `EciSandbox`): the methods of AsyncEciSandbox, each
/// returning its Result synchronously.
///
/// It owns an io_context and one thread that runs it; every call is posted there and waited
/// for. Thread safety: any number of threads may call any method at once. Never call it from
/// inside an `on_output` callback (that runs on the client's thread and would deadlock).
/// Destruction: cancels every call in flight (they return ErrorKind::cancelled), waits for
/// them, stops the thread. Handles (Sandbox) that outlive the client return cancelled errors.
class EciSandbox {
  public:
    /// A client for `config`. Errors: as AsyncEciSandbox::from_config.
    static Result<EciSandbox> from_config(ClientConfig config, Logger logger = {});
    /// A client configured by load_config(overrides). Errors: as load_config.
    static Result<EciSandbox> from_config(const ConfigOverrides& overrides = {},
                                          Logger logger = {});

    EciSandbox(EciSandbox&&) noexcept;
    EciSandbox& operator=(EciSandbox&&) noexcept;
    ~EciSandbox();

    // One style with AsyncEciSandbox: an options struct is left out through an overload, not
    // a default argument (in a coroutine's co_await, GCC 12 destroys a class-type default
    // argument twice: README, "GCC 12"); scalars and durations keep default arguments.
    Result<Sandbox> create(CreateOptions options);
    Result<Sandbox> get(std::string sandbox_id);
    Result<SandboxInfo> get_sandbox(std::string sandbox_id);
    Result<ListPage> list(ListOptions options);
    Result<ListPage> list() { return list(ListOptions{}); }
    /// See AsyncEciSandbox::list_pages. `handler` runs on the client's thread while this
    /// call blocks; like `on_output`, it must not call this client. An exception it throws
    /// ends the call with ErrorKind::service.
    Result<ListSummary> list_pages(ListOptions options, ListPageHandler handler);
    Result<std::vector<SandboxInfo>> list_all(ListOptions options);
    Result<std::vector<SandboxInfo>> list_all() { return list_all(ListOptions{}); }
    Result<Receipt> remove(std::string sandbox_id, bool force = false);
    Result<Receipt> restart(std::string sandbox_id);
    Result<SandboxInfo> wait_until_running(
        std::string sandbox_id,
        std::chrono::milliseconds timeout = std::chrono::milliseconds(300000));
    Result<CommandResult> exec_command(std::string sandbox_id, std::vector<std::string> argv,
                                       ExecCommandOptions options);
    Result<CommandResult> exec_command(std::string sandbox_id, std::vector<std::string> argv) {
        return exec_command(std::move(sandbox_id), std::move(argv), ExecCommandOptions{});
    }
    Result<CommandResult> bash(std::string sandbox_id, std::string command, ExecOptions options);
    Result<CommandResult> bash(std::string sandbox_id, std::string command) {
        return bash(std::move(sandbox_id), std::move(command), ExecOptions{});
    }
    Result<CommandResult> bash_ws(std::string sandbox_id, std::string command, ExecOptions options);
    Result<CommandResult> bash_ws(std::string sandbox_id, std::string command) {
        return bash_ws(std::move(sandbox_id), std::move(command), ExecOptions{});
    }
    Result<FileWriteResult> write_file_ws(std::string sandbox_id, std::string path,
                                          std::string content, FileTransferOptions options);
    Result<FileWriteResult> write_file_ws(std::string sandbox_id, std::string path,
                                          std::string content) {
        return write_file_ws(std::move(sandbox_id), std::move(path), std::move(content),
                             FileTransferOptions{});
    }
    Result<FileReadResult> read_file(std::string sandbox_id, std::string path,
                                     FileTransferOptions options);
    Result<FileReadResult> read_file(std::string sandbox_id, std::string path) {
        return read_file(std::move(sandbox_id), std::move(path), FileTransferOptions{});
    }
    /// See AsyncEciSandbox::upload / download (on_progress runs on the runtime's thread).
    Result<TransferResult> upload(std::string sandbox_id, std::string local_path,
                                  std::string sandbox_path, TransferOptions options);
    Result<TransferResult> upload(std::string sandbox_id, std::string local_path,
                                  std::string sandbox_path) {
        return upload(std::move(sandbox_id), std::move(local_path), std::move(sandbox_path),
                      TransferOptions{});
    }
    Result<TransferResult> download(std::string sandbox_id, std::string sandbox_path,
                                    std::string local_path, TransferOptions options);
    Result<TransferResult> download(std::string sandbox_id, std::string sandbox_path,
                                    std::string local_path) {
        return download(std::move(sandbox_id), std::move(sandbox_path), std::move(local_path),
                        TransferOptions{});
    }
    Result<std::string> tmux_start(std::string sandbox_id, std::string command,
                                   TmuxStartOptions options);
    Result<std::string> tmux_start(std::string sandbox_id, std::string command) {
        return tmux_start(std::move(sandbox_id), std::move(command), TmuxStartOptions{});
    }
    Result<TmuxPollResult> tmux_poll(std::string sandbox_id, std::string session_id,
                                     TmuxPollOptions options);
    Result<TmuxPollResult> tmux_poll(std::string sandbox_id, std::string session_id) {
        return tmux_poll(std::move(sandbox_id), std::move(session_id), TmuxPollOptions{});
    }
    Result<TmuxPollResult> tmux_wait(std::string sandbox_id, std::string session_id,
                                     TmuxWaitOptions options);
    Result<TmuxPollResult> tmux_wait(std::string sandbox_id, std::string session_id) {
        return tmux_wait(std::move(sandbox_id), std::move(session_id), TmuxWaitOptions{});
    }
    Result<bool> tmux_kill(std::string sandbox_id, std::string session_id);
    Result<std::vector<TmuxSessionInfo>> tmux_list(std::string sandbox_id);
    /// See AsyncEciSandbox::logs.
    Result<ContainerLog> logs(std::string sandbox_id, LogOptions options);
    Result<ContainerLog> logs(std::string sandbox_id) {
        return logs(std::move(sandbox_id), LogOptions{});
    }
    /// See AsyncEciSandbox::reap (docs/leases.md).
    Result<ReapReport> reap(ReapOptions options);
    Result<ReapReport> reap() { return reap(ReapOptions{}); }
    /// See AsyncEciSandbox::lease_owner.
    std::string lease_owner() const;
    /// A snapshot of the client's counters and per-action latency histograms (ClientStats),
    /// taken on the client's thread. Thread safety: as the other methods (any thread; never
    /// from an `on_output` callback). Works after the client shut down too (the last values).
    ClientStats stats() const;

    struct Runtime;  ///< defined in lib/sandbox: the io_context, its thread, calls in flight;
                     ///< opaque

  private:
    friend class SandboxPool;  // runs its pool on this client's thread (<eci/sandbox_pool.hpp>)
    explicit EciSandbox(std::shared_ptr<Runtime> runtime);
    std::shared_ptr<Runtime> runtime_;
};

/// A blocking handle on one sandbox (Python `Sandbox`). Thread safety: as EciSandbox.
class Sandbox {
  public:
    const std::string& id() const noexcept { return handle_.id(); }
    const std::string& container_name() const noexcept { return handle_.container_name(); }

    Result<SandboxInfo> info();
    Result<Receipt> remove(bool force = false);
    Result<Receipt> restart();
    Result<SandboxInfo> wait_until_running(
        std::chrono::milliseconds timeout = std::chrono::milliseconds(300000));
    Result<CommandResult> exec_command(std::vector<std::string> argv, ExecCommandOptions options);
    Result<CommandResult> exec_command(std::vector<std::string> argv) {
        return exec_command(std::move(argv), ExecCommandOptions{});
    }
    Result<CommandResult> bash(std::string command, ExecOptions options);
    Result<CommandResult> bash(std::string command) {
        return bash(std::move(command), ExecOptions{});
    }
    Result<CommandResult> bash_ws(std::string command, ExecOptions options);
    Result<CommandResult> bash_ws(std::string command) {
        return bash_ws(std::move(command), ExecOptions{});
    }
    Result<FileWriteResult> write_file_ws(std::string path, std::string content,
                                          FileTransferOptions options);
    Result<FileWriteResult> write_file_ws(std::string path, std::string content) {
        return write_file_ws(std::move(path), std::move(content), FileTransferOptions{});
    }
    Result<FileReadResult> read_file(std::string path, FileTransferOptions options);
    Result<FileReadResult> read_file(std::string path) {
        return read_file(std::move(path), FileTransferOptions{});
    }
    Result<TransferResult> upload(std::string local_path, std::string sandbox_path,
                                  TransferOptions options);
    Result<TransferResult> upload(std::string local_path, std::string sandbox_path) {
        return upload(std::move(local_path), std::move(sandbox_path), TransferOptions{});
    }
    Result<TransferResult> download(std::string sandbox_path, std::string local_path,
                                    TransferOptions options);
    Result<TransferResult> download(std::string sandbox_path, std::string local_path) {
        return download(std::move(sandbox_path), std::move(local_path), TransferOptions{});
    }
    Result<std::string> tmux_start(std::string command, TmuxStartOptions options);
    Result<std::string> tmux_start(std::string command) {
        return tmux_start(std::move(command), TmuxStartOptions{});
    }
    Result<TmuxPollResult> tmux_poll(std::string session_id, TmuxPollOptions options);
    Result<TmuxPollResult> tmux_poll(std::string session_id) {
        return tmux_poll(std::move(session_id), TmuxPollOptions{});
    }
    Result<TmuxPollResult> tmux_wait(std::string session_id, TmuxWaitOptions options);
    Result<TmuxPollResult> tmux_wait(std::string session_id) {
        return tmux_wait(std::move(session_id), TmuxWaitOptions{});
    }
    Result<bool> tmux_kill(std::string session_id);
    Result<std::vector<TmuxSessionInfo>> tmux_list();

    /// The counters of the client this handle belongs to: see EciSandbox::stats().
    ClientStats stats() const;

    const AsyncSandbox& async_handle() const noexcept { return handle_; }

  private:
    friend class EciSandbox;   // makes the handles (create, get)
    friend class SandboxPool;  // and the pool's (acquire)
    Sandbox(std::shared_ptr<EciSandbox::Runtime> runtime, AsyncSandbox handle);
    std::shared_ptr<EciSandbox::Runtime> runtime_;
    AsyncSandbox handle_;
};

}  // namespace eci
