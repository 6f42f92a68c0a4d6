// SPDX-License-Identifier: Apache-2.0
// The sandbox pool (include/eci/sandbox_pool.hpp, docs/pool.md). All of the pool's state lives
// in one PoolCore touched only on the client's executor: the handles' returns are posted there,
// so no lock is needed. Waiting coroutines (acquires, shutdown) sleep on their own timer,
// registered in `wakeups`; every change of state cancels those timers and they look again.
#include <eci/sandbox_pool.hpp>

#include "core/lease.hpp"
#include "net/coroutine_support.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>

#include <fmt/format.h>

#include <deque>
#include <list>
#include <map>

namespace eci {
namespace asio = boost::asio;
using std::chrono::steady_clock;

namespace detail {

/// A create in flight: how shutdown cancels it, and whether its coroutine is past the point
/// where that still means anything (then the signal must not be emitted any more).
struct CreateTask {
    asio::cancellation_signal signal;
    bool finished = false;
};

namespace {

asio::awaitable<void> run_create(std::shared_ptr<PoolCore> core, std::shared_ptr<CreateTask> task);
asio::awaitable<void> run_delete(std::shared_ptr<PoolCore> core, AsyncSandbox sandbox);

}  // namespace

/// One pooled sandbox and when its lease ends on this process's clock (measured from the
/// start of its create, so never later than the lease tag says).
struct PoolEntry {
    AsyncSandbox sandbox;
    steady_clock::time_point lease_ends;
};

struct PoolCore : std::enable_shared_from_this<PoolCore> {
    PoolCore(AsyncEciSandbox client_in, PoolOptions options_in)
        : client(std::move(client_in)), options(std::move(options_in)) {}

    AsyncEciSandbox client;
    PoolOptions options;
    std::deque<PoolEntry> idle;
    /// Handed out, or reserved by an acquire while it checks health; by id.
    std::map<std::string, PoolEntry, std::less<>> in_use;
    std::size_t creating = 0;  ///< creates in flight or in their retry delay
    std::size_t deleting = 0;
    std::size_t waiting = 0;  ///< acquires waiting for a sandbox
    bool running = false;
    bool stopped = false;
    std::uint64_t names = 0;
    PoolStats counters;
    std::optional<Error> last_create_error;
    PoolShutdownReport report;
    std::list<asio::steady_timer*> wakeups;   ///< waiting coroutines; cancelled on every change
    std::list<asio::steady_timer*> backoffs;  ///< creates in their retry delay; cut by shutdown
    /// One per create in flight; shutdown emits terminal cancellation on each.
    std::list<std::shared_ptr<CreateTask>> create_tasks;

    /// Wakes every waiting coroutine to look at the state again.
    void notify() {
        for (auto* timer : wakeups)
            timer->cancel();
    }

    bool lease_ending(const PoolEntry& entry) const {
        return steady_clock::now() + options.lease_margin >= entry.lease_ends;
    }

    /// Starts creates until idle + creating reaches what is wanted: min_idle (once running) plus
    /// one per waiting acquire, within max_size.
    void refill() {
        if (stopped)
            return;
        const std::size_t wanted = (running ? options.min_idle : 0) + waiting;
        const std::size_t room =
            options.max_size > in_use.size() ? options.max_size - in_use.size() : 0;
        const std::size_t target = std::min(wanted, room);
        for (std::size_t have = idle.size() + creating; have < target; ++have) {
            ++creating;
            // Each create can be cancelled by shutdown (a create deletes what it made when
            // cancelled), so shutdown does not wait out a slow start. A signal must outlive
            // its operation, and co_spawn's own frame still refers to the slot while the
            // completion handler runs: the signal is dropped by a handler posted from there.
            auto task = std::make_shared<CreateTask>();
            const auto registered = create_tasks.insert(create_tasks.end(), task);
            asio::co_spawn(
                client.get_executor(), run_create(shared_from_this(), task),
                asio::bind_cancellation_slot(task->signal.slot(), [core = shared_from_this(),
                                                                   registered](std::exception_ptr) {
                    asio::post(core->client.get_executor(),
                               [core, registered]() { core->create_tasks.erase(registered); });
                }));
        }
    }

    /// Deletes a sandbox in the background (counted in `deleting`, which shutdown waits for).
    void retire(AsyncSandbox sandbox) {
        ++deleting;
        asio::co_spawn(client.get_executor(), run_delete(shared_from_this(), std::move(sandbox)),
                       asio::detached);
    }

