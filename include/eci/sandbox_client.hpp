// SPDX-License-Identifier: Apache-2.0
// eci::AsyncEciSandbox: ECI container groups as sandboxes, every operation an awaitable.
#pragma once

#include <eci/command.hpp>
#include <eci/config.hpp>
#include <eci/logger.hpp>
#include <eci/openapi_client.hpp>
#include <eci/reaper.hpp>
#include <eci/result.hpp>
#include <eci/sandbox_types.hpp>
#include <eci/tmux.hpp>
#include <eci/tree_transfer.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace eci {

// Defined in <eci/async_sandbox.hpp>, which includes this header (not the other way round:
// public headers have no include cycle). Include that one, or <eci/sandbox.hpp>, to use
// what create() and get() return.
class AsyncSandbox;

/// The asynchronous sandbox client, mirroring the Python `AsyncEciSandbox`: create, find,
/// list, delete (`remove`) and restart sandboxes, and run commands in them. docs/
/// python-mapping.md lists every Python method and its C++ name.
///
/// Errors: every operation returns an eci::Error instead of throwing; command errors carry
/// `dispatch` (refused / accepted / unknown), the service code and RequestId, and for a
/// timeout, cancellation or lost connection the output so far in `Error::partial`.
/// Cancellation: every operation honours terminal cancellation of the awaiting coroutine
/// (bound cancellation slot, or `||` of awaitable_operators) and returns ErrorKind::cancelled.
/// Lifetimes: a cheap handle to shared state; an operation in flight keeps it alive.
/// Thread safety: use from one executor (an io_context run by one thread, or a strand);
/// many coroutines may use one client concurrently there.
class AsyncEciSandbox {
  public:
    /// A client for `config` (validated) on `executor`.
    /// Errors: auth / invalid_argument from validate_config or an unreadable CA file.
    static Result<AsyncEciSandbox> from_config(boost::asio::any_io_executor executor,
                                               ClientConfig config, Logger logger = {});
    /// A client configured by load_config(overrides) (environment, .env).
    /// Errors: those of load_config and the overload above.
    static Result<AsyncEciSandbox> from_config(boost::asio::any_io_executor executor,
                                               const ConfigOverrides& overrides = {},
                                               Logger logger = {});

    /// Creates a sandbox with one container (CreateContainerGroup) and returns its handle,
    /// which knows the container name. With `options.wait_until_running`, returns once it
    /// is Running. Errors: invalid_argument without an image; the service's errors; those of
    /// wait_until_running: the sandbox is then deleted (unless options.keep_on_failure) and
    /// the error names it in Error::sandbox_id, with Error::sandbox_deleted. A create whose
    /// reply was lost through every retry is settled before returning (its ClientToken
    /// replayed, then a lookup by name): the sandbox, or an error saying whether one may
    /// exist. Cancellation: a cancelled create still deletes what it made. See
    /// docs/leases.md, "Failure paths".
    boost::asio::awaitable<Result<AsyncSandbox>> create(CreateOptions options);

    /// A handle for an existing sandbox; the container name comes from the same describe
    /// call. Errors: not_found when there is no such sandbox.
    boost::asio::awaitable<Result<AsyncSandbox>> get(std::string sandbox_id);

    /// Describes one sandbox (Python get_sandbox / get_sandbox_info).
    /// Errors: not_found when there is no such sandbox; invalid_argument for an empty id.
    boost::asio::awaitable<Result<SandboxInfo>> get_sandbox(std::string sandbox_id);

    /// One page of sandboxes (limit clamped to 1..20).
    boost::asio::awaitable<Result<ListPage>> list(ListOptions options);
    /// With default options. (Overloads instead of default arguments: GCC 12 miscompiles a
    /// class-type default argument created in a calling coroutine.)
    boost::asio::awaitable<Result<ListPage>> list() { return list(ListOptions{}); }

