// SPDX-License-Identifier: Apache-2.0
// Nothing leaks from the library's own operations (issue 14): a create whose wait fails, times
// out or is cancelled deletes the sandbox it made (unless keep_on_failure) and names it in
// Error::sandbox_id; a create whose outcome stayed unknown through its retries is settled.
#include "integration/sandbox_fixture.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json/parse.hpp>

#include <optional>

using namespace eci;
using namespace eci::test;
namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {

std::int64_t emulator_count(const emulator::Emulator& emu, std::string_view key) {
    return boost::json::parse(emu.stats_json()).as_object().at(key).to_number<std::int64_t>();
}

CreateOptions waiting_create(std::string name) {
    CreateOptions options;
    options.image = "registry.example/ubuntu:22.04";
    options.name = std::move(name);
    options.wait_until_running = true;
    return options;
}

// An emulator whose sandboxes stay Pending for a long time.
emulator::EmulatorOptions slow_start_options() {
    auto options = sandbox_emulator_options();
    options.start_delay = std::chrono::milliseconds(30000);
    return options;
}

}  // namespace

TEST_CASE("no leak: a create whose wait times out deletes its sandbox and names it", "[no-leak]") {
    AsyncSandboxFixture fx(slow_start_options());
    fx.run([&]() -> asio::awaitable<void> {
        auto options = waiting_create("wait-times-out");
        options.wait_timeout = 20ms;
        auto created = co_await fx.client->create(std::move(options));
        REQUIRE_FALSE(created.ok());
        CHECK(created.error().kind == ErrorKind::timeout);
        CHECK_FALSE(created.error().sandbox_id.empty());
        CHECK(created.error().sandbox_deleted);
        CHECK(emulator_count(*fx.emulator, "sandboxes") == 0);
        CHECK(emulator_count(*fx.emulator, "processes") == 0);
    });
}

TEST_CASE("no leak: keep_on_failure leaves the sandbox of a timed-out wait to the caller",
          "[no-leak]") {
    AsyncSandboxFixture fx(slow_start_options());
    fx.run([&]() -> asio::awaitable<void> {
        auto options = waiting_create("wait-kept");
        options.wait_timeout = 20ms;
        options.keep_on_failure = true;
        auto created = co_await fx.client->create(std::move(options));
        REQUIRE_FALSE(created.ok());
        CHECK(created.error().kind == ErrorKind::timeout);
        const std::string id = created.error().sandbox_id;
        REQUIRE_FALSE(id.empty());
        CHECK_FALSE(created.error().sandbox_deleted);
        CHECK(emulator_count(*fx.emulator, "sandboxes") == 1);
        auto info = co_await fx.client->get_sandbox(id);
        REQUIRE(info.ok());
        CHECK(info->status == status::pending);
        require_ok(co_await fx.client->remove(id));
        CHECK(emulator_count(*fx.emulator, "sandboxes") == 0);
    });
}

TEST_CASE("no leak: a create cancelled while waiting deletes its sandbox", "[no-leak]") {
    AsyncSandboxFixture fx(slow_start_options());
    fx.run([&]() -> asio::awaitable<void> {
        auto executor = co_await asio::this_coro::executor;
        asio::cancellation_signal cancel;
        std::optional<Result<AsyncSandbox>> outcome;
        asio::co_spawn(
            executor,
            [&]() -> asio::awaitable<void> {
                outcome.emplace(co_await fx.client->create(waiting_create("wait-cancelled")));
            },
            asio::bind_cancellation_slot(cancel.slot(), asio::detached));
        // Cancelled once the sandbox exists and the wait polls it.
        const std::function<bool()> made = [&] {
            return emulator_count(*fx.emulator, "sandboxes") == 1;
        };
        REQUIRE(co_await wait_until(made, 10s));
        asio::steady_timer settle(executor, 150ms);
        co_await settle.async_wait(asio::use_awaitable);
        cancel.emit(asio::cancellation_type::terminal);
        const std::function<bool()> returned = [&] { return outcome.has_value(); };
        REQUIRE(co_await wait_until(returned, 20s));
        REQUIRE_FALSE(outcome->ok());
        CHECK(outcome->error().kind == ErrorKind::cancelled);
        CHECK_FALSE(outcome->error().sandbox_id.empty());
        CHECK(outcome->error().sandbox_deleted);
        CHECK(emulator_count(*fx.emulator, "sandboxes") == 0);
        CHECK(emulator_count(*fx.emulator, "processes") == 0);
    });
}

