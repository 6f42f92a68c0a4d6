// SPDX-License-Identifier: Apache-2.0
// The sandbox pool end to end against the emulator over TLS: idle sandboxes kept Running, a
// returned handle reused or replaced, an unfit sandbox never handed out, a clear timeout, no
// sandbox left after shutdown (also under faults), and the blocking facade.
#include "integration/emulator_thread.hpp"
#include "integration/sandbox_fixture.hpp"

#include <eci/sandbox_pool.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

using namespace eci;
using namespace eci::test;
namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {

PoolOptions pool_options(std::size_t min_idle, std::size_t max_size) {
    PoolOptions options;
    options.create.image = "registry.example/ubuntu:22.04";
    options.create.wait_timeout = 20s;
    options.min_idle = min_idle;
    options.max_size = max_size;
    options.create_retry_delay = 50ms;
    return options;
}

// Every sandbox the emulator still lists (the pool's own checks aside: what a leak looks like).
asio::awaitable<std::vector<std::string>> listed_ids(AsyncEciSandbox client) {
    auto listed = co_await client.list_all();
    if (!listed.ok())
        FAIL("list_all: " << listed.error().to_string());
    std::vector<std::string> ids;
    for (const auto& info : *listed)
        ids.push_back(info.sandbox_id);
    co_return ids;
}

AsyncSandboxPool make_pool(AsyncEciSandbox client, PoolOptions options) {
    auto made = AsyncSandboxPool::make(std::move(client), std::move(options));
    if (!made.ok())
        FAIL("pool: " << made.error().to_string());
    return std::move(made).value();
}

asio::awaitable<PooledSandbox> acquire_ok(AsyncSandboxPool& pool,
                                          std::chrono::milliseconds timeout = 5000ms) {
    auto handle = co_await pool.acquire(timeout);
    if (!handle.ok())
        FAIL("acquire: " << handle.error().to_string());
    co_return std::move(handle).value();
}

asio::awaitable<void> shutdown_clean(AsyncSandboxPool& pool, AsyncEciSandbox client) {
    auto report = co_await pool.shutdown();
    REQUIRE(report.ok());
    for (const auto& failure : report->failed)
        FAIL("shutdown could not delete " << failure.sandbox_id << ": "
                                          << failure.error.to_string());
    const auto left = co_await listed_ids(client);
    CHECK(left.empty());
    const auto stats = pool.stats();
    CHECK(stats.idle == 0);
    CHECK(stats.in_use == 0);
    CHECK(stats.creating == 0);
    CHECK(stats.deleting == 0);
}

// Holds a pooled sandbox for `delay`, then returns it.
asio::awaitable<void> return_later(PooledSandbox handle, std::chrono::milliseconds delay) {
    asio::steady_timer timer(co_await asio::this_coro::executor, delay);
    co_await timer.async_wait(asio::use_awaitable);
    handle.reset();
}

}  // namespace

TEST_CASE("pool e2e: min_idle sandboxes become Running, acquire is quick, a return is reused",
          "[pool-e2e]") {
    AsyncSandboxFixture fx;
    fx.run(
        [&]() -> asio::awaitable<void> {
            auto pool = make_pool(*fx.client, pool_options(2, 2));
            pool.run();
            const bool ready = co_await wait_until([&] { return pool.stats().idle == 2; }, 5s);
            REQUIRE(ready);
            const auto listed = co_await listed_ids(*fx.client);
            CHECK(listed.size() == 2);
            for (const auto& id : listed) {
                auto info = co_await fx.client->get_sandbox(id);
                REQUIRE(info.ok());
                CHECK(info->status == "Running");
            }

            const auto started = std::chrono::steady_clock::now();
            auto first = co_await acquire_ok(pool);
            const auto took = std::chrono::steady_clock::now() - started;
            CHECK(took < 1s);  // one describe, no create: milliseconds (the bench measures it)
            CHECK(std::find(listed.begin(), listed.end(), first.id()) != listed.end());
            auto ran = co_await first->bash("echo pooled");
            REQUIRE(ran.ok());
            CHECK(ran->stdout_text == "pooled\n");
            const std::string first_id = first.id();

            // Returned (posted to the executor) and reused: no new create for it.
            first.reset();
            CHECK_FALSE(first.valid());
            const bool back = co_await wait_until([&] { return pool.stats().idle == 2; }, 5s);
            REQUIRE(back);
            std::set<std::string> seen;
            auto a = co_await acquire_ok(pool);
            auto b = co_await acquire_ok(pool);
            seen.insert(a.id());
            seen.insert(b.id());
            CHECK(seen.count(first_id) == 1);
            CHECK(a.id() != b.id());
            CHECK(pool.stats().in_use == 2);
            a.reset();
            b.reset();
            const bool settled = co_await wait_until([&] { return pool.stats().in_use == 0; }, 5s);
            REQUIRE(settled);
            CHECK(pool.stats().created == 2);
            CHECK(pool.stats().acquired == 3);
            co_await shutdown_clean(pool, *fx.client);
        },
        30s);
}