    /// Every page matching the filters, following NextToken from `options.next_token`,
    /// each handed to `handler` as it arrives and before the next is asked for: only one page
    /// is held at a time, however long the listing. Stops when the handler returns false
    /// (ListSummary::stopped, with the token to go on from), at the last page, or with an
    /// error. Errors: list's; protocol when the listing does not end within
    /// `options.max_pages` (the pages before were handed over). An exception thrown by the
    /// handler propagates.
    boost::asio::awaitable<Result<ListSummary>> list_pages(ListOptions options,
                                                           ListPageHandler handler);

    /// Every sandbox matching the filters, following NextToken page by page (list_pages,
    /// keeping every page). Errors: list_pages's; protocol past `options.max_bytes`.
    boost::asio::awaitable<Result<std::vector<SandboxInfo>>> list_all(ListOptions options);
    boost::asio::awaitable<Result<std::vector<SandboxInfo>>> list_all() {
        return list_all(ListOptions{});
    }

    /// Deletes a sandbox (Python `delete`). A sandbox that does not exist counts as deleted.
    /// Throttling, 5xx and transport failures are retried (past the call's own retries, in
    /// rounds 0.5 s to 5 s apart) until the service confirms the delete, within
    /// RetryConfig::overall_deadline (60 s when that is 0). Errors: the last failure then, or
    /// a refusal (auth, invalid state) at once.
    boost::asio::awaitable<Result<Receipt>> remove(std::string sandbox_id, bool force = false);

    /// Restarts a sandbox (RestartContainerGroup). Errors: not_found; the service's errors.
    boost::asio::awaitable<Result<Receipt>> restart(std::string sandbox_id);

    /// Polls DescribeContainerGroups (0.1 s, x1.5, at most 5 s apart) until the sandbox is
    /// Running. Errors: service with the service's reason (events, container state) when it
    /// reaches Failed, ScheduleFailed or another terminal status; timeout after `timeout`;
    /// not_found when it disappears.
    boost::asio::awaitable<Result<SandboxInfo>> wait_until_running(
        std::string sandbox_id,
        std::chrono::milliseconds timeout = std::chrono::milliseconds(300000));

    /// Runs `argv` (ExecContainerCommand, TTY and Stdin off unless options say otherwise)
    /// and reads its output over the exec WebSocket. The exit code is always known: argv runs
    /// under a `/bin/sh` wrapper that reports it (arguments untouched; see
    /// ExecCommandOptions::raw_argv to send argv bare, when the code is known only if the server
    /// reports it). With `options.sync == false`, only returns the URLs.
    /// Errors: the service's (dispatch refused or unknown); timeout / cancelled / network
    /// after it started (dispatch accepted, output so far in Error::partial).
    boost::asio::awaitable<Result<CommandResult>> exec_command(std::string sandbox_id,
                                                               std::vector<std::string> argv,
                                                               ExecCommandOptions options);
    boost::asio::awaitable<Result<CommandResult>> bash_ws(std::string sandbox_id,
                                                          std::string command) {
        return bash_ws(std::move(sandbox_id), std::move(command), ExecOptions{});
    }
    boost::asio::awaitable<Result<CommandResult>> bash(std::string sandbox_id,
                                                       std::string command) {
        return bash(std::move(sandbox_id), std::move(command), ExecOptions{});
    }
    boost::asio::awaitable<Result<CommandResult>> exec_command(std::string sandbox_id,
                                                               std::vector<std::string> argv) {
        return exec_command(std::move(sandbox_id), std::move(argv), ExecCommandOptions{});
    }

    /// Runs a bash command line (Python `bash`): base64-wrapped into `bash -lc`, its exit
    /// code reported by a wrapper with a per-call random marker (stripped from stderr). A
    /// wrapper longer than one Command element may be (256 characters) is sent on stdin
    /// instead (no length limit). Errors: as exec_command; invalid_argument for such a long
    /// command with `sync == false` (there is no stream to send it on).
    boost::asio::awaitable<Result<CommandResult>> bash(std::string sandbox_id, std::string command,
                                                       ExecOptions options);

    /// Runs a bash command line in an interactive `bash -l` fed through stdin (Python
    /// `bash_ws`); exit code as for bash. Errors: as exec_command; a failure before the
    /// WebSocket was connected has dispatch not_sent (the command never left).
    boost::asio::awaitable<Result<CommandResult>> bash_ws(std::string sandbox_id,
                                                          std::string command, ExecOptions options);