    /// A handle came back (posted by its destructor).
    void give_back(const std::string& id, bool broken) {
        const auto found = in_use.find(id);
        if (found == in_use.end())
            return;  // shutdown deleted it already
        PoolEntry entry = std::move(found->second);
        in_use.erase(found);
        if (stopped || broken || options.on_return == ReturnPolicy::delete_and_replace ||
            lease_ending(entry))
            retire(std::move(entry.sandbox));
        else
            idle.push_back(std::move(entry));
        notify();
        refill();
    }

    /// The handle for a sandbox leaving the pool (PooledSandbox's constructor is private).
    static PooledSandbox hand_out(std::shared_ptr<PoolCore> core, AsyncSandbox sandbox) {
        return PooledSandbox(std::move(core), std::move(sandbox));
    }

    PoolStats snapshot() const {
        PoolStats stats = counters;
        stats.idle = idle.size();
        stats.in_use = in_use.size();
        stats.creating = creating;
        stats.deleting = deleting;
        return stats;
    }
};

namespace {

asio::awaitable<void> run_create(std::shared_ptr<PoolCore> core, std::shared_ptr<CreateTask> task) {
    // A cancellation (shutdown) must come back as create's result, never as an exception that
    // would skip the bookkeeping below.
    co_await asio::this_coro::throw_if_cancelled(false);
    CreateOptions create = core->options.create;
    if (!create.name.empty())
        create.name = fmt::format("{}-{}", create.name, ++core->names);
    const auto started = steady_clock::now();
    const auto lease = create.lease.value_or(std::chrono::seconds(0));
    const std::string container_name = create.container_name;
    auto made = co_await core->client.create(std::move(create));
    if (!made.ok()) {
        ++core->counters.create_failures;
        const auto& error = made.error();
        if (!error.sandbox_id.empty() && !error.sandbox_deleted) {
            // The create made a sandbox and could not delete it: it is still the pool's.
            core->retire(AsyncSandbox(core->client, error.sandbox_id, container_name));
        }
        if (error.kind != ErrorKind::cancelled || !core->stopped)
            core->last_create_error = error;
        if (!core->stopped && core->options.create_retry_delay.count() > 0) {
            // Still counted in `creating`, so refill() does not start this slot again at once.
            asio::steady_timer delay(core->client.get_executor(), core->options.create_retry_delay);
            const auto registered = core->backoffs.insert(core->backoffs.end(), &delay);
            (void)co_await delay.async_wait(use_tuple);
            core->backoffs.erase(registered);
        }
        task->finished = true;
        --core->creating;
        core->notify();
        core->refill();
        co_return;
    }
    task->finished = true;
    --core->creating;
    ++core->counters.created;
    PoolEntry entry{std::move(made).value(), started + lease};
    if (core->stopped)
        core->retire(std::move(entry.sandbox));
    else
        core->idle.push_back(std::move(entry));
    core->notify();
    core->refill();
}

asio::awaitable<void> run_delete(std::shared_ptr<PoolCore> core, AsyncSandbox sandbox) {
    auto removed = co_await sandbox.remove(true);
    --core->deleting;
    if (removed.ok()) {
        ++core->counters.deleted;
        if (core->stopped)
            core->report.deleted.push_back(sandbox.id());
    } else {
        ++core->counters.delete_failures;
        core->report.failed.push_back(PoolDeleteFailure{sandbox.id(), std::move(removed).error()});
    }
    core->notify();
}

/// Whether a described sandbox may be handed out: Running, and its lease tag (when it has one)
/// not ending within the margin.
bool healthy(const PoolCore& core, const SandboxInfo& info) {
    if (info.status != status::running)
        return false;
    const auto horizon = std::chrono::system_clock::now() + core.options.lease_margin;
    const std::function<bool(const ProcessIdentity&)> alive = [](const ProcessIdentity&) {
        return true;
    };
    const auto reason = reap_reason(info.group.tags, "", true, false, horizon, alive);
    return reason != ReapReason::lease_expired;
}

asio::awaitable<Result<PooledSandbox>> acquire_from(std::shared_ptr<PoolCore> core,
                                                    std::chrono::milliseconds timeout) {
    const auto deadline = steady_clock::now() + timeout;
    for (;;) {
        if (core->stopped)
            co_return Error::make(ErrorKind::cancelled, "sandbox pool: shut down");
        while (!core->idle.empty()) {
            PoolEntry entry = std::move(core->idle.front());
            core->idle.pop_front();
            if (core->lease_ending(entry)) {
                ++core->counters.replaced_unhealthy;
                core->retire(std::move(entry.sandbox));
                core->refill();
                continue;
            }
            const std::string id = entry.sandbox.id();
            AsyncSandbox sandbox = entry.sandbox;
            core->in_use.emplace(id, std::move(entry));  // reserved while it is checked
            if (core->options.health_check) {
                auto info = co_await sandbox.info();
                const auto reserved = core->in_use.find(id);
                if (reserved == core->in_use.end())  // shutdown took (and deleted) it meanwhile
                    co_return Error::make(ErrorKind::cancelled, "sandbox pool: shut down");
                const bool gone = !info.ok() && info.error().kind == ErrorKind::not_found;
                if (!info.ok() && !gone) {
                    // The describe failed, not the sandbox: keep it for the next acquire.
                    core->idle.push_front(std::move(reserved->second));
                    core->in_use.erase(reserved);
                    core->notify();
                    auto error = std::move(info).error();
                    error.message =
                        fmt::format("sandbox pool: health check of {}: {}", id, error.message);
                    co_return error;
                }
                if (gone || !healthy(*core, *info)) {
                    ++core->counters.replaced_unhealthy;
                    AsyncSandbox unfit = std::move(reserved->second.sandbox);
                    core->in_use.erase(reserved);
                    core->retire(std::move(unfit));
                    core->refill();
                    continue;
                }
            }
            ++core->counters.acquired;
            co_return PoolCore::hand_out(core, std::move(sandbox));
        }
        const auto now = steady_clock::now();
        if (now >= deadline) {
            auto message = fmt::format(
                "sandbox pool: no sandbox ready within {} ms ({} of max_size {} in use, {} "
                "being created)",
                timeout.count(), core->in_use.size(), core->options.max_size, core->creating);
            if (core->last_create_error)
                message += "; last create failure: " + core->last_create_error->to_string();
            co_return Error::make(ErrorKind::timeout, std::move(message));
        }
        ++core->waiting;
        core->refill();
        asio::steady_timer wake(core->client.get_executor(), deadline);
        const auto registered = core->wakeups.insert(core->wakeups.end(), &wake);
        (void)co_await wake.async_wait(use_tuple);
        core->wakeups.erase(registered);
        --core->waiting;
        const auto cancellation = co_await asio::this_coro::cancellation_state;
        if (was_cancelled(cancellation))
            co_return Error::make(ErrorKind::cancelled, "sandbox pool: acquire cancelled");
    }
}

asio::awaitable<Result<PoolShutdownReport>> shutdown_pool(std::shared_ptr<PoolCore> core) {
    // Leaving sandboxes behind costs money: once started, shutdown runs to the end.
    co_await asio::this_coro::reset_cancellation_state(
        [](asio::cancellation_type) { return asio::cancellation_type::none; });
    co_await asio::this_coro::throw_if_cancelled(false);
    if (!core->stopped) {
        core->stopped = true;
        core->running = false;
        for (auto* timer : core->backoffs)
            timer->cancel();
        // Copied: the list changes only in posted handlers, but a copy costs nothing here.
        const auto tasks = core->create_tasks;
        for (const auto& task : tasks)
            if (!task->finished)
                task->signal.emit(asio::cancellation_type::terminal);
        while (!core->idle.empty()) {
            core->retire(std::move(core->idle.front().sandbox));
            core->idle.pop_front();
        }
        for (auto& [id, entry] : core->in_use)
            core->retire(std::move(entry.sandbox));
        core->in_use.clear();
        core->notify();
    }
    while (core->creating > 0 || core->deleting > 0) {
        asio::steady_timer wake(core->client.get_executor(), steady_clock::time_point::max());
        const auto registered = core->wakeups.insert(core->wakeups.end(), &wake);
        (void)co_await wake.async_wait(use_tuple);
        core->wakeups.erase(registered);
    }
    PoolShutdownReport report = std::move(core->report);
    core->report = PoolShutdownReport{};
    co_return report;
}

// For a destructor: co_spawn with `detached` needs a coroutine without a result.
asio::awaitable<void> shutdown_detached(std::shared_ptr<PoolCore> core) {
    (void)co_await shutdown_pool(std::move(core));
}

Result<PoolOptions> checked(PoolOptions options) {
    auto refuse = [](std::string what) {
        return Error::make(ErrorKind::invalid_argument, "sandbox pool: " + std::move(what));
    };
    if (options.create.image.empty())
        return refuse("PoolOptions::create.image is required");
    if (options.max_size == 0)
        return refuse("max_size must be at least 1");
    if (options.min_idle > options.max_size)
        return refuse(fmt::format("min_idle {} is more than max_size {}", options.min_idle,
                                  options.max_size));
    if (!options.create.client_token.empty())
        return refuse("create.client_token must be empty (each pooled create needs its own)");
    if (!options.create.lease)
        options.create.lease = std::chrono::seconds(LeaseConfig::default_lease_seconds);
    if (options.create.lease->count() <= 0)
        return refuse("every pooled sandbox carries a lease: create.lease must be positive");
    if (options.lease_margin.count() < 0 || options.lease_margin >= *options.create.lease)
        return refuse("lease_margin must be at least 0 and shorter than the lease");
    if (options.create_retry_delay.count() < 0)
        return refuse("create_retry_delay must not be negative");
    options.create.wait_until_running = true;
    options.create.keep_on_failure = false;
    return options;
}

}  // namespace
}  // namespace detail

// ---- PooledSandbox

PooledSandbox::PooledSandbox(std::shared_ptr<detail::PoolCore> pool, AsyncSandbox sandbox)
    : pool_(std::move(pool)), sandbox_(std::move(sandbox)) {}

PooledSandbox::PooledSandbox(PooledSandbox&& other) noexcept
    : pool_(std::move(other.pool_)), sandbox_(std::move(other.sandbox_)), broken_(other.broken_) {
    other.sandbox_.reset();
}

PooledSandbox& PooledSandbox::operator=(PooledSandbox&& other) noexcept {
    if (this != &other) {
        reset();
        pool_ = std::move(other.pool_);
        sandbox_ = std::move(other.sandbox_);
        broken_ = other.broken_;
        other.sandbox_.reset();
    }
    return *this;
}

PooledSandbox::~PooledSandbox() {
    reset();
}

void PooledSandbox::reset() noexcept {
    if (!sandbox_ || !pool_) {
        sandbox_.reset();
        pool_.reset();
        return;
    }
    std::string id = sandbox_->id();
    sandbox_.reset();
    auto pool = std::move(pool_);
    pool_.reset();
    const bool broken = broken_;
    broken_ = false;
    try {
        auto executor = pool->client.get_executor();
        // The posted function holds the pool, so its last reference drops on the executor.
        asio::post(executor, [pool = std::move(pool), id = std::move(id), broken]() {
            pool->give_back(id, broken);
        });
    } catch (...) {
        // Allocation failure: the sandbox stays counted in use until shutdown deletes it.
    }
}

// ---- AsyncSandboxPool

AsyncSandboxPool::AsyncSandboxPool(std::shared_ptr<detail::PoolCore> core)
    : core_(std::move(core)) {}
AsyncSandboxPool::AsyncSandboxPool(AsyncSandboxPool&&) noexcept = default;
AsyncSandboxPool& AsyncSandboxPool::operator=(AsyncSandboxPool&& other) noexcept {
    if (this != &other) {
        const AsyncSandboxPool previous(std::move(*this));  // its destructor shuts it down
        core_ = std::move(other.core_);
    }
    return *this;
}

AsyncSandboxPool::~AsyncSandboxPool() {
    if (!core_ || core_->stopped)
        return;
    try {
        asio::co_spawn(core_->client.get_executor(), detail::shutdown_detached(core_),
                       asio::detached);
    } catch (...) {
        // Nothing better to do in a destructor: the leases remain the backstop.
    }
}

Result<AsyncSandboxPool> AsyncSandboxPool::make(AsyncEciSandbox client, PoolOptions options) {
    auto valid = detail::checked(std::move(options));
    if (!valid.ok())
        return std::move(valid).error();
    return AsyncSandboxPool(
        std::make_shared<detail::PoolCore>(std::move(client), std::move(valid).value()));
}

void AsyncSandboxPool::run() {
    if (core_->stopped || core_->running)
        return;
    core_->running = true;
    core_->refill();
}

asio::awaitable<Result<PooledSandbox>> AsyncSandboxPool::acquire(
    std::chrono::milliseconds timeout) {
    return detail::acquire_from(core_, timeout);
}

asio::awaitable<Result<PoolShutdownReport>> AsyncSandboxPool::shutdown() {
    return detail::shutdown_pool(core_);
}

PoolStats AsyncSandboxPool::stats() const {
    return core_->snapshot();
}

const PoolOptions& AsyncSandboxPool::options() const noexcept {
    return core_->options;
}

asio::any_io_executor AsyncSandboxPool::get_executor() const noexcept {
    return core_->client.get_executor();
}

}  // namespace eci
