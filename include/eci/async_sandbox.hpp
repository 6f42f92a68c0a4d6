// SPDX-License-Identifier: Apache-2.0
// eci::AsyncSandbox: a handle on one sandbox, holding its id and container name.
#pragma once

#include <eci/sandbox_client.hpp>

#include <string>
#include <utility>
#include <vector>

namespace eci {

/// One sandbox (Python `AsyncSandbox`): the client's operations without the id. The
/// container name is learned once (from create, or from the describe call of `get`), so no
/// operation on a handle spends an extra DescribeContainerGroups call.
///
/// Errors, cancellation: as AsyncEciSandbox. Lifetimes: a cheap value; it shares the
/// client's state. Thread safety: as AsyncEciSandbox.
class AsyncSandbox {
  public:
    AsyncSandbox(AsyncEciSandbox client, std::string sandbox_id, std::string container_name);

    const std::string& id() const noexcept { return sandbox_id_; }
    const std::string& container_name() const noexcept { return container_name_; }
    AsyncEciSandbox& client() noexcept { return client_; }
    /// The client, read-only: e.g. `handle.client().api().stats()` on a const handle.
    const AsyncEciSandbox& client() const noexcept { return client_; }

    /// See AsyncEciSandbox::get_sandbox (Python get_info).
    boost::asio::awaitable<Result<SandboxInfo>> info();
    /// See AsyncEciSandbox::remove (Python delete).
    boost::asio::awaitable<Result<Receipt>> remove(bool force = false);
    boost::asio::awaitable<Result<Receipt>> restart();
    boost::asio::awaitable<Result<SandboxInfo>> wait_until_running(
        std::chrono::milliseconds timeout = std::chrono::milliseconds(300000));
    /// The exec operations: `options.container_name` empty means this handle's container.
    boost::asio::awaitable<Result<CommandResult>> exec_command(std::vector<std::string> argv,
                                                               ExecCommandOptions options);
    boost::asio::awaitable<Result<CommandResult>> bash(std::string command, ExecOptions options);
    boost::asio::awaitable<Result<CommandResult>> bash_ws(std::string command, ExecOptions options);
    /// With default options (overloads, not default arguments: see AsyncEciSandbox::list).
    boost::asio::awaitable<Result<CommandResult>> exec_command(std::vector<std::string> argv) {
        return exec_command(std::move(argv), ExecCommandOptions{});
    }
    boost::asio::awaitable<Result<CommandResult>> bash(std::string command) {
        return bash(std::move(command), ExecOptions{});
    }
    boost::asio::awaitable<Result<CommandResult>> bash_ws(std::string command) {
        return bash_ws(std::move(command), ExecOptions{});
    }

    /// The file and tmux operations: see AsyncEciSandbox. Empty `container_name` in the
    /// options means this handle's container.
    boost::asio::awaitable<Result<FileWriteResult>> write_file_ws(std::string path,
                                                                  std::string content,
                                                                  FileTransferOptions options);
    boost::asio::awaitable<Result<FileWriteResult>> write_file_ws(std::string path,
                                                                  std::string content) {
        return write_file_ws(std::move(path), std::move(content), FileTransferOptions{});
    }
    boost::asio::awaitable<Result<FileReadResult>> read_file(std::string path,
                                                             FileTransferOptions options);
    boost::asio::awaitable<Result<FileReadResult>> read_file(std::string path) {
        return read_file(std::move(path), FileTransferOptions{});
    }
    /// See AsyncEciSandbox::upload / download.
    boost::asio::awaitable<Result<TransferResult>> upload(std::string local_path,
                                                          std::string sandbox_path,
                                                          TransferOptions options);
    boost::asio::awaitable<Result<TransferResult>> upload(std::string local_path,
                                                          std::string sandbox_path) {
        return upload(std::move(local_path), std::move(sandbox_path), TransferOptions{});
    }
    boost::asio::awaitable<Result<TransferResult>> download(std::string sandbox_path,
                                                            std::string local_path,
                                                            TransferOptions options);
    boost::asio::awaitable<Result<TransferResult>> download(std::string sandbox_path,
                                                            std::string local_path) {
        return download(std::move(sandbox_path), std::move(local_path), TransferOptions{});
    }
    boost::asio::awaitable<Result<std::string>> tmux_start(std::string command,
                                                           TmuxStartOptions options);
    boost::asio::awaitable<Result<std::string>> tmux_start(std::string command) {
        return tmux_start(std::move(command), TmuxStartOptions{});
    }
    boost::asio::awaitable<Result<TmuxPollResult>> tmux_poll(std::string session_id,
                                                             TmuxPollOptions options);
    boost::asio::awaitable<Result<TmuxPollResult>> tmux_poll(std::string session_id) {
        return tmux_poll(std::move(session_id), TmuxPollOptions{});
    }
    boost::asio::awaitable<Result<TmuxPollResult>> tmux_wait(std::string session_id,
                                                             TmuxWaitOptions options);
    boost::asio::awaitable<Result<TmuxPollResult>> tmux_wait(std::string session_id) {
        return tmux_wait(std::move(session_id), TmuxWaitOptions{});
    }
    boost::asio::awaitable<Result<bool>> tmux_kill(std::string session_id);
    boost::asio::awaitable<Result<std::vector<TmuxSessionInfo>>> tmux_list();

  private:
    ExecOptions with_container(ExecOptions options) const;
    ExecCommandOptions with_container(ExecCommandOptions options) const;

    AsyncEciSandbox client_;
    std::string sandbox_id_;
    std::string container_name_;
};

}  // namespace eci