TEST_CASE("pool e2e: delete_and_replace deletes a returned sandbox and creates a replacement",
          "[pool-e2e]") {
    AsyncSandboxFixture fx;
    fx.run(
        [&]() -> asio::awaitable<void> {
            auto options = pool_options(1, 2);
            options.on_return = ReturnPolicy::delete_and_replace;
            auto pool = make_pool(*fx.client, std::move(options));
            pool.run();
            auto first = co_await acquire_ok(pool);
            const std::string first_id = first.id();
            first.reset();
            const bool replaced = co_await wait_until(
                [&] {
                    const auto stats = pool.stats();
                    return stats.deleted >= 1 && stats.idle == 1 && stats.deleting == 0;
                },
                5s);
            REQUIRE(replaced);
            auto gone = co_await fx.client->get_sandbox(first_id);
            REQUIRE_FALSE(gone.ok());
            CHECK(gone.error().kind == ErrorKind::not_found);
            auto second = co_await acquire_ok(pool);
            CHECK(second.id() != first_id);

            second.reset();
            co_await shutdown_clean(pool, *fx.client);
        },
        30s);
}

TEST_CASE("pool e2e: a sandbox deleted behind the pool's back or marked broken is never handed out",
          "[pool-e2e]") {
    AsyncSandboxFixture fx;
    fx.run(
        [&]() -> asio::awaitable<void> {
            auto pool = make_pool(*fx.client, pool_options(1, 2));
            pool.run();
            const bool ready = co_await wait_until([&] { return pool.stats().idle == 1; }, 5s);
            REQUIRE(ready);
            auto listed = co_await listed_ids(*fx.client);
            REQUIRE(listed.size() == 1);
            const std::string victim = listed.front();
            auto removed = co_await fx.client->remove(victim, true);
            REQUIRE(removed.ok());

            auto handle = co_await acquire_ok(pool);
            CHECK(handle.id() != victim);
            CHECK(pool.stats().replaced_unhealthy == 1);
            auto ran = co_await handle->bash("echo alive");
            REQUIRE(ran.ok());
            CHECK(ran->stdout_text == "alive\n");

            // A handle marked broken is deleted on return although the policy is reuse.
            const std::string broken_id = handle.id();
            handle.mark_broken();
            handle.reset();
            const bool deleted = co_await wait_until(
                [&] {
                    const auto stats = pool.stats();
                    return stats.deleted >= 2 && stats.deleting == 0 && stats.idle >= 1;
                },
                5s);
            REQUIRE(deleted);
            auto next = co_await acquire_ok(pool);
            CHECK(next.id() != broken_id);
            CHECK(next.id() != victim);
            next.reset();
            co_await shutdown_clean(pool, *fx.client);
        },
        30s);
}

