// SPDX-License-Identifier: Apache-2.0
#include <eci/async_sandbox.hpp>

#include "core/actions.hpp"
#include "core/crypto.hpp"
#include "core/lease.hpp"
#include "core/log.hpp"
#include "core/models_json.hpp"
#include "core/redact.hpp"
#include "core/retry.hpp"
#include "core/sandbox_names.hpp"
#include "core/shell_wrappers.hpp"
#include "net/tls_context.hpp"
#include "sandbox/exec_runner.hpp"
#include "sandbox/running_waits.hpp"
#include "sandbox/sandbox_state.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/serialize.hpp>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <optional>

namespace eci {
namespace asio = boost::asio;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

namespace {

Error invalid(std::string message) {
    return Error::make(ErrorKind::invalid_argument, std::move(message));
}

// Sleeps `duration`; false when the awaiting coroutine was cancelled. The check is made here,
// inside the sleep: once a coroutine is cancelled, Asio throws operation_aborted from its next
// co_await of another coroutine (throw_if_cancelled belongs to the caller), so a separate
// "was I cancelled?" coroutine awaited afterwards would throw instead of answering.
asio::awaitable<bool> sleep_for(milliseconds duration) {
    asio::steady_timer timer(co_await asio::this_coro::executor, duration);
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    auto state = co_await asio::this_coro::cancellation_state;
    co_return state.cancelled() == asio::cancellation_type::none;
}

// The budget of the library's own cleanup and settling calls: the client's per-call budget,
// or 60 s when that is unbounded.
milliseconds cleanup_budget(const ClientConfig& config) {
    const auto budget = config.retry.overall_deadline;
    return budget.count() > 0 ? budget : milliseconds(60000);
}

// Deletes `sandbox_id` until the service confirms it gone (a reply, or NotFound), through
// transient failures, until `deadline`; while the service keeps answering (Throttling, 5xx:
// it is there and will take the delete) until retry.cleanup_deadline from now, when that is
// later. Each round is one call with the client's retries.
asio::awaitable<Result<Receipt>> delete_until_gone(std::shared_ptr<AsyncEciSandbox::State> state,
                                                   std::string sandbox_id, bool force,
                                                   steady_clock::time_point deadline) {
    const auto answering_deadline =
        std::max(deadline, steady_clock::now() + state->api.config().retry.cleanup_deadline);
    const auto call_budget = cleanup_budget(state->api.config());
    auto limit = deadline;
    milliseconds pause(500);
    for (;;) {
        DeleteContainerGroupRequest request;
        request.container_group_id = sandbox_id;
        if (force)
            request.force = true;
        CallOptions call;
        call.deadline =
            std::clamp(std::chrono::duration_cast<milliseconds>(limit - steady_clock::now()),
                       milliseconds(1), std::max(milliseconds(1), call_budget));
        auto reply = co_await state->api.delete_container_group(std::move(request), call);
        if (reply.ok())
            co_return Receipt{reply->request_id};
        // Deleting what is already gone is what the caller wanted.
        if (detail::delete_confirmed(reply.error()))
            co_return Receipt{reply.error().request_id};
        limit = detail::is_retryable_reply(reply.error()) ? answering_deadline : deadline;
        if (!detail::delete_worth_retrying(reply.error()) || steady_clock::now() + pause >= limit)
            co_return std::move(reply).error();
        if (!co_await sleep_for(pause))
            co_return std::move(reply).error();
        pause = std::min(pause * 2, milliseconds(5000));
    }
}

// A create whose outcome is unknown (a reply lost after sending, through every retry): the
// same request again, same ClientToken, returns the sandbox the lost attempt made (or makes
// it); when replays keep failing, a lookup by the sandbox's name finds it. Returns the
// response, or the error saying what may exist.
asio::awaitable<Result<CreateContainerGroupResponse>> settle_create(
    std::shared_ptr<AsyncEciSandbox::State> state, CreateContainerGroupRequest request,
    Error unknown) {
    const auto deadline = steady_clock::now() + cleanup_budget(state->api.config());
    for (int round = 0; round < 3 && steady_clock::now() < deadline; ++round) {
        CallOptions call;
        call.deadline =
            std::max(milliseconds(1),
                     std::chrono::duration_cast<milliseconds>(deadline - steady_clock::now()));
        auto replay = co_await state->api.create_container_group(request, call);
        if (replay.ok())
            co_return replay;
        if (!replay.error().is_retryable() && !detail::outcome_unknown(replay.error()))
            break;  // refused outright: the lookup says whether an earlier attempt made one
        if (!co_await sleep_for(milliseconds(500)))
            break;
    }
    DescribeContainerGroupsRequest lookup;
    lookup.container_group_name = request.container_group_name;
    CallOptions call;
    call.deadline = cleanup_budget(state->api.config());
    auto found = co_await state->api.describe_container_groups(std::move(lookup), call);
    if (!found.ok()) {
        unknown.message = fmt::format(
            "{}; the create's outcome is unknown: a sandbox named {} (ClientToken {}) may exist",
            unknown.message, request.container_group_name, request.client_token);
        co_return unknown;
    }
    std::vector<std::string> ids;
    for (const auto& group : found->container_groups) {
        if (group.container_group_name == request.container_group_name)
            ids.push_back(group.container_group_id);
    }
    if (ids.size() == 1) {
        CreateContainerGroupResponse response;
        response.container_group_id = ids.front();
        response.request_id = found->request_id;
        co_return response;
    }
    if (ids.empty()) {
        unknown.message =
            fmt::format("{}; no sandbox named {} exists: the create was not carried out",
                        unknown.message, request.container_group_name);
        unknown.dispatch = Dispatch::refused;
        co_return unknown;
    }
    unknown.message = fmt::format(
        "{}; the create's outcome is unknown: {} sandboxes are named {} ({}), one may be this "
        "create's",
        unknown.message, ids.size(), request.container_group_name, fmt::join(ids, ", "));
    co_return unknown;
}

}  // namespace

AsyncEciSandbox::AsyncEciSandbox(std::shared_ptr<State> state) : state_(std::move(state)) {}

Result<AsyncEciSandbox> AsyncEciSandbox::from_config(asio::any_io_executor executor,
                                                     ClientConfig config, Logger logger) {
    detail::TlsClientOptions tls;
    tls.verify_peer = config.tls.verify_peer;
    tls.ca_file = config.tls.ca_file;
    detail::ExecWebSocketOptions ws;
    const std::size_t exec_starts = config.rate_limit.max_concurrent_exec_starts;
    // The WebSocket host comes from each ExecContainerCommand reply, so NO_PROXY is matched
    // there (ExecWebSocket::connect), not against the API endpoint.
    ws.proxy_url = config.proxy.https_proxy;
    ws.no_proxy = config.proxy.no_proxy;
    ws.require_tls = config.endpoint.uses_tls();
    // TimeoutConfig::connect bounds resolve + connect + TLS handshake for HTTPS; the same
    // bound applies to each WebSocket phase (0 = no deadline there; a WebSocket keeps its own).
    if (config.timeouts.connect.count() > 0) {
        ws.connect_timeout = config.timeouts.connect;
        ws.handshake_timeout = config.timeouts.connect;
    }
    auto api = OpenApiClient::create(executor, std::move(config), logger);
    if (!api.ok())
        return std::move(api).error();
    auto context = detail::make_client_tls_context(tls);
    if (!context.ok())
        return std::move(context).error();
    auto state =
        std::make_shared<State>(State{std::move(api).value(),
                                      std::move(context).value(),
                                      ws,
                                      std::move(logger),
                                      {},
                                      std::make_unique<detail::AsyncSemaphore>(exec_starts),
                                      {}});
    return AsyncEciSandbox(std::move(state));
}

Result<AsyncEciSandbox> AsyncEciSandbox::from_config(asio::any_io_executor executor,
                                                     const ConfigOverrides& overrides,
                                                     Logger logger) {
    auto config = load_config(overrides);
    if (!config.ok())
        return std::move(config).error();
    return from_config(std::move(executor), std::move(config).value(), std::move(logger));
}

const OpenApiClient& AsyncEciSandbox::api() const noexcept {
    return state_->api;
}

asio::any_io_executor AsyncEciSandbox::get_executor() const noexcept {
    return state_->api.get_executor();
}

asio::awaitable<Result<AsyncSandbox>> AsyncEciSandbox::create(CreateOptions options) {
    if (options.image.empty())
        co_return invalid("image is required");
    if (options.container_name.empty())
        co_return invalid("container_name is required");
    const auto name = detail::normalize_sandbox_name(options.name, detail::random_name_suffix());

    ContainerSpec container;
    container.name = options.container_name;
    container.image = options.image;
    container.cpu = options.cpu;
    container.memory = options.memory;
    container.commands = options.command;  // an empty list is simply not sent
    container.args = options.args;
    container.environment_vars = options.env;
    container.ports = options.ports;

    CreateContainerGroupRequest request;
    request.container_group_name = name;
    request.containers.push_back(std::move(container));
    request.cpu = options.cpu;
    request.memory = options.memory;
    request.restart_policy = options.restart_policy;
    // Leak prevention (docs/leases.md): owner, lease and creator tags, and the service's own
    // backstop, ActiveDeadlineSeconds, when the sandbox has a lease.
    const auto& lease_config = state_->api.config().lease;
    const auto lease = options.lease ? options.lease : std::optional(lease_config.default_lease);
    if (options.lease && options.lease->count() < 0)
        co_return invalid("lease must not be negative (eci::no_lease, 0, means none)");
    auto tags = detail::with_lease_tags(options.tags, lease_config, lease,
                                        std::chrono::system_clock::now());
    if (!tags.ok())
        co_return std::move(tags).error();
    request.tags = std::move(tags).value();
    if (!options.active_deadline_seconds && lease && lease->count() > 0)
        options.active_deadline_seconds = lease->count();
    request.v_switch_id = options.v_switch_id;
    request.security_group_id = options.security_group_id;
    request.zone_id = options.zone_id;
    request.instance_type = options.instance_type;
    // Generated here, not by the API client, so a settling replay carries the same token.
    request.client_token = options.client_token;
    if (request.client_token.empty()) {
        auto token = detail::random_hex(16);
        if (token.ok())
            request.client_token = std::move(token).value();
    }
    request.active_deadline_seconds = options.active_deadline_seconds;
    if (options.auto_create_eip)
        request.auto_create_eip = true;
    request.eip_bandwidth = options.eip_bandwidth;
    request.eip_instance_id = options.eip_instance_id;

    auto reply = co_await state_->api.create_container_group(request);
    // After a cancellation every co_await of another coroutine throws (throw_if_cancelled,
    // checked in this frame: a helper coroutine could not do it), yet the cleanup below must
    // still run: it gets a fresh cancellation state (a new cancellation still ends it) and
    // results instead of exceptions; the caller's setting is restored afterwards.
    const bool throws_if_cancelled = co_await asio::this_coro::throw_if_cancelled();
    if (!reply.ok() && detail::outcome_unknown(reply.error())) {
        // Not returned as is: a sandbox may exist that nobody knows of.
        const bool cancelled = reply.error().kind == ErrorKind::cancelled;
        if (cancelled) {
            co_await asio::this_coro::reset_cancellation_state();
            co_await asio::this_coro::throw_if_cancelled(false);
        }
        auto error = reply.error();
        reply = co_await settle_create(state_, request, std::move(error));
        if (reply.ok() && cancelled) {
            // The caller gave up on this create: what it made is deleted, not handed over.
            auto cancelled_error = Error::make(ErrorKind::cancelled, "create was cancelled");
            cancelled_error.sandbox_id = reply->container_group_id;
            auto removed = co_await delete_until_gone(
                state_, reply->container_group_id, false,
                steady_clock::now() + cleanup_budget(state_->api.config()));
            cancelled_error.sandbox_deleted = removed.ok();
            co_await asio::this_coro::throw_if_cancelled(throws_if_cancelled);
            co_return cancelled_error;
        }
        co_await asio::this_coro::throw_if_cancelled(throws_if_cancelled);
    }
    if (!reply.ok())
        co_return std::move(reply).error();
    if (reply->container_group_id.empty()) {
        auto error = Error::make(ErrorKind::protocol, "ContainerGroupId not found in response");
        error.request_id = reply->request_id;
        co_return error;
    }
    state_->container_names[reply->container_group_id] = options.container_name;
    if (state_->logger.enabled(LogLevel::info)) {  // the lease text is built only when logged
        detail::log(state_->logger, LogLevel::info,
                    LogFields{.action = detail::create_container_group.name,
                              .sandbox_id = reply->container_group_id,
                              .request_id = reply->request_id},
                    "sandbox {} created (lease {})", reply->container_group_id,
                    lease && lease->count() > 0 ? fmt::format("{} s", lease->count())
                                                : std::string("never"));
    }
    AsyncSandbox sandbox(*this, reply->container_group_id, options.container_name);
    if (options.wait_until_running) {
        auto running = co_await wait_until_running(sandbox.id(), options.wait_timeout);
        if (!running.ok()) {
            auto error = std::move(running).error();
            error.sandbox_id = sandbox.id();
            if (detail::on_failed_wait(options.keep_on_failure) ==
                detail::FailedCreateAction::keep) {
                error.message = fmt::format("sandbox {} was created but did not start (kept): {}",
                                            sandbox.id(), error.message);
                co_return error;
            }
            const auto cancellation = co_await asio::this_coro::cancellation_state;
            const bool cancelled = cancellation.cancelled() != asio::cancellation_type::none;
            if (cancelled) {
                co_await asio::this_coro::reset_cancellation_state();
                co_await asio::this_coro::throw_if_cancelled(false);
            }
            auto removed = co_await delete_until_gone(
                state_, sandbox.id(), false,
                steady_clock::now() + cleanup_budget(state_->api.config()));
            co_await asio::this_coro::throw_if_cancelled(throws_if_cancelled);
            state_->container_names.erase(sandbox.id());
            error.sandbox_deleted = removed.ok();
            error.message =
                removed.ok() ? fmt::format("sandbox {} was created but did not start (deleted): {}",
                                           sandbox.id(), error.message)
                             : fmt::format(
                                   "sandbox {} was created but did not start, and deleting it "
                                   "failed ({}): {}",
                                   sandbox.id(), removed.error().message, error.message);
            co_return error;
        }
    }
    co_return sandbox;
}

asio::awaitable<Result<SandboxInfo>> AsyncEciSandbox::get_sandbox(std::string sandbox_id) {
    if (sandbox_id.empty())
        co_return invalid("sandbox_id is required");
    DescribeContainerGroupsRequest request;
    request.container_group_ids.push_back(sandbox_id);
    request.with_event = true;
    auto reply = co_await state_->api.describe_container_groups(std::move(request));
    if (!reply.ok())
        co_return std::move(reply).error();
    if (reply->container_groups.empty()) {
        auto error =
            Error::make(ErrorKind::not_found, fmt::format("sandbox {} not found", sandbox_id));
        error.request_id = reply->request_id;
        co_return error;
    }
    auto info = SandboxInfo::from_group(std::move(reply->container_groups.front()));
    info.request_id = reply->request_id;
    if (!info.containers.empty()) {
        state_->container_names[info.sandbox_id] = info.containers.front().name;
    }
    co_return info;
}

asio::awaitable<Result<AsyncSandbox>> AsyncEciSandbox::get(std::string sandbox_id) {
    auto info = co_await get_sandbox(sandbox_id);
    if (!info.ok())
        co_return std::move(info).error();
    std::string container = info->containers.empty() ? std::string() : info->containers[0].name;
    co_return AsyncSandbox(*this, std::move(sandbox_id), std::move(container));
}

asio::awaitable<Result<ListPage>> AsyncEciSandbox::list(ListOptions options) {
    const int limit = std::clamp(options.limit, 1, 20);
    DescribeContainerGroupsRequest request;
    request.limit = limit;
    request.next_token = options.next_token;
    request.status = options.status;
    request.container_group_name = options.name;
    request.security_group_id = options.security_group_id;
    request.v_switch_id = options.v_switch_id;
    request.tags = options.tags;
    auto reply = co_await state_->api.describe_container_groups(std::move(request));
    if (!reply.ok())
        co_return std::move(reply).error();
    ListPage page;
    page.request_id = reply->request_id;
    page.next_token = reply->next_token;
    page.total_count = reply->total_count;
    page.max_results = limit;
    for (auto& group : reply->container_groups) {
        if (group.container_group_id.empty())
            continue;
        page.sandbox_ids.push_back(group.container_group_id);
        auto info = SandboxInfo::from_group(std::move(group));
        info.request_id = reply->request_id;
        page.sandboxes.push_back(std::move(info));
    }
    co_return page;
}

asio::awaitable<Result<ListSummary>> AsyncEciSandbox::list_pages(ListOptions options,
                                                                 ListPageHandler handler) {
    // A service that kept returning new tokens would be followed for ever: bounded by
    // ListOptions::max_pages. Each page goes to the handler before the next is asked for, so
    // nothing here grows with the listing.
    const int max_pages = std::max(options.max_pages, 1);
    ListSummary summary;
    while (summary.pages < max_pages) {
        auto page = co_await list(options);
        if (!page.ok())
            co_return std::move(page).error();
        ++summary.pages;
        summary.sandboxes += page->sandboxes.size();
        summary.request_id = page->request_id;
        // A token equal to the one asked with would fetch the same page again: the end.
        const bool last = page->next_token.empty() || page->next_token == options.next_token;
        summary.next_token = last ? std::string() : page->next_token;
        options.next_token = summary.next_token;
        if (!handler(std::move(*page))) {
            summary.stopped = true;
            co_return summary;
        }
        if (last)
            co_return summary;
    }
    auto error = Error::make(ErrorKind::protocol,
                             fmt::format("listing did not end within {} pages "
                                         "(ListOptions::max_pages); narrow the filters or raise "
                                         "the bound",
                                         max_pages));
    error.request_id = summary.request_id;
    co_return error;
}

asio::awaitable<Result<std::vector<SandboxInfo>>> AsyncEciSandbox::list_all(ListOptions options) {
    // Fat pages would be kept until memory ran out: bounded by ListOptions::max_bytes.
    std::vector<SandboxInfo> all;
    std::optional<Error> over;
    std::size_t kept_bytes = 0;
    int pages = 0;
    const std::size_t max_bytes = options.max_bytes;
    // A named handler: GCC 12 miscompiles a class-type temporary inside a co_await.
    ListPageHandler keep = [&](ListPage page) {
        ++pages;
        for (auto& info : page.sandboxes) {
            kept_bytes += boost::json::serialize(detail::to_json(info.group)).size();
            if (kept_bytes > max_bytes) {
                over = Error::make(
                    ErrorKind::protocol,
                    fmt::format("listing passed {} bytes after {} pages (ListOptions::max_bytes); "
                                "narrow the filters or raise the bound",
                                max_bytes, pages));
                over->request_id = page.request_id;
                return false;
            }
            all.push_back(std::move(info));
        }
        return true;
    };
    auto listed = co_await list_pages(std::move(options), std::move(keep));
    if (over)
        co_return std::move(*over);
    if (!listed.ok())
        co_return std::move(listed).error();
    co_return all;
}

asio::awaitable<Result<Receipt>> AsyncEciSandbox::remove(std::string sandbox_id, bool force) {
    if (sandbox_id.empty())
        co_return invalid("sandbox_id is required");
    const auto started = steady_clock::now();
    auto removed = co_await delete_until_gone(
        state_, sandbox_id, force, steady_clock::now() + cleanup_budget(state_->api.config()));
    state_->container_names.erase(sandbox_id);
    if (removed.ok()) {
        detail::log(state_->logger, LogLevel::info,
                    LogFields{.action = detail::delete_container_group.name,
                              .sandbox_id = sandbox_id,
                              .request_id = removed->request_id,
                              .latency = std::chrono::duration_cast<std::chrono::microseconds>(
                                  steady_clock::now() - started)},
                    "sandbox {} deleted", sandbox_id);
    }
    co_return removed;
}

asio::awaitable<Result<Receipt>> AsyncEciSandbox::restart(std::string sandbox_id) {
    if (sandbox_id.empty())
        co_return invalid("sandbox_id is required");
    RestartContainerGroupRequest request;
    request.container_group_id = sandbox_id;
    auto reply = co_await state_->api.restart_container_group(std::move(request));
    if (!reply.ok())
        co_return std::move(reply).error();
    co_return Receipt{reply->request_id};
}

asio::awaitable<Result<SandboxInfo>> AsyncEciSandbox::wait_until_running(std::string sandbox_id,
                                                                         milliseconds timeout) {
    if (sandbox_id.empty())
        co_return invalid("sandbox_id is required");
    const auto started = steady_clock::now();
    auto running = co_await detail::wait_running_shared(state_, sandbox_id, timeout);
    if (running.ok()) {
        detail::log(state_->logger, LogLevel::debug,
                    LogFields{.sandbox_id = sandbox_id,
                              .request_id = running->request_id,
                              .latency = std::chrono::duration_cast<std::chrono::microseconds>(
                                  steady_clock::now() - started)},
                    "sandbox {} is Running", sandbox_id);
    }
    co_return running;
}

namespace {

// The shared start of exec_command, bash and bash_ws: the required arguments, and the plan
// addressed to the sandbox's container (given, remembered, or learned by one describe).
asio::awaitable<Result<detail::ExecPlan>> start_plan(std::shared_ptr<AsyncEciSandbox::State> state,
                                                     std::string sandbox_id, bool has_command,
                                                     std::string container_name) {
    if (sandbox_id.empty())
        co_return invalid("sandbox_id is required");
    if (!has_command)
        co_return invalid("command is required");
    auto container =
        co_await detail::resolve_container_name(state, sandbox_id, std::move(container_name));
    if (!container.ok())
        co_return std::move(container).error();
    detail::ExecPlan plan;
    plan.sandbox_id = std::move(sandbox_id);
    plan.container_name = std::move(container).value();
    co_return plan;
}

}  // namespace

asio::awaitable<Result<CommandResult>> AsyncEciSandbox::exec_command(std::string sandbox_id,
                                                                     std::vector<std::string> argv,
                                                                     ExecCommandOptions options) {
    auto started =
        co_await start_plan(state_, std::move(sandbox_id), !argv.empty(), options.container_name);
    if (!started.ok())
        co_return std::move(started).error();
    auto plan = std::move(started).value();
    // The exit status travels as a marker line on stderr, as for bash: the service's exec
    // stream may carry no status at all. With a TTY stderr is merged into stdout, and without
    // sync nothing reads the stream, so those run argv as given.
    if (!options.raw_argv && !options.tty && options.sync) {
        plan.exit_marker = detail::new_exit_marker();
        std::optional<std::size_t> input_bytes;
        if (options.stdin_data)
            input_bytes = options.stdin_data->size();
        plan.argv = detail::exit_status_argv(argv, plan.exit_marker, options.exec_dir, input_bytes);
    } else {
        // The directory change lives in the wrapper; a bare argv has nowhere to put it.
        if (!options.exec_dir.empty())
            co_return invalid(
                "exec_dir needs the exit-status wrapper (not raw_argv, tty or "
                "sync=false)");
        plan.argv = std::move(argv);
    }
    plan.stdin_data = std::move(options.stdin_data);
    plan.tty = options.tty;
    co_return co_await detail::run_exec(state_, std::move(plan), std::move(options));
}

asio::awaitable<Result<CommandResult>> AsyncEciSandbox::bash(std::string sandbox_id,
                                                             std::string command,
                                                             ExecOptions options) {
    auto started = co_await start_plan(state_, std::move(sandbox_id), !command.empty(),
                                       options.container_name);
    if (!started.ok())
        co_return std::move(started).error();
    auto plan = std::move(started).value();
    const auto script = detail::with_exec_dir(command, options.exec_dir);
    plan.exit_marker = detail::new_exit_marker();
    plan.argv = detail::bash_base64_argv(script, plan.exit_marker);
    if (options.stdin_data) {
        // The caller's input follows the script on stdin; the command reads exactly those
        // bytes, then end-of-input.
        if (!options.sync)
            co_return invalid(
                "bash with stdin_data needs sync=true (the input is sent on the "
                "attached stream)");
        plan.argv =
            detail::bash_stdin_argv(script.size(), plan.exit_marker, options.stdin_data->size());
        plan.stdin_data = script + *options.stdin_data;
        plan.command_on_stdin = true;
    } else if (plan.argv.back().size() > detail::exec_command_element_limit) {
        // Too long for one Command element: the script travels on stdin instead, which
        // needs an attached stream.
        if (!options.sync)
            co_return invalid(fmt::format(
                "bash with sync=false: the wrapped command is {} bytes, over the {}-character "
                "limit of one Command element, and a longer one must be sent on stdin (sync=true)",
                plan.argv.back().size(), detail::exec_command_element_limit));
        plan.argv = detail::bash_stdin_argv(script.size(), plan.exit_marker);
        plan.stdin_data = script;
        plan.command_on_stdin = true;
    }
    options.stdin_data.reset();
    co_return co_await detail::run_exec(state_, std::move(plan), std::move(options));
}

asio::awaitable<Result<CommandResult>> AsyncEciSandbox::bash_ws(std::string sandbox_id,
                                                                std::string command,
                                                                ExecOptions options) {
    // The command travels on the shell's stdin and its output is read: no room for the
    // caller's stdin bytes, nor for not attaching (both were ignored before 0.2).
    if (options.stdin_data)
        co_return invalid(
            "bash_ws feeds the command on stdin, so it takes no stdin_data (use bash)");
    if (!options.sync)
        co_return invalid(
            "bash_ws reads the command's output: sync=false is not possible (use bash)");
    auto started = co_await start_plan(state_, std::move(sandbox_id), !command.empty(),
                                       options.container_name);
    if (!started.ok())
        co_return std::move(started).error();
    auto plan = std::move(started).value();
    plan.exit_marker = detail::new_exit_marker();
    plan.argv = {"bash", "-l"};
    plan.stdin_data =
        detail::bash_ws_script(detail::with_exec_dir(command, options.exec_dir), plan.exit_marker);
    plan.command_on_stdin = true;
    co_return co_await detail::run_exec(state_, std::move(plan), std::move(options));
}

// ---------------------------------------------------------------------------------------
// The handle.

AsyncSandbox::AsyncSandbox(AsyncEciSandbox client, std::string sandbox_id,
                           std::string container_name)
    : client_(std::move(client)),
      sandbox_id_(std::move(sandbox_id)),
      container_name_(std::move(container_name)) {}

ExecOptions AsyncSandbox::with_container(ExecOptions options) const {
    if (options.container_name.empty())
        options.container_name = container_name_;
    return options;
}

ExecCommandOptions AsyncSandbox::with_container(ExecCommandOptions options) const {
    if (options.container_name.empty())
        options.container_name = container_name_;
    return options;
}

asio::awaitable<Result<SandboxInfo>> AsyncSandbox::info() {
    return client_.get_sandbox(sandbox_id_);
}
asio::awaitable<Result<Receipt>> AsyncSandbox::remove(bool force) {
    return client_.remove(sandbox_id_, force);
}
asio::awaitable<Result<Receipt>> AsyncSandbox::restart() {
    return client_.restart(sandbox_id_);
}
asio::awaitable<Result<SandboxInfo>> AsyncSandbox::wait_until_running(milliseconds timeout) {
    return client_.wait_until_running(sandbox_id_, timeout);
}
asio::awaitable<Result<CommandResult>> AsyncSandbox::exec_command(std::vector<std::string> argv,
                                                                  ExecCommandOptions options) {
    return client_.exec_command(sandbox_id_, std::move(argv), with_container(std::move(options)));
}
asio::awaitable<Result<CommandResult>> AsyncSandbox::bash(std::string command,
                                                          ExecOptions options) {
    return client_.bash(sandbox_id_, std::move(command), with_container(std::move(options)));
}
asio::awaitable<Result<CommandResult>> AsyncSandbox::bash_ws(std::string command,
                                                             ExecOptions options) {
    return client_.bash_ws(sandbox_id_, std::move(command), with_container(std::move(options)));
}

}  // namespace eci
