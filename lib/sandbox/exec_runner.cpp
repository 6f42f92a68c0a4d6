// SPDX-License-Identifier: Apache-2.0
#include "sandbox/exec_runner.hpp"

#include "core/crypto.hpp"
#include "core/exit_marker.hpp"
#include "core/log.hpp"
#include "core/shell_wrappers.hpp"
#include "sandbox/exec_output.hpp"
#include "sandbox/exec_start.hpp"
#include "sandbox/sandbox_state.hpp"

#include <boost/asio/error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/system/system_error.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <random>

namespace eci::detail {
namespace asio = boost::asio;
using std::chrono::steady_clock;

namespace {

std::chrono::milliseconds elapsed_since(steady_clock::time_point start) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(steady_clock::now() - start);
}

}  // namespace

CommandOutcome outcome_of_error(ErrorKind kind) {
    switch (kind) {
        case ErrorKind::timeout:
            return CommandOutcome::timed_out;
        case ErrorKind::cancelled:
            return CommandOutcome::cancelled;
        default:
            return CommandOutcome::connection_lost;
    }
}

// The shell's convention: 128 + N means "killed by signal N" (N up to 64 on Linux).
void classify_exit(CommandResult& result) {
    result.outcome = CommandOutcome::exited;
    if (result.exit_code && *result.exit_code > 128 && *result.exit_code <= 128 + 64) {
        result.outcome = CommandOutcome::signalled;
        result.signal = *result.exit_code - 128;
    }
}

std::string new_exit_marker() {
    auto nonce = random_hex(16);
    if (nonce.ok())
        return make_exit_marker(*nonce);
    // OpenSSL's generator failed: fall back to random_device (still unpredictable enough to
    // never collide with output by accident).
    std::random_device device;
    return make_exit_marker(
        fmt::format("{:08x}{:08x}{:08x}{:08x}", device(), device(), device(), device()));
}

asio::awaitable<Result<std::string>> resolve_container_name(
    std::shared_ptr<AsyncEciSandbox::State> state, std::string sandbox_id, std::string given) {
    if (!given.empty())
        co_return given;
    if (auto known = state->container_names.find(sandbox_id);
        known != state->container_names.end()) {
        co_return known->second;
    }
    DescribeContainerGroupsRequest request;
    request.container_group_ids.push_back(sandbox_id);
    auto reply = co_await state->api.describe_container_groups(std::move(request));
    if (!reply.ok())
        co_return std::move(reply).error();
    if (reply->container_groups.empty()) {
        auto error =
            Error::make(ErrorKind::not_found, fmt::format("sandbox {} not found", sandbox_id));
        error.request_id = reply->request_id;
        co_return error;
    }
    const auto& group = reply->container_groups.front();
    if (group.containers.empty()) {
        co_return Error::make(ErrorKind::invalid_argument,
                              fmt::format("sandbox {} has no container", sandbox_id));
    }
    state->container_names[sandbox_id] = group.containers.front().name;
    co_return group.containers.front().name;
}

