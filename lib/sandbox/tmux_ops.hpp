// SPDX-License-Identifier: Apache-2.0
// The tmux jobs with their transport chosen by the caller: `shell` null runs each script as
// one exec of its own; a session runs it as a command of that shell (no API call). The
// client's tmux_* methods pass null, ShellSession's pass the session.
#pragma once

#include <eci/sandbox_client.hpp>
#include <eci/tmux.hpp>

#include <boost/asio/awaitable.hpp>

#include <memory>
#include <string>

namespace eci::detail {

/// AsyncEciSandbox::tmux_start on `shell` (null: one exec per script).
boost::asio::awaitable<Result<std::string>> tmux_start_op(
    std::shared_ptr<AsyncEciSandbox::State> state, std::string sandbox_id, std::string command,
    TmuxStartOptions options, ShellSession* shell);
/// AsyncEciSandbox::tmux_poll on `shell`.
boost::asio::awaitable<Result<TmuxPollResult>> tmux_poll_op(
    std::shared_ptr<AsyncEciSandbox::State> state, std::string sandbox_id, std::string session_id,
    TmuxPollOptions options, ShellSession* shell);
/// AsyncEciSandbox::tmux_wait on `shell`.
boost::asio::awaitable<Result<TmuxPollResult>> tmux_wait_op(
    std::shared_ptr<AsyncEciSandbox::State> state, std::string sandbox_id, std::string session_id,
    TmuxWaitOptions options, ShellSession* shell);

}  // namespace eci::detail