    /// Writes `content` (any bytes, any size) to `path` in the sandbox, byte-exact (Python
    /// `write_file_ws`, but binary-safe and without an added newline): one exec whose stdin
    /// carries the bytes in frame-sized chunks; the sandbox checks size and SHA-256 and only
    /// then renames a temporary file over `path`. Errors: invalid_argument (empty path);
    /// not_found (no such directory); protocol (hash mismatch: nothing was written); those
    /// of exec_command.
    boost::asio::awaitable<Result<FileWriteResult>> write_file_ws(std::string sandbox_id,
                                                                  std::string path,
                                                                  std::string content,
                                                                  FileTransferOptions options);
    boost::asio::awaitable<Result<FileWriteResult>> write_file_ws(std::string sandbox_id,
                                                                  std::string path,
                                                                  std::string content) {
        return write_file_ws(std::move(sandbox_id), std::move(path), std::move(content),
                             FileTransferOptions{});
    }
    /// Reads the file at `path` back, byte-exact, checked against the sandbox's SHA-256.
    /// Errors: not_found (no such file); invalid_argument (not a regular file); protocol
    /// (truncated or corrupt transfer); those of exec_command.
    boost::asio::awaitable<Result<FileReadResult>> read_file(std::string sandbox_id,
                                                             std::string path,
                                                             FileTransferOptions options);
    boost::asio::awaitable<Result<FileReadResult>> read_file(std::string sandbox_id,
                                                             std::string path) {
        return read_file(std::move(sandbox_id), std::move(path), FileTransferOptions{});
    }
    /// Copies the local file, directory tree or symlink `local_path` to `sandbox_path` (when
    /// that is an existing directory, into it under the same name): one exec whose stdin
    /// carries a tar stream read from disk chunk by chunk (bounded memory at any size). Modes,
    /// symlinks and empty directories are kept; the sandbox checks every file's SHA-256
    /// before renaming it from a hidden staging directory into place (docs/tmux-and-files.md).
    /// Needs /bin/sh, tar, sha256sum, base64 and head (GNU or busybox) in the sandbox.
    /// Errors: invalid_argument (bad paths, unreadable local entries, a local file that
    /// changed size while sent); not_found (no such local path or sandbox directory);
    /// protocol (a SHA-256 mismatch); service (the sandbox's tools failed); those of
    /// exec_command. Every error after the exec started names the entries that were
    /// complete; no file is ever left half-written under its final name.
    boost::asio::awaitable<Result<TransferResult>> upload(std::string sandbox_id,
                                                          std::string local_path,
                                                          std::string sandbox_path,
                                                          TransferOptions options);
    boost::asio::awaitable<Result<TransferResult>> upload(std::string sandbox_id,
                                                          std::string local_path,
                                                          std::string sandbox_path) {
        return upload(std::move(sandbox_id), std::move(local_path), std::move(sandbox_path),
                      TransferOptions{});
    }
    /// Copies `sandbox_path` (file, tree or symlink) to `local_path` (into it when it is an
    /// existing directory): one exec running `tar c` after hashing every file; each file is
    /// written to a hidden temporary name and renamed only once its SHA-256 matches the
    /// sandbox's. Members that would leave the destination (`..`, absolute, through a
    /// symlink) are refused. Errors: as upload (not_found for no such sandbox path).
    boost::asio::awaitable<Result<TransferResult>> download(std::string sandbox_id,
                                                            std::string sandbox_path,
                                                            std::string local_path,
                                                            TransferOptions options);
    boost::asio::awaitable<Result<TransferResult>> download(std::string sandbox_id,
                                                            std::string sandbox_path,
                                                            std::string local_path) {
        return download(std::move(sandbox_id), std::move(sandbox_path), std::move(local_path),
                        TransferOptions{});
    }
    /// Starts `command` in a new detached tmux session and returns the session id (Python
    /// `tmux_start`). The session is created with `history-limit` and `remain-on-exit` in one
    /// tmux invocation; an existing session id is refused (invalid_argument, the command did
    /// not run). An unknown outcome is settled by asking whether the session exists.
    /// Errors: invalid_argument (bad session id, history limit); service (no tmux in the
    /// sandbox, tmux failed); those of exec_command.
    boost::asio::awaitable<Result<std::string>> tmux_start(std::string sandbox_id,
                                                           std::string command,
                                                           TmuxStartOptions options);
    boost::asio::awaitable<Result<std::string>> tmux_start(std::string sandbox_id,
                                                           std::string command) {
        return tmux_start(std::move(sandbox_id), std::move(command), TmuxStartOptions{});
    }
    /// One look at a tmux job: running, completed (with exit code) or not found. Costs one
    /// exec. Errors: invalid_argument (bad session id); those of exec_command.
    boost::asio::awaitable<Result<TmuxPollResult>> tmux_poll(std::string sandbox_id,
                                                             std::string session_id,
                                                             TmuxPollOptions options);
    boost::asio::awaitable<Result<TmuxPollResult>> tmux_poll(std::string sandbox_id,
                                                             std::string session_id) {
        return tmux_poll(std::move(sandbox_id), std::move(session_id), TmuxPollOptions{});
    }
    /// Polls with backoff (0.1 s x1.5, at most 5 s apart) until the job completed or its
    /// session is gone; kills the session afterwards when `options.cleanup`.
    /// Errors: timeout (with the last output in Error::partial); cancelled; those of tmux_poll.
    boost::asio::awaitable<Result<TmuxPollResult>> tmux_wait(std::string sandbox_id,
                                                             std::string session_id,
                                                             TmuxWaitOptions options);
    boost::asio::awaitable<Result<TmuxPollResult>> tmux_wait(std::string sandbox_id,
                                                             std::string session_id) {
        return tmux_wait(std::move(sandbox_id), std::move(session_id), TmuxWaitOptions{});
    }
    /// Kills a tmux session (its processes get SIGHUP). Returns false when there was none.
    boost::asio::awaitable<Result<bool>> tmux_kill(std::string sandbox_id, std::string session_id);
    /// The sandbox's tmux sessions (empty when tmux runs none).
    boost::asio::awaitable<Result<std::vector<TmuxSessionInfo>>> tmux_list(std::string sandbox_id);
    /// A container's log (DescribeContainerLog; Python has no counterpart). Errors:
    /// invalid_argument for an empty id or an option out of range (before any call);
    /// not_found for an unknown sandbox or container; the service's errors. Defined in
    /// lib/sandbox/container_log.cpp.
    boost::asio::awaitable<Result<ContainerLog>> logs(std::string sandbox_id, LogOptions options);
    /// Finds the sandboxes this library tagged whose lease expired (and, with
    /// `options.include_orphans`, whose creating process on this host is gone), walking every
    /// page of DescribeContainerGroups filtered by the owner tag, and deletes them unless
    /// `options.dry_run`. Untagged sandboxes are never touched. A failed delete is reported
    /// in ReapReport::failed and the others still run. Errors: those of the listing (nothing
    /// is deleted then). Cancellation: returns cancelled; deletes already done stay done.
    /// See docs/leases.md. Defined in lib/sandbox/reaper.cpp.
    boost::asio::awaitable<Result<ReapReport>> reap(ReapOptions options);
    boost::asio::awaitable<Result<ReapReport>> reap() { return reap(ReapOptions{}); }
    /// The owner tag this client writes (LeaseConfig::owner or `<user>@<host>`).
    std::string lease_owner() const;

    /// The OpenAPI client underneath (shares the connection pool and the counters).
    const OpenApiClient& api() const noexcept;
    boost::asio::any_io_executor get_executor() const noexcept;

    struct State;  ///< defined in lib/sandbox; opaque

  private:
    friend struct detail::StateAccess;  // the library's layers (lib/api/state_access.hpp)
    explicit AsyncEciSandbox(std::shared_ptr<State> state);
    std::shared_ptr<State> state_;
};

}  // namespace eci
