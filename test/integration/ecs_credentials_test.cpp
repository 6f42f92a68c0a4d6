// SPDX-License-Identifier: Apache-2.0
// ECS RAM-role credentials end to end: the client gets STS credentials from the emulator's
// metadata service (IMDSv2 token, role, credentials), signs real calls over TLS with them,
// refreshes them before they expire, shares one fetch between concurrent callers, and fails
// fast and clearly when the metadata service is unreachable or refuses.
#include "integration/sandbox_fixture.hpp"

#include <boost/asio/ip/tcp.hpp>

#include <atomic>

using namespace eci;
using namespace eci::test;
namespace asio = boost::asio;
using std::chrono::milliseconds;
using std::chrono::seconds;
using std::chrono::steady_clock;

namespace {

emulator::EmulatorOptions metadata_emulator_options(seconds ttl = seconds(3600)) {
    auto options = sandbox_emulator_options();
    options.metadata.enabled = true;
    options.metadata.role_name = "eci-test-role";
    options.metadata.credential_ttl = ttl;
    return options;
}

// A client that signs with the emulator's RAM-role credentials, not its long-term keys.
ClientConfig ram_role_config(const emulator::ReadyInfo& ready, std::string role = "") {
    ClientConfig config = client_config_for(ready);
    config.credentials = {};
    config.credential_source = CredentialSource::ecs_ram_role;
    config.ecs_metadata.endpoint = "http://" + ready.metadata_endpoint;
    config.ecs_metadata.role_name = std::move(role);
    return config;
}

// The emulator with its metadata service on, and its fixture's io_context for RAM-role
// clients (the fixture's own client uses the long-term keys).
struct RamRoleFixture : AsyncSandboxFixture {
    explicit RamRoleFixture(emulator::EmulatorOptions options = metadata_emulator_options())
        : AsyncSandboxFixture(std::move(options)) {
        REQUIRE_FALSE(emulator->ready().metadata_endpoint.empty());
        // Reported as the emulator's other ports are: in its ready line.
        CHECK(emulator->ready().to_json_line().find(R"("metadata_endpoint":")") !=
              std::string::npos);
    }

    AsyncEciSandbox client_with(ClientConfig config) {
        auto created = AsyncEciSandbox::from_config(io.get_executor(), std::move(config));
        if (!created)
            FAIL("client: " << created.error().to_string());
        return std::move(*created);
    }
};

void check_no_secret(const Error& error, const emulator::ReadyInfo& ready) {
    const std::string text = error.to_string();
    CHECK(text.find(ready.access_key_secret) == std::string::npos);
    CHECK(text.find("CAIS") == std::string::npos);  // the emulator's STS tokens start so
}

}  // namespace

TEST_CASE(
    "ecs ram role e2e: a client on RAM-role credentials creates a sandbox and runs a "
    "command",
    "[ecs-ram-role]") {
    RamRoleFixture fx;
    // No role configured: the client asks the service which one is attached.
    auto client = fx.client_with(ram_role_config(fx.emulator->ready()));
    fx.run([&]() -> asio::awaitable<void> {
        auto sandbox = co_await make_running_sandbox(client, "ram-role");
        auto ran = co_await sandbox.bash("echo via-role");
        REQUIRE(ran.ok());
        CHECK(ran->stdout_text == "via-role\n");
        require_ok(co_await sandbox.remove());
        // One fetch served every call: IMDSv2 token, role list, credentials, once each.
        CHECK(client.api().stats().credential_fetches == 1);
        const auto served = fx.emulator->metadata_stats();
        CHECK(served.token_requests == 1);
        CHECK(served.role_list_requests == 1);
        CHECK(served.credential_requests == 1);
        CHECK(served.without_token == 0);
    });
}

TEST_CASE(
    "ecs ram role e2e: credentials that expire during a run are refreshed without a "
    "failed call",
    "[ecs-ram-role]") {
    // 3 s credentials (whole seconds, so 2-3 s of life): refreshed about halfway through.
    RamRoleFixture fx(metadata_emulator_options(seconds(3)));
    auto client = fx.client_with(ram_role_config(fx.emulator->ready(), "eci-test-role"));
    fx.run([&]() -> asio::awaitable<void> {
        auto sandbox = co_await make_running_sandbox(client, "ram-role-refresh");
        const auto until = steady_clock::now() + milliseconds(4500);
        int calls = 0;
        asio::steady_timer pause(co_await asio::this_coro::executor);
        while (steady_clock::now() < until) {
            auto ran = co_await sandbox.bash("echo still");
            if (!ran)
                FAIL("call " << calls << " failed: " << ran.error().to_string());
            CHECK(ran->stdout_text == "still\n");
            ++calls;
            pause.expires_after(milliseconds(100));
            co_await pause.async_wait(asio::use_awaitable);
        }
        require_ok(co_await sandbox.remove());
        // Every call succeeded across at least two expiries: so the credentials were
        // replaced before each ran out (the emulator refuses expired ones).
        const auto fetches = client.api().stats().credential_fetches;
        INFO("calls: " << calls << ", fetches: " << fetches);
        CHECK(fetches >= 3);
        CHECK(fx.emulator->metadata_stats().credential_requests == fetches);
        CHECK(client.api().stats().api_failures.empty());
    });
}

