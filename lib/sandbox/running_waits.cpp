// SPDX-License-Identifier: Apache-2.0
#include "sandbox/running_waits.hpp"

#include "core/poll_batch.hpp"
#include "core/redact.hpp"
#include "sandbox/sandbox_state.hpp"

#include <fmt/format.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <map>
#include <optional>

namespace eci::detail {

namespace asio = boost::asio;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

namespace {

// One caller of wait_running_shared, on its own coroutine frame: woken by cancelling `wake`
// once `outcome` is set, or by `wake` expiring at its deadline.
struct Waiter {
    explicit Waiter(asio::any_io_executor executor, steady_clock::time_point deadline)
        : wake(std::move(executor), deadline) {}
    asio::steady_timer wake;
    std::optional<Result<SandboxInfo>> outcome;
    std::string last_status;
};

// Why a group failed to start, in the service's words: the last Warning event, else the
// first container's state reason and message.
std::string failure_reason(const ContainerGroup& group) {
    for (auto it = group.events.rbegin(); it != group.events.rend(); ++it) {
        if (it->type == "Warning" && (!it->reason.empty() || !it->message.empty()))
            return fmt::format("{}: {}", it->reason, it->message);
    }
    for (const auto& container : group.containers) {
        const auto& state = container.current_state;
        if (!state.reason.empty() || !state.message.empty())
            return fmt::format("{}: {}", state.reason, state.message);
    }
    return "no reason reported";
}

}  // namespace

// Owned by the client's state; touched only on the client's executor.
struct RunningWaits {
    PollSchedule schedule;
    std::multimap<std::string, Waiter*, std::less<>> waiters;
    std::optional<asio::steady_timer> runner_timer;  ///< set while the runner is alive
};

namespace {

using ClientState = AsyncEciSandbox::State;

RunningWaits& waits_of(ClientState& state) {
    if (!state.running_waits)
        state.running_waits = std::make_shared<RunningWaits>();
    return *state.running_waits;
}

// Hands `outcome` to every waiter of `id` and forgets the id.
void deliver(RunningWaits& waits, const std::string& id, const Result<SandboxInfo>& outcome) {
    auto [first, last] = waits.waiters.equal_range(id);
    for (auto it = first; it != last; ++it) {
        it->second->outcome = outcome;
        it->second->wake.cancel();
    }
    waits.waiters.erase(first, last);
    waits.schedule.erase(id);
}

asio::awaitable<void> run_waits(std::shared_ptr<ClientState> state);

// Wakes the runner to look at the schedule again, or starts it.
void poke(const std::shared_ptr<ClientState>& state, const asio::any_io_executor& executor) {
    auto& waits = waits_of(*state);
    if (waits.runner_timer) {
        waits.runner_timer->cancel();
        return;
    }
    waits.runner_timer.emplace(executor);
    asio::co_spawn(executor, run_waits(state), asio::detached);
}

Error terminal_error(const SandboxInfo& info) {
    auto error = Error::make(
        ErrorKind::service,
        fmt::format("sandbox {} reached {} instead of Running", info.sandbox_id, info.status));
    error.code = info.status;
    error.service_message = redact_secrets(failure_reason(info.group));
    error.request_id = info.request_id;
    return error;
}

// One DescribeContainerGroups for `ids`, and what it says to each of their waiters.
asio::awaitable<void> describe_batch(std::shared_ptr<ClientState> state,
                                     std::vector<std::string> ids) {
    DescribeContainerGroupsRequest request;
    request.container_group_ids = ids;
    request.with_event = true;
    request.limit = static_cast<int>(ids.size());
    auto reply = co_await state->api.describe_container_groups(std::move(request));
    auto executor = co_await asio::this_coro::executor;
    auto& waits = waits_of(*state);
    const auto now = steady_clock::now();
    if (!reply.ok() && reply.error().kind == ErrorKind::not_found && ids.size() > 1) {
        // The service may answer InvalidParameter.NotFound for a list holding one unknown id
        // (docs/eci-api notes): ask for each alone, so one gone sandbox fails only its own wait.
        for (auto& id : ids) {
            if (waits.schedule.contains(id))
                asio::co_spawn(executor, describe_batch(state, {id}), asio::detached);
        }
        co_return;
    }
    for (const auto& id : ids) {
        auto entry = waits.schedule.find(id);
        if (entry == waits.schedule.end())
            continue;  // every waiter of it left (deadline or cancellation)
        if (!waits.waiters.contains(id)) {
            waits.schedule.erase(entry);
            continue;
        }
        if (!reply.ok()) {
            deliver(waits, id, reply.error());
            continue;
        }
        const ContainerGroup* found = nullptr;
        for (const auto& group : reply->container_groups) {
            if (group.container_group_id == id)
                found = &group;
        }
        if (found == nullptr) {
            auto error = Error::make(ErrorKind::not_found, fmt::format("sandbox {} not found", id));
            error.request_id = reply->request_id;
            deliver(waits, id, error);
            continue;
        }
        auto info = SandboxInfo::from_group(*found);
        info.request_id = reply->request_id;
        if (!info.containers.empty())
            state->container_names[info.sandbox_id] = info.containers.front().name;
        if (info.status == status::running) {
            deliver(waits, id, info);
        } else if (is_terminal_status(info.status)) {
            deliver(waits, id, terminal_error(info));
        } else {
            auto [first, last] = waits.waiters.equal_range(id);
            for (auto it = first; it != last; ++it)
                it->second->last_status = info.status;
            reschedule_poll(entry->second, now);
        }
    }
    poke(state, executor);
}

// Describes every due batch, then sleeps until the next sandbox is due or a waiter arrives;
// ends when no sandbox is waiting (the next waiter starts it again).
asio::awaitable<void> run_waits(std::shared_ptr<ClientState> state) {
    auto executor = co_await asio::this_coro::executor;
    auto& waits = waits_of(*state);
    while (!waits.schedule.empty()) {
        for (;;) {
            auto batch = pick_poll_batch(waits.schedule, steady_clock::now());
            if (batch.empty())
                break;
            asio::co_spawn(executor, describe_batch(state, std::move(batch)), asio::detached);
        }
        const auto due = next_poll_due(waits.schedule);
        waits.runner_timer->expires_at(due ? *due : steady_clock::time_point::max());
        co_await waits.runner_timer->async_wait(asio::as_tuple(asio::use_awaitable));
    }
    waits.runner_timer.reset();
}

}  // namespace

asio::awaitable<Result<SandboxInfo>> wait_running_shared(std::shared_ptr<ClientState> state,
                                                         std::string sandbox_id,
                                                         milliseconds timeout) {
    auto executor = co_await asio::this_coro::executor;
    const auto now = steady_clock::now();
    Waiter waiter(executor, now + timeout);
    auto& waits = waits_of(*state);
    // A sandbox already waited for keeps its schedule: the new waiter shares its polls.
    waits.schedule.try_emplace(sandbox_id, PollEntry{now, milliseconds(100), false});
    auto registered = waits.waiters.emplace(sandbox_id, &waiter);
    poke(state, executor);

    co_await waiter.wake.async_wait(asio::as_tuple(asio::use_awaitable));
    if (waiter.outcome)
        co_return std::move(*waiter.outcome);
    // Still registered: leave, and take the sandbox off the schedule if no one else waits.
    waits.waiters.erase(registered);
    if (!waits.waiters.contains(sandbox_id)) {
        auto entry = waits.schedule.find(sandbox_id);
        if (entry != waits.schedule.end() && !entry->second.in_flight)
            waits.schedule.erase(entry);
    }
    poke(state, executor);  // so a runner with nothing left to poll ends
    auto cancellation = co_await asio::this_coro::cancellation_state;
    if (cancellation.cancelled() != asio::cancellation_type::none)
        co_return Error::make(ErrorKind::cancelled, "wait_until_running was cancelled");
    co_return Error::make(
        ErrorKind::timeout,
        fmt::format(
            "sandbox {} not Running after {} ms (status {})", sandbox_id, timeout.count(),
            waiter.last_status.empty() ? "unknown: no describe answered yet" : waiter.last_status));
}

}  // namespace eci::detail
