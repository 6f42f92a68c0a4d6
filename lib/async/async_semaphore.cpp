// SPDX-License-Identifier: Apache-2.0
#include "async/async_semaphore.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>

namespace eci::detail {
namespace asio = boost::asio;

// A waiter sleeps on its own timer; release() wakes the first one by cancelling its timer
// after marking it granted, so a wake-up is told apart from a cancellation.
struct AsyncSemaphore::Waiter {
    explicit Waiter(asio::any_io_executor executor) : timer(std::move(executor)) {}
    asio::steady_timer timer;
    bool granted = false;
};

AsyncSemaphore::AsyncSemaphore(std::size_t permits)
    : unlimited_(permits == 0), available_(permits) {}

asio::awaitable<Result<bool>> AsyncSemaphore::acquire(std::optional<clock::time_point> deadline) {
    if (unlimited_)
        co_return false;
    if (available_ > 0 && waiters_.empty()) {
        --available_;
        co_return false;
    }
    auto waiter = std::make_shared<Waiter>(co_await asio::this_coro::executor);
    waiter->timer.expires_at(deadline.value_or(clock::time_point::max()));
    waiters_.push_back(waiter);
    co_await waiter->timer.async_wait(asio::as_tuple(asio::use_awaitable));
    if (waiter->granted) {
        // Granted and cancelled at the same moment: pass the permit on, report cancelled.
        auto state = co_await asio::this_coro::cancellation_state;
        if (state.cancelled() != asio::cancellation_type::none) {
            release();
            co_return Error::make(ErrorKind::cancelled, "cancelled while waiting for a slot");
        }
        co_return true;
    }
    waiters_.erase(std::remove(waiters_.begin(), waiters_.end(), waiter), waiters_.end());
    if (deadline && clock::now() >= *deadline)
        co_return Error::make(ErrorKind::timeout, "the deadline passed while waiting for a slot");
    co_return Error::make(ErrorKind::cancelled, "cancelled while waiting for a slot");
}

void AsyncSemaphore::release() {
    if (unlimited_)
        return;
    if (waiters_.empty()) {
        ++available_;
        return;
    }
    auto next = std::move(waiters_.front());
    waiters_.pop_front();
    next->granted = true;
    next->timer.cancel();
}

SemaphorePermit& SemaphorePermit::operator=(SemaphorePermit&& other) noexcept {
    if (this != &other) {
        reset();
        semaphore_ = other.semaphore_;
        other.semaphore_ = nullptr;
    }
    return *this;
}

void SemaphorePermit::reset() noexcept {
    if (semaphore_ != nullptr) {
        semaphore_->release();
        semaphore_ = nullptr;
    }
}

}  // namespace eci::detail