TEST_CASE("pool e2e: acquire times out with a clear error when max_size are in use", "[pool-e2e]") {
    AsyncSandboxFixture fx;
    fx.run(
        [&]() -> asio::awaitable<void> {
            auto pool = make_pool(*fx.client, pool_options(1, 1));
            pool.run();
            auto held = co_await acquire_ok(pool);
            const auto started = std::chrono::steady_clock::now();
            auto refused = co_await pool.acquire(200ms);
            const auto waited = std::chrono::steady_clock::now() - started;
            REQUIRE_FALSE(refused.ok());
            CHECK(refused.error().kind == ErrorKind::timeout);
            CHECK(refused.error().message.find("max_size 1") != std::string::npos);
            CHECK(refused.error().message.find("1 of max_size 1 in use") != std::string::npos);
            CHECK(waited >= 200ms);
            CHECK(waited < 2s);
            CHECK(pool.stats().created == 1);  // nothing beyond max_size was created

            // A waiting acquire gets the sandbox as soon as it is returned.
            const std::string held_id = held.id();
            asio::co_spawn(co_await asio::this_coro::executor, return_later(std::move(held), 100ms),
                           asio::detached);
            const auto wait_started = std::chrono::steady_clock::now();
            auto again = co_await acquire_ok(pool, 2000ms);
            CHECK(again.id() == held_id);
            CHECK(std::chrono::steady_clock::now() - wait_started >= 100ms);

            // Shutdown deletes a sandbox still handed out, and refuses later acquires.
            auto report = co_await pool.shutdown();
            REQUIRE(report.ok());
            CHECK(report->clean());
            CHECK(std::find(report->deleted.begin(), report->deleted.end(), held_id) !=
                  report->deleted.end());
            const auto left = co_await listed_ids(*fx.client);
            CHECK(left.empty());
            auto after = co_await pool.acquire(100ms);
            REQUIRE_FALSE(after.ok());
            CHECK(after.error().kind == ErrorKind::cancelled);
            again.reset();  // returned after shutdown: nothing to do
        },
        30s);
}

TEST_CASE("pool e2e: invalid options are refused", "[pool-e2e]") {
    AsyncSandboxFixture fx;
    auto check = [&](PoolOptions options, std::string_view expected) {
        auto made = AsyncSandboxPool::make(*fx.client, std::move(options));
        REQUIRE_FALSE(made.ok());
        CHECK(made.error().kind == ErrorKind::invalid_argument);
        CHECK(made.error().message.find(expected) != std::string::npos);
    };
    auto no_image = pool_options(1, 2);
    no_image.create.image.clear();
    check(no_image, "image");
    check(pool_options(3, 2), "min_idle");
    check(pool_options(0, 0), "max_size");
    auto no_lease = pool_options(1, 2);
    no_lease.create.lease = eci::no_lease;
    check(no_lease, "lease");
    auto token = pool_options(1, 2);
    token.create.client_token = "fixed";
    check(token, "client_token");
    auto margin = pool_options(1, 2);
    margin.create.lease = 30s;
    margin.lease_margin = 60s;
    check(margin, "lease_margin");
}

TEST_CASE("pool e2e: a sandbox whose lease ends within the margin is replaced, never handed out",
          "[pool-e2e]") {
    AsyncSandboxFixture fx;
    fx.run(
        [&]() -> asio::awaitable<void> {
            auto options = pool_options(1, 2);
            options.create.lease = 62s;  // ends within the 60 s margin after 2 s
            auto pool = make_pool(*fx.client, std::move(options));
            pool.run();
            auto first = co_await acquire_ok(pool);
            const std::string first_id = first.id();
            first.reset();
            // Back in the idle set, then past the margin: handed out no more.
            const bool back = co_await wait_until(
                [&] { return pool.stats().idle >= 1 && pool.stats().in_use == 0; }, 5s);
            REQUIRE(back);
            asio::steady_timer past(co_await asio::this_coro::executor, 2100ms);
            co_await past.async_wait(asio::use_awaitable);
            auto second = co_await acquire_ok(pool);
            CHECK(second.id() != first_id);
            CHECK(pool.stats().replaced_unhealthy >= 1);
            second.reset();
            co_await shutdown_clean(pool, *fx.client);
        },
        30s);
}

