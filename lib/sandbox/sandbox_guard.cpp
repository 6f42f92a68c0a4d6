// SPDX-License-Identifier: Apache-2.0
#include <eci/sandbox_guard.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

namespace eci {
namespace asio = boost::asio;

// ---- blocking

SandboxGuard::SandboxGuard(SandboxGuard&& other) noexcept : sandbox_(std::move(other.sandbox_)) {
    other.sandbox_.reset();
}

SandboxGuard& SandboxGuard::operator=(SandboxGuard&& other) noexcept {
    if (this != &other) {
        (void)remove();
        sandbox_ = std::move(other.sandbox_);
        other.sandbox_.reset();
    }
    return *this;
}

SandboxGuard::~SandboxGuard() {
    (void)remove();
}

Sandbox SandboxGuard::release() {
    Sandbox sandbox = std::move(*sandbox_);
    sandbox_.reset();
    return sandbox;
}

Result<Receipt> SandboxGuard::remove() {
    if (!sandbox_)
        return Receipt{};
    Sandbox sandbox = release();
    return sandbox.remove(true);
}

// ---- async

AsyncSandboxGuard::AsyncSandboxGuard(AsyncSandboxGuard&& other) noexcept
    : sandbox_(std::move(other.sandbox_)) {
    other.sandbox_.reset();
}

AsyncSandboxGuard& AsyncSandboxGuard::operator=(AsyncSandboxGuard&& other) noexcept {
    if (this != &other) {
        delete_detached();
        sandbox_ = std::move(other.sandbox_);
        other.sandbox_.reset();
    }
    return *this;
}

AsyncSandboxGuard::~AsyncSandboxGuard() {
    delete_detached();
}

AsyncSandbox AsyncSandboxGuard::release() {
    AsyncSandbox sandbox = std::move(*sandbox_);
    sandbox_.reset();
    return sandbox;
}

void AsyncSandboxGuard::delete_detached() noexcept {
    if (!sandbox_)
        return;
    AsyncSandbox sandbox = release();
    auto executor = sandbox.client().get_executor();
    try {
        // The coroutine owns its copy of the handle (and through it the client's state).
        asio::co_spawn(
            executor,
            [sandbox = std::move(sandbox)]() mutable -> asio::awaitable<void> {
                (void)co_await sandbox.remove(true);
            },
            asio::detached);
    } catch (...) {
        // Allocation failure while spawning: nothing better to do in a destructor; the lease
        // tags and ActiveDeadlineSeconds remain.
    }
}

asio::awaitable<Result<Receipt>> AsyncSandboxGuard::release_and_delete() {
    if (!sandbox_)
        co_return Receipt{};
    AsyncSandbox sandbox = release();
    co_return co_await sandbox.remove(true);
}

}  // namespace eci