TEST_CASE("ecs ram role e2e: concurrent calls share one metadata fetch", "[ecs-ram-role]") {
    RamRoleFixture fx;
    auto client = fx.client_with(ram_role_config(fx.emulator->ready(), "eci-test-role"));
    fx.run([&]() -> asio::awaitable<void> {
        constexpr int callers = 16;
        int done = 0;
        int failed = 0;
        for (int i = 0; i < callers; ++i) {
            asio::co_spawn(
                co_await asio::this_coro::executor,
                [&]() -> asio::awaitable<void> {
                    auto listed = co_await client.list();
                    if (!listed)
                        ++failed;
                    ++done;
                },
                [](std::exception_ptr error) {
                    if (error)
                        std::rethrow_exception(error);
                });
        }
        REQUIRE(co_await wait_until([&] { return done == callers; }, seconds(10)));
        CHECK(failed == 0);
        CHECK(client.api().stats().credential_fetches == 1);
        CHECK(fx.emulator->metadata_stats().token_requests == 1);
        CHECK(fx.emulator->metadata_stats().credential_requests == 1);
    });
}

TEST_CASE(
    "ecs ram role e2e: an unreachable or silent metadata service is a quick, clear "
    "error",
    "[ecs-ram-role]") {
    RamRoleFixture fx;
    // A port nobody listens on: refused at once.
    asio::ip::tcp::acceptor closed(fx.io, {asio::ip::make_address("127.0.0.1"), 0});
    const auto closed_port = closed.local_endpoint().port();
    closed.close();
    auto refused_config = ram_role_config(fx.emulator->ready(), "eci-test-role");
    refused_config.ecs_metadata.endpoint = fmt::format("http://127.0.0.1:{}", closed_port);
    auto refused_client = fx.client_with(refused_config);
    // A listener that accepts and never answers: the per-request timeout.
    asio::ip::tcp::acceptor silent(fx.io, {asio::ip::make_address("127.0.0.1"), 0});
    auto silent_config = ram_role_config(fx.emulator->ready(), "eci-test-role");
    silent_config.ecs_metadata.endpoint =
        fmt::format("http://127.0.0.1:{}", silent.local_endpoint().port());
    silent_config.ecs_metadata.timeout = milliseconds(300);
    auto silent_client = fx.client_with(silent_config);
    // The service is there, but the role is not attached.
    auto wrong_role_client = fx.client_with(ram_role_config(fx.emulator->ready(), "not-attached"));
    fx.run([&]() -> asio::awaitable<void> {
        auto started = steady_clock::now();
        auto refused = co_await refused_client.list();
        REQUIRE_FALSE(refused.ok());
        CHECK(refused.error().kind == ErrorKind::network);
        CHECK(refused.error().message.find("metadata service") != std::string::npos);
        CHECK(refused.error().dispatch == Dispatch::not_sent);
        CHECK(steady_clock::now() - started < seconds(3));
        check_no_secret(refused.error(), fx.emulator->ready());

        started = steady_clock::now();
        auto quiet = co_await silent_client.list();
        REQUIRE_FALSE(quiet.ok());
        CHECK(quiet.error().kind == ErrorKind::timeout);
        CHECK(quiet.error().message.find("300 ms") != std::string::npos);
        CHECK(steady_clock::now() - started < seconds(3));

        auto wrong = co_await wrong_role_client.list();
        REQUIRE_FALSE(wrong.ok());
        CHECK(wrong.error().kind == ErrorKind::auth);
        CHECK(wrong.error().message.find("not-attached") != std::string::npos);
        check_no_secret(wrong.error(), fx.emulator->ready());
        // The emulator made no sandbox-API call for any of them.
        CHECK(refused_client.api().stats().total_api_calls() == 0);
    });
}

TEST_CASE("ecs ram role e2e: the IMDSv2 token is used, IMDSv1 only when allowed",
          "[ecs-ram-role]") {
    SECTION("hardened (IMDSv2-only) service") {
        auto options = metadata_emulator_options();
        options.metadata.require_token = true;
        RamRoleFixture fx(options);
        auto client = fx.client_with(ram_role_config(fx.emulator->ready()));
        fx.run([&]() -> asio::awaitable<void> {
            require_ok(co_await client.list());
            const auto served = fx.emulator->metadata_stats();
            CHECK(served.token_requests == 1);
            CHECK(served.without_token == 0);
            CHECK(served.refused == 0);
        });
    }
    SECTION("a service without the token endpoint: IMDSv1 fallback, unless disabled") {
        auto options = metadata_emulator_options();
        options.metadata.token_endpoint = false;
        RamRoleFixture fx(options);
        auto client = fx.client_with(ram_role_config(fx.emulator->ready()));
        auto strict_config = ram_role_config(fx.emulator->ready());
        strict_config.ecs_metadata.imdsv1_disabled = true;
        auto strict = fx.client_with(strict_config);
        fx.run([&]() -> asio::awaitable<void> {
            require_ok(co_await client.list());
            CHECK(fx.emulator->metadata_stats().without_token == 2);  // role list, credentials
            auto refused = co_await strict.list();
            REQUIRE_FALSE(refused.ok());
            CHECK(refused.error().kind == ErrorKind::auth);
            CHECK(refused.error().message.find("IMDSv1") != std::string::npos);
            CHECK(fx.emulator->metadata_stats().without_token == 2);  // nothing more sent
        });
    }
}