TEST_CASE("pool e2e: under throttling, 503s and resets acquisitions succeed and nothing leaks",
          "[pool-e2e]") {
    auto emulator_options = sandbox_emulator_options();
    emulator_options.faults.throttle = 0.2;
    emulator_options.faults.unavailable = 0.05;
    emulator_options.faults.reset = 0.02;
    emulator_options.seed = 20261206;
    AsyncSandboxFixture fx(emulator_options);
    auto config = client_config_for(fx.emulator->ready());
    config.retry.max_attempts = 30;
    config.retry.initial_backoff = 5ms;
    config.retry.max_backoff = 100ms;
    config.retry.overall_deadline = 20s;
    config.retry.throttle_initial_backoff = 20ms;
    config.retry.throttle_max_backoff = 200ms;
    auto made = AsyncEciSandbox::from_config(fx.io.get_executor(), config);
    REQUIRE(made.ok());
    auto client = std::move(made).value();

    fx.run(
        [&]() -> asio::awaitable<void> {
            auto options = pool_options(2, 4);
            options.on_return = ReturnPolicy::delete_and_replace;  // many creates and deletes
            auto pool = make_pool(client, std::move(options));
            pool.run();
            std::set<std::string> handed_out;
            int acquired = 0;
            for (int i = 0; i < 12; ++i) {
                auto handle = co_await pool.acquire(5000ms);
                if (!handle.ok())
                    FAIL("acquire " << i << ": " << handle.error().to_string());
                // delete_and_replace: no sandbox may come twice.
                CHECK(handed_out.insert(handle->id()).second);
                ++acquired;
                handle->reset();
            }
            CHECK(acquired == 12);
            auto report = co_await pool.shutdown();
            REQUIRE(report.ok());
            for (const auto& failure : report->failed)
                FAIL("delete of " << failure.sandbox_id << ": " << failure.error.to_string());
            const auto left = co_await listed_ids(client);
            CHECK(left.empty());
            CHECK(client.api().stats().retries > 0);  // the faults were there
        },
        30s);
}

TEST_CASE("pool e2e: the blocking SandboxPool acquires, returns and shuts down", "[pool-e2e]") {
    EmulatorThread emu;
    with_deadline(
        [&] {
            auto client = EciSandbox::from_config(client_config_for(emu.ready()));
            REQUIRE(client.ok());
            auto made = SandboxPool::make(*client, pool_options(1, 2));
            REQUIRE(made.ok());
            auto pool = std::move(made).value();
            std::string first_id;
            {
                auto handle = pool.acquire(5000ms);
                REQUIRE(handle.ok());
                first_id = handle->id();
                auto ran = (*handle)->bash("echo blocking");
                REQUIRE(ran.ok());
                CHECK(ran->stdout_text == "blocking\n");
            }  // returned here (posted to the client's thread)
            auto again = pool.acquire(5000ms);
            REQUIRE(again.ok());
            CHECK_FALSE(again->id().empty());
            const auto stats = pool.stats();
            CHECK(stats.in_use == 1);
            CHECK(stats.acquired == 2);
            CHECK(stats.created <= 2);  // the first came back: reused, not replaced
            auto report = pool.shutdown();
            REQUIRE(report.ok());
            CHECK(report->clean());
            CHECK(std::find(report->deleted.begin(), report->deleted.end(), first_id) !=
                  report->deleted.end());
            auto left = client->list_all();
            REQUIRE(left.ok());
            CHECK(left->empty());
        },
        std::chrono::seconds(30));
}

TEST_CASE("pool e2e: shutdown cancels creates in flight instead of waiting for them",
          "[pool-e2e]") {
    auto emulator_options = sandbox_emulator_options();
    emulator_options.start_delay = std::chrono::milliseconds(5000);  // Pending for 5 s
    AsyncSandboxFixture fx(emulator_options);
    fx.run(
        [&]() -> asio::awaitable<void> {
            auto pool = make_pool(*fx.client, pool_options(2, 2));
            pool.run();
            const bool listed_both = co_await wait_until(
                [&] { return api_calls(*fx.client, "CreateContainerGroup") >= 2; }, 3s);
            REQUIRE(listed_both);
            auto early = co_await pool.acquire(100ms);
            REQUIRE_FALSE(early.ok());
            CHECK(early.error().kind == ErrorKind::timeout);
            CHECK(early.error().message.find("2 being created") != std::string::npos);

            const auto started = std::chrono::steady_clock::now();
            auto report = co_await pool.shutdown();
            const auto took = std::chrono::steady_clock::now() - started;
            REQUIRE(report.ok());
            CHECK(report->clean());
            CHECK(took < 3s);  // not the 5 s start
            const auto left = co_await listed_ids(*fx.client);
            CHECK(left.empty());
            CHECK(pool.stats().created == 0);
        },
        30s);
}