namespace {

// One ExecContainerCommand and its stream, ending by `deadline`.
asio::awaitable<Result<CommandResult>> run_exec_once(std::shared_ptr<AsyncEciSandbox::State> state,
                                                     ExecPlan plan, ExecOptions options,
                                                     steady_clock::time_point deadline) {
    const auto started = steady_clock::now();
    const auto timeout = options.effective_timeout();
    auto executor = co_await asio::this_coro::executor;
    ExecWebSocket socket(executor, *state->ws_tls, state->ws_options);
    ExecStartRequest start;
    start.sandbox_id = plan.sandbox_id;
    start.container_name = plan.container_name;
    start.argv = plan.argv;
    start.stdin = plan.stdin_data.has_value() || static_cast<bool>(plan.stdin_source);
    start.tty = plan.tty;
    start.idempotent = options.idempotent;
    start.command_on_stdin = plan.command_on_stdin;
    start.connect = options.sync;
    auto begun = co_await start_exec(state, std::move(start), socket, deadline);
    if (begun.started.ok() && !options.sync) {
        CommandResult result;
        result.request_id = begun.started->request_id;
        result.dispatch = Dispatch::accepted;
        result.websocket_url = std::move(begun.started->websocket_url);
        result.http_url = std::move(begun.started->http_url);
        result.duration = elapsed_since(started);
        co_return result;
    }
    if (!begun.started.ok() && !begun.stream_failed)
        co_return std::move(begun.started).error();

    CommandResult result;
    result.dispatch = Dispatch::accepted;

    // Fails `error` with what the command produced so far attached.
    OutputCollector visible(options.max_output_bytes, forward_output(options));
    std::optional<ExitMarkerFilter> marker_filter;
    if (!plan.exit_marker.empty())
        marker_filter.emplace(plan.exit_marker);
    OutputCollector raw(0, [&](ExecChannel channel, std::string_view bytes) {
        if (channel == ExecChannel::stderr_ && marker_filter) {
            const auto passed = marker_filter->feed(bytes);
            if (!passed.empty())
                visible.append(channel, passed);
        } else {
            visible.append(channel, bytes);
        }
    });
    raw.set_received_limit(plan.max_stream_bytes);
    auto fill = [&](CommandResult& target) {
        if (marker_filter) {
            const auto rest = marker_filter->finish();
            if (!rest.empty())
                visible.append(ExecChannel::stderr_, rest);
        }
        target.stdout_text = visible.stdout_text();
        target.stderr_text = visible.stderr_text();
        target.output = visible.combined_text();
        target.truncated = visible.truncated();
        target.duration = elapsed_since(started);
    };
    auto fail_with_partial = [&](Error error, Dispatch dispatch) {
        fill(result);
        result.outcome = outcome_of_error(error.kind);
        result.dispatch = dispatch;
        if (marker_filter)
            result.exit_code = marker_filter->exit_code();
        error.dispatch = dispatch;
        error.request_id = result.request_id;
        error.partial = std::make_shared<const CommandResult>(result);
        return error;
    };

    if (!begun.started.ok()) {
        // The stream never opened: a broken stream to run_exec (Error::partial), which may
        // run the command again.
        auto error = std::move(begun.started).error();
        result.request_id = error.request_id;
        const auto dispatch = error.dispatch;
        co_return fail_with_partial(std::move(error), dispatch);
    }
    result.request_id = begun.started->request_id;
    auto streamed =
        co_await run_exec_stream(socket, plan.stdin_data, deadline, raw, plan.stdin_source);
    if (!streamed.ok()) {
        auto error = std::move(streamed).error();
        log(state->logger, LogLevel::debug,
            LogFields{.action = "exec",
                      .sandbox_id = plan.sandbox_id,
                      .request_id = result.request_id,
                      .latency = std::chrono::duration_cast<std::chrono::microseconds>(
                          steady_clock::now() - started),
                      .error_kind = error.kind,
                      .endpoint = socket.endpoint()},
            "exec WebSocket failed: {}", to_string(error.kind));
        if (raw.over_received_limit()) {
            // Without Error::partial: a bound is no broken stream, so it is never run again.
            error.dispatch = Dispatch::accepted;
            error.request_id = result.request_id;
            co_return error;
        }
        if (error.kind == ErrorKind::timeout) {
            error.message = fmt::format("command timed out after {} ms", timeout.count());
        }
        co_return fail_with_partial(std::move(error), Dispatch::accepted);
    }
    fill(result);
    result.exit_code = streamed->exit_code;
    if (marker_filter && marker_filter->exit_code())
        result.exit_code = marker_filter->exit_code();
    classify_exit(result);
    // The close code and the exit code only: the close reason is the service's text.
    if (state->logger.enabled(LogLevel::debug)) {
        log(state->logger, LogLevel::debug,
            LogFields{
                .action = "exec",
                .sandbox_id = plan.sandbox_id,
                .request_id = result.request_id,
                .latency = std::chrono::duration_cast<std::chrono::microseconds>(result.duration),
                .exit_code = result.exit_code,
                .endpoint = socket.endpoint()},
            "exec WebSocket closed (code {}), exit code {}", streamed->close_code,
            result.exit_code ? fmt::to_string(*result.exit_code) : std::string("unknown"));
    }
    co_return result;
}

// Whether a failed run of an idempotent command may simply run again: its stream (or the
// connection to it) broke after ExecContainerCommand succeeded (such errors carry the output so
// far in `partial`; a failed API call was already retried by the API client), so the outcome
// is unknown, but running twice is harmless.
bool rerun_is_safe(const Error& error, const ExecOptions& options) {
    if (!options.sync || !error.partial || error.kind == ErrorKind::cancelled)
        return false;
    // The stream never connected and the command travels on it (stdin): it cannot have run,
    // whatever the command does. Under load an upgrade times out now and then; reporting
    // that as a failure would fail a lifecycle that a second try completes.
    if (error.dispatch == Dispatch::not_sent)
        return true;
    if (!options.idempotent)
        return false;
    // A timeout of the stream's own connect or upgrade step qualifies too; the command's
    // deadline is checked by the caller.
    return error.kind != ErrorKind::cancelled;
}

}  // namespace