TEST_CASE("no leak: a create whose sandbox fails to start deletes it", "[no-leak]") {
    auto emulator_options = sandbox_emulator_options();
    emulator_options.max_sandbox_cpu = 1;  // above it: ScheduleFailed (NoStock)
    AsyncSandboxFixture fx(emulator_options);
    fx.run([&]() -> asio::awaitable<void> {
        auto options = waiting_create("fails-to-start");
        options.cpu = 2;
        options.memory = 4;
        options.wait_timeout = 20s;
        auto created = co_await fx.client->create(std::move(options));
        REQUIRE_FALSE(created.ok());
        CHECK(created.error().kind == ErrorKind::service);
        CHECK_FALSE(created.error().sandbox_id.empty());
        CHECK(created.error().sandbox_deleted);
        CHECK(created.error().to_string().find(created.error().sandbox_id) != std::string::npos);
        CHECK(emulator_count(*fx.emulator, "sandboxes") == 0);
    });
}

TEST_CASE("no leak: a create whose every reply is lost is settled by its ClientToken and name",
          "[no-leak]") {
    auto emulator_options = sandbox_emulator_options();
    // Every CreateContainerGroup is cut: half before the service acts, half after. The
    // describes answer, so only the settling can tell whether the sandbox exists.
    emulator_options.faults.reset = 1.0;
    emulator_options.faults.actions = {"CreateContainerGroup"};
    emulator_options.seed = 14;
    AsyncSandboxFixture fx(emulator_options);
    auto config = client_config_for(fx.emulator->ready());
    config.retry.initial_backoff = 5ms;  // only to keep the test short; attempts are default
    config.retry.max_backoff = 50ms;
    auto made = AsyncEciSandbox::from_config(fx.io.get_executor(), config);
    REQUIRE(made.ok());
    auto client = std::move(made).value();
    fx.run([&]() -> asio::awaitable<void> {
        CreateOptions options;
        options.image = "registry.example/ubuntu:22.04";
        options.name = "settled-by-lookup";
        auto created = co_await client.create(std::move(options));
        if (!created.ok())
            FAIL(created.error().to_string());
        // The caller holds the one sandbox the lost attempts made (the ClientToken kept
        // every reset_after from making another).
        CHECK(emulator_count(*fx.emulator, "sandboxes") == 1);
        auto info = co_await client.get_sandbox(created->id());
        REQUIRE(info.ok());
        CHECK(info->name == "settled-by-lookup");
        require_ok(co_await created->remove());
        CHECK(emulator_count(*fx.emulator, "sandboxes") == 0);
    });
}

// A delete the service keeps throttling past the call budget (retry.overall_deadline) goes on
// while the service answers, up to retry.cleanup_deadline: a 1000-sandbox run once left 15
// sandboxes behind because their deletes were throttled past a 60 s budget (issue 14).
TEST_CASE("no leak: a delete throttled past the call budget goes on while the service answers",
          "[no-leak]") {
    auto options = sandbox_emulator_options();
    options.faults.qps_limits["DeleteContainerGroup"] = 0.4;  // one token per 2.5 s
    AsyncSandboxFixture fx(std::move(options));
    auto config = client_config_for(fx.emulator->ready());
    config.retry.overall_deadline = 1000ms;
    auto impatient_config = config;
    impatient_config.retry.cleanup_deadline = 0ms;  // the old behaviour: the call budget only
    auto patient = AsyncEciSandbox::from_config(fx.io.get_executor(), config);
    auto impatient = AsyncEciSandbox::from_config(fx.io.get_executor(), impatient_config);
    REQUIRE(patient.ok());
    REQUIRE(impatient.ok());
    fx.run([&]() -> asio::awaitable<void> {
        std::vector<std::string> ids;
        for (const char* name : {"throttled-a", "throttled-b", "throttled-c"}) {
            auto created = co_await patient->create(waiting_create(name));
            REQUIRE(created.ok());
            ids.push_back(created->id());
        }
        require_ok(co_await patient->remove(ids[0]));  // takes the bucket's token

        // Throttled for about 2.5 s, more than the 1 s call budget.
        auto gave_up = co_await impatient->remove(ids[1]);
        REQUIRE_FALSE(gave_up.ok());
        CHECK(gave_up.error().kind == ErrorKind::throttled);
        CHECK(emulator_count(*fx.emulator, "sandboxes") == 3 - 1);

        const auto started = std::chrono::steady_clock::now();
        require_ok(co_await patient->remove(ids[1]));
        CHECK(std::chrono::steady_clock::now() - started > 1000ms);
        require_ok(co_await patient->remove(ids[2]));
        CHECK(emulator_count(*fx.emulator, "sandboxes") == 0);
        CHECK(emulator_count(*fx.emulator, "processes") == 0);
    });
}
