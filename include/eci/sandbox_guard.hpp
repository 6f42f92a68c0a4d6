// SPDX-License-Identifier: Apache-2.0
// RAII guards that delete a sandbox when they leave scope unless released: SandboxGuard for
// the blocking Sandbox, AsyncSandboxGuard for AsyncSandbox. See docs/leases.md.
#pragma once

#include <eci/async_sandbox.hpp>
#include <eci/blocking.hpp>
#include <eci/result.hpp>
#include <eci/sandbox_types.hpp>

#include <boost/asio/awaitable.hpp>

#include <optional>

namespace eci {

/// Owns a blocking Sandbox: its destructor deletes the sandbox (Force, blocking until the
/// DeleteContainerGroup call returns; errors are dropped, the lease tags and
/// ActiveDeadlineSeconds remain the backstop) unless release() or remove() was called.
///
/// Lifetimes: the EciSandbox client should outlive the guard; if it was destroyed first, the
/// delete fails with cancelled and the sandbox stays until reaped. Thread safety: one guard
/// is used by one thread at a time. Movable, not copyable.
class SandboxGuard {
  public:
    explicit SandboxGuard(Sandbox sandbox) : sandbox_(std::move(sandbox)) {}
    SandboxGuard(SandboxGuard&& other) noexcept;
    SandboxGuard& operator=(SandboxGuard&& other) noexcept;
    SandboxGuard(const SandboxGuard&) = delete;
    SandboxGuard& operator=(const SandboxGuard&) = delete;
    ~SandboxGuard();

    /// Whether the guard still owns a sandbox.
    bool armed() const noexcept { return sandbox_.has_value(); }
    /// The guarded sandbox. Precondition: armed().
    Sandbox& operator*() noexcept { return *sandbox_; }
    Sandbox* operator->() noexcept { return &*sandbox_; }

    /// Disarms the guard and hands the sandbox back; it is no longer deleted. Precondition:
    /// armed().
    Sandbox release();

    /// Deletes the sandbox now and disarms the guard; its result, unlike the destructor's, is
    /// reported (a sandbox already gone is success). Errors: as Sandbox::remove; the guard is
    /// disarmed either way. Without a sandbox: success with an empty Receipt.
    Result<Receipt> remove();

  private:
    std::optional<Sandbox> sandbox_;
};

/// Owns an AsyncSandbox: when destroyed while armed it deletes the sandbox. A destructor
/// cannot co_await, so it starts the delete as a detached coroutine on the client's executor
/// (asio::co_spawn with asio::detached) and returns at once; that delete completes only if
/// the executor keeps running (an io_context that is stopped or destroyed first drops it,
/// and the lease tags and ActiveDeadlineSeconds remain the backstop). Prefer
/// `co_await guard.release_and_delete()` where you can: it waits and reports the result.
///
/// Thread safety: use from the client's executor. Movable, not copyable.
class AsyncSandboxGuard {
  public:
    explicit AsyncSandboxGuard(AsyncSandbox sandbox) : sandbox_(std::move(sandbox)) {}
    AsyncSandboxGuard(AsyncSandboxGuard&& other) noexcept;
    AsyncSandboxGuard& operator=(AsyncSandboxGuard&& other) noexcept;
    AsyncSandboxGuard(const AsyncSandboxGuard&) = delete;
    AsyncSandboxGuard& operator=(const AsyncSandboxGuard&) = delete;
    ~AsyncSandboxGuard();

    bool armed() const noexcept { return sandbox_.has_value(); }
    /// Precondition: armed().
    AsyncSandbox& operator*() noexcept { return *sandbox_; }
    AsyncSandbox* operator->() noexcept { return &*sandbox_; }

    /// Disarms the guard and hands the sandbox back. Precondition: armed().
    AsyncSandbox release();

    /// Disarms the guard and deletes the sandbox (Force), waiting for the result.
    /// Errors: as AsyncSandbox::remove (already gone is success). Without a sandbox: success
    /// with an empty Receipt. Cancellation: returns cancelled; the guard is disarmed anyway.
    boost::asio::awaitable<Result<Receipt>> release_and_delete();

  private:
    void delete_detached() noexcept;
    std::optional<AsyncSandbox> sandbox_;
};

}  // namespace eci