asio::awaitable<Result<CommandResult>> run_exec(std::shared_ptr<AsyncEciSandbox::State> state,
                                                ExecPlan plan, ExecOptions options) {
    const auto started = steady_clock::now();
    const auto deadline = started + options.effective_timeout();
    const auto& retry = state->api.config().retry;
    const int attempts = retry.enabled ? std::max(retry.max_attempts, 1) : 1;
    for (int attempt = 1;; ++attempt) {
        auto run = co_await run_exec_once(state, plan, options, deadline);
        if (run.ok() || attempt >= attempts || steady_clock::now() >= deadline ||
            !rerun_is_safe(run.error(), options)) {
            if (run.ok())
                run->duration = elapsed_since(started);
            co_return run;
        }
        // The ExecContainerCommand call itself already retried what it could; here the
        // stream broke after the call. The next run starts from scratch.
        log(state->logger, LogLevel::info,
            LogFields{.action = "exec",
                      .sandbox_id = plan.sandbox_id,
                      .request_id = run.error().request_id,
                      .attempt = attempt,
                      .dispatch = run.error().dispatch,
                      .error_kind = run.error().kind},
            "exec stream broke ({}); running the command again", to_string(run.error().kind));
        if (plan.on_rerun)
            plan.on_rerun();
    }
}

asio::awaitable<Result<CommandResult>> run_script(std::shared_ptr<AsyncEciSandbox::State> state,
                                                  std::string sandbox_id,
                                                  std::string container_name, std::string script,
                                                  std::optional<std::string> stdin_data,
                                                  ExecOptions options,
                                                  std::size_t max_stdout_bytes) {
    ExecPlan plan;
    plan.max_stream_bytes = max_stdout_bytes + script_stderr_limit;
    plan.sandbox_id = std::move(sandbox_id);
    plan.container_name = std::move(container_name);
    // The script travels on stdin, ahead of the caller's bytes: the exec API limits each
    // Command element to 256 characters.
    plan.argv = script_stdin_argv(script.size());
    if (stdin_data)
        script += *stdin_data;
    plan.stdin_data = std::move(script);
    plan.command_on_stdin = true;
    options.sync = true;
    options.stdin_data.reset();
    // stdout is gathered here whole (the collector keeps nothing): a framed reply (a file's
    // base64, a long pane capture) must never lose its head to a tail bound. Its size is
    // bounded instead: the stream ends past max_stdout_bytes (plan.max_stream_bytes).
    std::string stdout_bytes;
    std::string stderr_bytes;
    bool stderr_cut = false;
    options.max_output_bytes = 0;
    plan.on_rerun = [&] {
        stdout_bytes.clear();
        stderr_bytes.clear();
        stderr_cut = false;
    };
    options.on_output = [&](OutputStream stream, std::string_view bytes) {
        if (stream == OutputStream::standard_output) {
            const auto room = max_stdout_bytes - std::min(stdout_bytes.size(), max_stdout_bytes);
            stdout_bytes.append(bytes.substr(0, room));
            return;
        }
        const auto room = script_stderr_limit - std::min(stderr_bytes.size(), script_stderr_limit);
        stderr_cut = stderr_cut || bytes.size() > room;
        stderr_bytes.append(bytes.substr(0, room));
    };
    // Once the awaiting coroutine is cancelled, Asio throws operation_aborted from the next
    // co_await of an operation (throw_if_cancelled) instead of failing it; a script run
    // reports that as the cancelled error every operation promises.
    std::optional<Result<CommandResult>> outcome;
    bool aborted = false;
    try {
        auto exec = run_exec(std::move(state), std::move(plan), std::move(options));
        outcome.emplace(co_await std::move(exec));
    } catch (const boost::system::system_error& thrown) {
        if (thrown.code() != asio::error::operation_aborted)
            throw;
        aborted = true;
    }
    if (aborted || !outcome) {
        auto error = Error::make(ErrorKind::cancelled, "the command was cancelled");
        error.dispatch = Dispatch::unknown;  // it may have started
        co_return error;
    }
    auto run = std::move(*outcome);
    if (!run.ok()) {
        auto error = std::move(run).error();
        if (error.partial) {
            auto partial = *error.partial;
            partial.stdout_text = std::move(stdout_bytes);
            partial.stderr_text = std::move(stderr_bytes);
            partial.truncated = stderr_cut;
            error.partial = std::make_shared<const CommandResult>(std::move(partial));
        }
        co_return error;
    }
    run->stdout_text = std::move(stdout_bytes);
    run->stderr_text = std::move(stderr_bytes);
    run->truncated = stderr_cut;
    co_return run;
}

Error after_exec(Error error, const CommandResult& result) {
    error.request_id = result.request_id;
    error.dispatch = Dispatch::accepted;
    return error;
}

}  // namespace eci::detail
