// SPDX-License-Identifier: Apache-2.0
// eci::SandboxPool: the blocking facade of AsyncSandboxPool, run on the EciSandbox's thread.
#include <eci/sandbox_pool.hpp>

#include "sandbox/blocking_runtime.hpp"

namespace eci {
namespace asio = boost::asio;

namespace {

// Named coroutines (not capturing lambdas) for what the runtime runs on its thread.
asio::awaitable<Result<bool>> start_pool(std::shared_ptr<AsyncSandboxPool> pool) {
    pool->run();
    co_return true;
}

asio::awaitable<Result<PoolStats>> stats_of(std::shared_ptr<AsyncSandboxPool> pool) {
    co_return pool->stats();
}

asio::awaitable<Result<PooledSandbox>> acquire_on(std::shared_ptr<AsyncSandboxPool> pool,
                                                  std::chrono::milliseconds timeout) {
    co_return co_await pool->acquire(timeout);
}

asio::awaitable<Result<PoolShutdownReport>> shutdown_on(std::shared_ptr<AsyncSandboxPool> pool) {
    co_return co_await pool->shutdown();
}

}  // namespace

SandboxPool::SandboxPool(std::shared_ptr<EciSandbox::Runtime> runtime, AsyncSandboxPool pool)
    : runtime_(std::move(runtime)), pool_(std::make_shared<AsyncSandboxPool>(std::move(pool))) {}

SandboxPool::SandboxPool(SandboxPool&& other) noexcept
    : runtime_(std::move(other.runtime_)),
      pool_(std::move(other.pool_)),
      shut_down_(other.shut_down_) {}

SandboxPool& SandboxPool::operator=(SandboxPool&& other) noexcept {
    if (this != &other) {
        const SandboxPool previous(std::move(*this));  // its destructor shuts it down
        runtime_ = std::move(other.runtime_);
        pool_ = std::move(other.pool_);
        shut_down_ = other.shut_down_;
    }
    return *this;
}

SandboxPool::~SandboxPool() {
    if (!pool_)
        return;
    if (!shut_down_)
        (void)shutdown();
    try {
        // The async pool is only ever touched on the client's thread: let it go there.
        asio::post(runtime_->io, [pool = std::move(pool_)]() {});
    } catch (...) {
        // Allocation failure: the pool is released here instead (it is shut down).
    }
}

Result<SandboxPool> SandboxPool::make(EciSandbox& client, PoolOptions options) {
    auto runtime = client.runtime_;
    auto pool = AsyncSandboxPool::make(*runtime->client, std::move(options));
    if (!pool.ok())
        return std::move(pool).error();
    SandboxPool made(runtime, std::move(pool).value());
    auto started = runtime->call<bool>([pool = made.pool_]() { return start_pool(pool); });
    if (!started.ok()) {
        made.shut_down_ = true;  // nothing was created
        return std::move(started).error();
    }
    return made;
}

Result<PooledBlockingSandbox> SandboxPool::acquire(std::chrono::milliseconds timeout) {
    auto handle = runtime_->call<PooledSandbox>(
        [pool = pool_, timeout]() { return acquire_on(pool, timeout); });
    if (!handle.ok())
        return std::move(handle).error();
    AsyncSandbox sandbox = handle->sandbox();
    return PooledBlockingSandbox(std::move(handle).value(), Sandbox(runtime_, std::move(sandbox)));
}

Result<PoolShutdownReport> SandboxPool::shutdown() {
    auto report =
        runtime_->call<PoolShutdownReport>([pool = pool_]() { return shutdown_on(pool); });
    if (report.ok())
        shut_down_ = true;
    return report;
}

PoolStats SandboxPool::stats() const {
    auto stats = runtime_->call<PoolStats>([pool = pool_]() { return stats_of(pool); });
    return stats.ok() ? std::move(stats).value() : PoolStats{};
}

}  // namespace eci
