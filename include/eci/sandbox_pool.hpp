// SPDX-License-Identifier: Apache-2.0
// eci::AsyncSandboxPool and eci::SandboxPool: Running sandboxes kept ready, so a caller gets one
// in milliseconds instead of waiting for a create. Modelled on Boost.MySQL's connection_pool.
// See docs/pool.md.
#pragma once

#include <eci/async_sandbox.hpp>
#include <eci/blocking.hpp>
#include <eci/error.hpp>
#include <eci/result.hpp>
#include <eci/sandbox_types.hpp>

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace eci {

namespace detail {
struct PoolCore;  // lib/sandbox/sandbox_pool.cpp
}

/// What happens to a sandbox whose handle goes back to the pool.
enum class ReturnPolicy {
    reuse,               ///< it goes back to the idle set and is handed out again (default)
    delete_and_replace,  ///< it is deleted and a fresh one created: no state leaks between users
};

/// The parameters of a pool. Every field has a default; see docs/pool.md.
struct PoolOptions {
    /// How each pooled sandbox is created. `image` is required. The pool always waits until
    /// Running (`wait_until_running` is forced true, `keep_on_failure` false). `lease`: nullopt
    /// = 30 minutes (every pooled sandbox carries a lease; eci::no_lease is refused). A
    /// non-empty `name` gets `-<n>` appended per sandbox; empty = generated names. A non-empty
    /// `client_token` is refused (it would make every create return the same sandbox).
    CreateOptions create;
    /// Sandboxes kept Running and idle, ready to hand out. Default 1. 0 = create on demand only.
    std::size_t min_idle = 1;
    /// The most sandboxes the pool owns at once: idle, handed out and being created (not those
    /// being deleted). Default 10; must be >= 1 and >= min_idle.
    std::size_t max_size = 10;
    /// What a returned handle does. Default reuse.
    ReturnPolicy on_return = ReturnPolicy::reuse;
    /// Before handing a sandbox out, describe it (one DescribeContainerGroups call) and hand it
    /// out only when it is Running and its lease tag has not expired; otherwise it is deleted
    /// and replaced. Default true. false: only the local lease check (no call).
    bool health_check = true;
    /// A sandbox whose lease ends within this margin is not handed out (deleted and replaced):
    /// the user should have it for a while. Default 60 s; 0 = up to the last second. Must be
    /// shorter than the lease.
    std::chrono::seconds lease_margin{60};
    /// How long the refill waits after a failed create before trying that slot again.
    /// Default 1 s; 0 = at once (a tight loop against a failing service: avoid).
    std::chrono::milliseconds create_retry_delay{1000};
};

/// A snapshot of the pool's counters.
struct PoolStats {
    std::size_t idle = 0;               ///< Running, ready to hand out
    std::size_t in_use = 0;             ///< handed out
    std::size_t creating = 0;           ///< creates in flight (or waiting to retry a failed one)
    std::size_t deleting = 0;           ///< deletes in flight
    std::uint64_t created = 0;          ///< creates that succeeded
    std::uint64_t create_failures = 0;  ///< creates that failed (then retried)
    std::uint64_t deleted = 0;          ///< deletes confirmed
    std::uint64_t delete_failures = 0;  ///< deletes that failed (the lease remains the backstop)
    std::uint64_t acquired = 0;         ///< handles given out
    /// Sandboxes found unfit before handing out (not Running, gone, lease ending) and replaced.
    std::uint64_t replaced_unhealthy = 0;
};

/// A delete that failed (shutdown's report).
struct PoolDeleteFailure {
    std::string sandbox_id;
    Error error;
};

/// What shutdown() did.
struct PoolShutdownReport {
    std::vector<std::string> deleted;       ///< every sandbox deleted by or during shutdown
    std::vector<PoolDeleteFailure> failed;  ///< deletes that failed after their retries
    /// Whether no sandbox the pool created is known to remain (`failed` is empty).
    bool clean() const noexcept { return failed.empty(); }
};

/// A sandbox on loan from an AsyncSandboxPool. Move-only. When destroyed (or reset()) it goes
/// back to the pool, which reuses it or deletes and replaces it (PoolOptions::on_return, or
/// mark_broken()). A destructor cannot co_await: the return is posted to the pool's executor
/// and happens there.
///
/// Lifetimes: keeps the pool's state alive; may outlive the AsyncSandboxPool object (the
/// sandbox is then deleted on return). Thread safety: the handle may be destroyed on any
/// thread (the return is posted); use the sandbox itself as AsyncSandbox says.
class PooledSandbox {
  public:
    PooledSandbox() = default;  ///< empty: valid() is false
    PooledSandbox(PooledSandbox&& other) noexcept;
    PooledSandbox& operator=(PooledSandbox&& other) noexcept;
    PooledSandbox(const PooledSandbox&) = delete;
    PooledSandbox& operator=(const PooledSandbox&) = delete;
    ~PooledSandbox();

    /// Whether the handle holds a sandbox.
    bool valid() const noexcept { return sandbox_.has_value(); }
    /// The sandbox. Precondition: valid().
    AsyncSandbox& sandbox() noexcept { return *sandbox_; }
    const AsyncSandbox& sandbox() const noexcept { return *sandbox_; }
    AsyncSandbox& operator*() noexcept { return *sandbox_; }
    AsyncSandbox* operator->() noexcept { return &*sandbox_; }
    const std::string& id() const noexcept { return sandbox_->id(); }

    /// On return, delete and replace the sandbox whatever the policy (e.g. a command left it
    /// in a state the next user must not see).
    void mark_broken() noexcept { broken_ = true; }
    /// Returns the sandbox to the pool now; the handle is empty afterwards.
    void reset() noexcept;

  private:
    friend struct detail::PoolCore;
    PooledSandbox(std::shared_ptr<detail::PoolCore> pool, AsyncSandbox sandbox);
    std::shared_ptr<detail::PoolCore> pool_;
    std::optional<AsyncSandbox> sandbox_;
    bool broken_ = false;
};

/// A pool of Running sandboxes made from one set of CreateOptions (see docs/pool.md). It keeps
/// `min_idle` idle (up to `max_size` in all), creating in the background through the client
/// (and so through its rate limiter and retries); acquire() hands one out after a health
/// check; a handle going out of scope returns it; shutdown() deletes every sandbox it owns.
///
/// Errors: see each function. Cancellation: acquire() and shutdown() honour terminal
/// cancellation. Lifetimes: a cheap handle (move-only) to shared state; the background tasks
/// keep that state alive. Destroying the last AsyncSandboxPool without shutdown() starts a
/// detached shutdown on the executor (completed only if the executor keeps running; the
/// leases remain the backstop). Thread safety: use from the client's executor (one thread or a
/// strand), like the client; handles may be dropped from any thread.
class AsyncSandboxPool {
  public:
    /// A pool over `client` (shared: the pool keeps a copy). Does not create anything yet:
    /// call run(). Errors: invalid_argument for options out of range (no image, max_size 0,
    /// min_idle > max_size, no_lease, a client_token, a margin not shorter than the lease).
    static Result<AsyncSandboxPool> make(AsyncEciSandbox client, PoolOptions options);

    AsyncSandboxPool(AsyncSandboxPool&&) noexcept;
    AsyncSandboxPool& operator=(AsyncSandboxPool&&) noexcept;
    AsyncSandboxPool(const AsyncSandboxPool&) = delete;
    AsyncSandboxPool& operator=(const AsyncSandboxPool&) = delete;
    ~AsyncSandboxPool();

    /// Starts keeping `min_idle` sandboxes ready (creates start on the executor, in the
    /// background). Idempotent; nothing after shutdown(). Thread safety: the executor's thread.
    void run();

    /// Hands out an idle sandbox, or waits (creating one on demand while fewer than max_size
    /// exist) until one is ready, at most `timeout`. With PoolOptions::health_check, a sandbox
    /// that is not Running, is gone, or whose lease ends within the margin is deleted and
    /// replaced, never handed out. Works before run() too (creates on demand).
    /// Errors: timeout when none became ready in time (the message says how many are in use
    /// and being created); cancelled after shutdown() or when the caller cancels; the health
    /// check's describe error when it failed after its retries (the sandbox stays pooled).
    /// Cancellation: terminal; nothing is handed out then.
    boost::asio::awaitable<Result<PooledSandbox>> acquire(std::chrono::milliseconds timeout);

    /// Stops refilling, fails waiting acquires (cancelled), cancels the creates in flight (a
    /// cancelled create deletes what it made) and waits for them, and deletes every sandbox the
    /// pool owns: idle ones and those handed out (their handles then refer to a deleted
    /// sandbox; return handles first). Returns once every delete finished. Idempotent (a
    /// second call reports nothing new).
    /// Errors: none as a Result error; failed deletes are listed in the report (also those
    /// that failed before shutdown, e.g. of a replaced sandbox).
    /// Cancellation: not honoured once started (it must not leave sandboxes behind).
    boost::asio::awaitable<Result<PoolShutdownReport>> shutdown();

    /// The counters now. Thread safety: the executor's thread.
    PoolStats stats() const;
    const PoolOptions& options() const noexcept;
    boost::asio::any_io_executor get_executor() const noexcept;

  private:
    explicit AsyncSandboxPool(std::shared_ptr<detail::PoolCore> core);
    std::shared_ptr<detail::PoolCore> core_;
};

class SandboxPool;

/// A blocking sandbox on loan from a SandboxPool: returns itself when destroyed (see
/// PooledSandbox). Move-only. Thread safety: as Sandbox.
class PooledBlockingSandbox {
  public:
    PooledBlockingSandbox(PooledBlockingSandbox&&) noexcept = default;
    PooledBlockingSandbox& operator=(PooledBlockingSandbox&&) noexcept = default;
    ~PooledBlockingSandbox() = default;

    Sandbox& sandbox() noexcept { return sandbox_; }
    Sandbox& operator*() noexcept { return sandbox_; }
    Sandbox* operator->() noexcept { return &sandbox_; }
    const std::string& id() const noexcept { return sandbox_.id(); }
    /// See PooledSandbox::mark_broken.
    void mark_broken() noexcept { handle_.mark_broken(); }

  private:
    friend class SandboxPool;
    PooledBlockingSandbox(PooledSandbox handle, Sandbox sandbox)
        : handle_(std::move(handle)), sandbox_(std::move(sandbox)) {}
    PooledSandbox handle_;  // returns the sandbox (posted to the client's thread)
    Sandbox sandbox_;
};

/// The blocking pool over an EciSandbox (the client's own thread runs it): the functions of
/// AsyncSandboxPool, each returning its Result synchronously.
///
/// Lifetimes: the EciSandbox should outlive the pool; if it was shut down first, the calls
/// return cancelled. Destruction: shutdown() (blocking), its report dropped. Thread safety: any
/// thread may call any function; never from an `on_output` callback.
class SandboxPool {
  public:
    /// Makes the pool and starts it (run()). Errors: as AsyncSandboxPool::make.
    static Result<SandboxPool> make(EciSandbox& client, PoolOptions options);

    SandboxPool(SandboxPool&&) noexcept;
    SandboxPool& operator=(SandboxPool&&) noexcept;
    ~SandboxPool();

    /// See AsyncSandboxPool::acquire.
    Result<PooledBlockingSandbox> acquire(std::chrono::milliseconds timeout);
    /// See AsyncSandboxPool::shutdown.
    Result<PoolShutdownReport> shutdown();
    /// See AsyncSandboxPool::stats (taken on the client's thread).
    PoolStats stats() const;

  private:
    SandboxPool(std::shared_ptr<EciSandbox::Runtime> runtime, AsyncSandboxPool pool);
    std::shared_ptr<EciSandbox::Runtime> runtime_;
    std::shared_ptr<AsyncSandboxPool> pool_;  // used on the client's thread only
    bool shut_down_ = false;
};

}  // namespace eci
