// SPDX-License-Identifier: Apache-2.0
// A FIFO counting semaphore for coroutines on one executor: the cap on concurrent API calls,
// the exec start slots, the queue of ShellSession::run calls, and the emulator's start caps.
// lib/async holds Asio primitives that do no I/O of their own, so every layer above core (and
// the emulator) can use them without depending on the transport (docs/architecture.md).
#pragma once

#include <eci/result.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstddef>
#include <deque>
#include <memory>
#include <optional>

namespace eci::detail {

/// `permits` slots handed out in the order they were asked for.
///
/// Cancellation: acquire() honours terminal cancellation of the awaiting coroutine (its
/// cancellation slot) and then takes no permit. Lifetimes: the semaphore must outlive every
/// pending acquire(). Thread safety: none; use from one executor (one thread or a strand).
class AsyncSemaphore {
  public:
    using clock = std::chrono::steady_clock;

    /// `permits` = 0 means unlimited: acquire() always succeeds at once.
    explicit AsyncSemaphore(std::size_t permits);
    AsyncSemaphore(const AsyncSemaphore&) = delete;
    AsyncSemaphore& operator=(const AsyncSemaphore&) = delete;

    /// Takes a permit, waiting behind earlier callers if none is free. Returns whether it had
    /// to wait. Errors: cancelled (terminal cancellation), timeout (`deadline` passed first);
    /// either way no permit is held.
    boost::asio::awaitable<Result<bool>> acquire(std::optional<clock::time_point> deadline);

    /// Gives a permit back: to the first waiter, or to the pool.
    void release();

    std::size_t available() const noexcept { return available_; }
    std::size_t waiting() const noexcept { return waiters_.size(); }
    bool unlimited() const noexcept { return unlimited_; }

  private:
    struct Waiter;

    bool unlimited_;
    std::size_t available_;
    std::deque<std::shared_ptr<Waiter>> waiters_;
};

/// Releases a permit of an AsyncSemaphore when it goes out of scope (if it holds one).
class SemaphorePermit {
  public:
    SemaphorePermit() = default;
    explicit SemaphorePermit(AsyncSemaphore& semaphore) : semaphore_(&semaphore) {}
    SemaphorePermit(SemaphorePermit&& other) noexcept : semaphore_(other.semaphore_) {
        other.semaphore_ = nullptr;
    }
    SemaphorePermit& operator=(SemaphorePermit&& other) noexcept;
    SemaphorePermit(const SemaphorePermit&) = delete;
    SemaphorePermit& operator=(const SemaphorePermit&) = delete;
    ~SemaphorePermit() { reset(); }

    /// Releases the permit now (no-op when none is held).
    void reset() noexcept;

  private:
    AsyncSemaphore* semaphore_ = nullptr;
};

}  // namespace eci::detail
