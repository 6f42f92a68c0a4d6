// SPDX-License-Identifier: Apache-2.0
// The engine of the blocking facade: an io_context on its own thread, the async client on
// it, and `call`, which runs one awaitable there and waits for its Result.
#pragma once

#include <eci/async_sandbox.hpp>
#include <eci/blocking.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>

namespace eci {

struct EciSandbox::Runtime {
    Runtime();
    ~Runtime();
    Runtime(const Runtime&) = delete;
    Runtime& operator=(const Runtime&) = delete;

    /// Runs the awaitable `make()` returns on the client's thread and waits for its Result.
    /// `make` is invoked on that thread. After shutdown() began: ErrorKind::cancelled at once.
    /// An exception escaping the operation becomes ErrorKind::service (a library bug).
    template <class T, class Make>
    Result<T> call(Make make);

    /// Cancels every call in flight, waits (bounded) for them to return, stops and joins the
    /// thread. Idempotent; never call it from the client's thread.
    void shutdown();

    /// A snapshot of the client's counters, taken on the client's thread (the counters are
    /// only ever touched there); after shutdown, once the thread is joined, read directly.
    ClientStats stats();

    boost::asio::io_context io;
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work;
    std::optional<AsyncEciSandbox> client;  ///< set once by EciSandbox::from_config
    std::thread thread;
    /// How long shutdown() waits for cancelled calls to return before it stops the thread
    /// anyway (their callers then get ErrorKind::cancelled). Tests shorten it.
    std::chrono::milliseconds shutdown_bound{10000};

  private:
    // Fulfils the promise exactly once; with "cancelled" when the operation is destroyed
    // without completing (the io_context stopped under it).
    template <class T>
    struct Completion {
        std::promise<Result<T>> promise;
        bool done = false;
        void set(Result<T> value) {
            if (done)
                return;
            done = true;
            promise.set_value(std::move(value));
        }
        ~Completion() {
            set(Error::make(ErrorKind::cancelled, "the blocking client was shut down"));
        }
    };

    // One call in flight: how to cancel it (on the client's thread), and how to fail its
    // caller once that thread is joined without the call having finished.
    struct InFlight {
        std::shared_ptr<boost::asio::cancellation_signal> signal;
        std::function<void()> abandon;
    };

    void finish(std::uint64_t id);

    std::mutex mutex_;
    /// Held by shutdown() from start to end: stats() after a refused call waits on it until
    /// the thread is joined.
    std::mutex shutdown_mutex_;
    std::condition_variable idle_;
    std::map<std::uint64_t, InFlight> in_flight_;
    std::uint64_t next_id_ = 0;
    bool stopping_ = false;
};

template <class T, class Make>
Result<T> EciSandbox::Runtime::call(Make make) {
    auto completion = std::make_shared<Completion<T>>();
    auto future = completion->promise.get_future();
    auto signal = std::make_shared<boost::asio::cancellation_signal>();
    std::uint64_t id = 0;
    {
        std::lock_guard lock(mutex_);
        if (stopping_)
            return Error::make(ErrorKind::cancelled, "the blocking client is shut down");
        id = ++next_id_;
        in_flight_.emplace(
            id, InFlight{signal, [completion] {
                             completion->set(Error::make(
                                 ErrorKind::cancelled,
                                 "the blocking client was shut down before the call returned"));
                         }});
    }
    boost::asio::co_spawn(
        io,
        [make = std::move(make), completion]() mutable -> boost::asio::awaitable<void> {
            completion->set(co_await make());
        },
        boost::asio::bind_cancellation_slot(
            signal->slot(), [this, id, completion](std::exception_ptr error) {
                if (error) {
                    completion->set(
                        Error::make(ErrorKind::service, "internal error: an operation threw"));
                }
                finish(id);
            }));
    return future.get();
}

}  // namespace eci
