// SPDX-License-Identifier: Apache-2.0
// Leak prevention end to end against the emulator: lease tags and ActiveDeadlineSeconds on
// create, the service's deadline ending a sandbox, reap() of a SIGKILLed creator's sandboxes
// (dry run first, other owners untouched), and the RAII guards.
#include "integration/emulator_thread.hpp"
#include "integration/sandbox_fixture.hpp"

#include "core/time_format.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/json/parse.hpp>

#include <fmt/format.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <set>
#include <sstream>

using namespace eci;
using namespace eci::test;
namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {

boost::json::object emulator_stats(const emulator::Emulator& emu) {
    return boost::json::parse(emu.stats_json()).as_object();
}

std::int64_t stat_of(const emulator::Emulator& emu, std::string_view key) {
    return emulator_stats(emu).at(key).to_number<std::int64_t>();
}

std::optional<std::string> tag_value(const SandboxInfo& info, std::string_view key) {
    for (const auto& tag : info.group.tags) {
        if (tag.key == key)
            return tag.value;
    }
    return std::nullopt;
}

AsyncEciSandbox client_with_owner(AsyncSandboxFixture& fx, std::string owner) {
    auto config = client_config_for(fx.emulator->ready());
    config.lease.owner = std::move(owner);
    auto client = AsyncEciSandbox::from_config(fx.io.get_executor(), config);
    REQUIRE(client.ok());
    return std::move(client).value();
}

std::set<std::string> ids_of(const std::vector<SandboxInfo>& infos) {
    std::set<std::string> ids;
    for (const auto& info : infos)
        ids.insert(info.sandbox_id);
    return ids;
}

std::set<std::string> candidate_ids(const ReapReport& report) {
    std::set<std::string> ids;
    for (const auto& candidate : report.found)
        ids.insert(candidate.sandbox_id);
    return ids;
}

}  // namespace

TEST_CASE("leases e2e: create tags owner, lease and process, and sets ActiveDeadlineSeconds",
          "[leases-e2e]") {
    AsyncSandboxFixture fx;
    fx.run([&]() -> asio::awaitable<void> {
        auto client = client_with_owner(fx, "tagging-owner");
        CHECK(client.lease_owner() == "tagging-owner");
        CreateOptions options;
        options.image = "registry.example/ubuntu:22.04";
        options.lease = 600s;
        options.tags.push_back({"team", "infra"});
        const auto before = std::chrono::system_clock::now();
        auto created = co_await client.create(options);
        REQUIRE(created.ok());
        auto info = co_await created->info();
        REQUIRE(info.ok());
        CHECK(tag_value(*info, "team") == "infra");
        CHECK(tag_value(*info, lease_tags::owner) == "tagging-owner");
        auto lease = tag_value(*info, lease_tags::lease_expires);
        REQUIRE(lease);
        CHECK(*lease >= detail::format_utc_timestamp(before + 600s));
        auto process = tag_value(*info, lease_tags::process);
        REQUIRE(process);
        CHECK(process->find(fmt::format("/{}/", ::getpid())) != std::string::npos);

        // Without a lease option: the default lease, 30 minutes (a forgotten sandbox ends).
        CreateOptions plain;
        plain.image = "registry.example/ubuntu:22.04";
        const auto plain_before = std::chrono::system_clock::now();
        auto defaulted = co_await client.create(plain);
        const auto plain_after = std::chrono::system_clock::now();
        REQUIRE(defaulted.ok());
        auto plain_info = co_await defaulted->info();
        REQUIRE(plain_info.ok());
        auto default_lease = tag_value(*plain_info, lease_tags::lease_expires);
        REQUIRE(default_lease);
        CHECK(*default_lease >=
              detail::format_utc_timestamp(std::chrono::floor<std::chrono::seconds>(plain_before) +
                                           1800s));
        CHECK(*default_lease <= detail::format_utc_timestamp(plain_after + 1800s));

        // eci::no_lease asks for none: tagged "never", and no deadline.
        CreateOptions unleased_options = plain;
        unleased_options.lease = no_lease;
        auto unleased = co_await client.create(unleased_options);
        REQUIRE(unleased.ok());
        auto unleased_info = co_await unleased->info();
        REQUIRE(unleased_info.ok());
        CHECK(tag_value(*unleased_info, lease_tags::lease_expires) == "never");

        CreateOptions bad = plain;
        bad.lease = -1s;
        auto refused = co_await client.create(bad);
        REQUIRE_FALSE(refused.ok());
        CHECK(refused.error().kind == ErrorKind::invalid_argument);
    });
}

TEST_CASE("leases e2e: the lease's ActiveDeadlineSeconds ends the sandbox and its processes",
          "[leases-e2e]") {
    AsyncSandboxFixture fx;
    fx.run([&]() -> asio::awaitable<void> {
        CreateOptions options;
        options.image = "registry.example/ubuntu:22.04";
        options.lease = 3s;  // long enough to start a job first, even on a loaded machine
        options.wait_until_running = true;
        options.wait_timeout = 20s;
        auto created = co_await fx.client->create(options);
        REQUIRE(created.ok());
        // A background job that would outlive the sandbox if the deadline spared it.
        auto started = co_await created->bash("nohup sleep 300 >/dev/null 2>&1 &");
        REQUIRE(started.ok());
        CHECK(stat_of(*fx.emulator, "processes") > 0);

        std::optional<SandboxInfo> ended;
        const auto deadline = std::chrono::steady_clock::now() + 15s;
        while (std::chrono::steady_clock::now() < deadline) {
            auto info = co_await created->info();
            REQUIRE(info.ok());
            if (info->status == status::failed) {
                ended = std::move(info).value();
                break;
            }
            asio::steady_timer timer(co_await asio::this_coro::executor, 50ms);
            co_await timer.async_wait(asio::use_awaitable);
        }
        REQUIRE(ended);
        REQUIRE(ended->containers.size() == 1);
        CHECK(ended->containers[0].current_state.reason == "DeadlineExceeded");
        CHECK(std::any_of(ended->group.events.begin(), ended->group.events.end(),
                          [](const Event& e) { return e.reason == "DeadlineExceeded"; }));
        const std::function<bool()> processes_gone = [&] {
            return stat_of(*fx.emulator, "processes") == 0;
        };
        const bool no_processes = co_await wait_until(processes_gone, 5s);
        CHECK(no_processes);
        auto after = co_await created->bash("echo still here");
        REQUIRE_FALSE(after.ok());
        CHECK(after.error().code == "IncorrectStatus");
    });
}

TEST_CASE("leases e2e: reap finds and deletes exactly a SIGKILLed creator's sandboxes",
          "[leases-e2e]") {
    AsyncSandboxFixture fx;
    fx.run([&]() -> asio::awaitable<void> {
        const std::string owner = "crash-owner";
        const std::string other_owner = "bystander-owner";
        auto ours = client_with_owner(fx, owner);

        // A sandbox of the same owner whose creator (this process) is alive: not an orphan.
        CreateOptions live_options;
        live_options.image = "registry.example/ubuntu:22.04";
        live_options.lease = 1h;
        auto live = co_await ours.create(live_options);
        REQUIRE(live.ok());

        // The child creates 3 sandboxes for `owner` and 1 for `other_owner`, then is killed.
        int pipe_fds[2];
        REQUIRE(::pipe2(pipe_fds, O_CLOEXEC) == 0);
        const auto& ready = fx.emulator->ready();
        const std::string port = std::to_string(ready.port);
        const pid_t child = ::fork();
        REQUIRE(child >= 0);
        if (child == 0) {
            ::dup2(pipe_fds[1], STDOUT_FILENO);
            for (int fd = 3; fd < 1024; ++fd)
                ::close(fd);
            const char* helper = ECI_LEASE_CRASH_CHILD;
            ::execl(helper, helper, port.c_str(), ready.ca_file.c_str(),
                    ready.access_key_id.c_str(), ready.access_key_secret.c_str(),
                    ready.region_id.c_str(), owner.c_str(), "3", other_owner.c_str(),
                    static_cast<char*>(nullptr));
            ::_exit(127);
        }
        ::close(pipe_fds[1]);
        asio::posix::stream_descriptor output(co_await asio::this_coro::executor, pipe_fds[0]);
        std::string text;
        auto buffer = asio::dynamic_buffer(text);
        const std::string delimiter = "ready\n";
        auto [read_error, n] = co_await asio::async_read_until(output, buffer, delimiter,
                                                               asio::as_tuple(asio::use_awaitable));
        (void)n;
        ::kill(child, SIGKILL);
        int wait_status = 0;
        ::waitpid(child, &wait_status, 0);
        REQUIRE_FALSE(read_error);
        CHECK(WIFSIGNALED(wait_status));

        std::map<std::string, std::set<std::string>> by_owner;
        std::istringstream lines(text);
        std::string line_owner, id;
        while (lines >> line_owner && line_owner != "ready" && lines >> id)
            by_owner[line_owner].insert(id);
        REQUIRE(by_owner[owner].size() == 3);
        REQUIRE(by_owner[other_owner].size() == 1);
        CHECK(stat_of(*fx.emulator, "sandboxes") == 5);

        // Leases run for an hour: without orphan detection nothing is due.
        auto nothing = co_await ours.reap();
        REQUIRE(nothing.ok());
        CHECK(nothing->found.empty());
        CHECK(nothing->examined == 4);

        ReapOptions dry;
        dry.include_orphans = true;
        dry.dry_run = true;
        auto report = co_await ours.reap(dry);
        REQUIRE(report.ok());
        CHECK(report->dry_run);
        CHECK(candidate_ids(*report) == by_owner[owner]);
        for (const auto& candidate : report->found) {
            CHECK(candidate.reason == ReapReason::orphaned);
            CHECK(candidate.owner == owner);
        }
        CHECK(report->deleted.empty());
        CHECK(stat_of(*fx.emulator, "sandboxes") == 5);

        ReapOptions real = dry;
        real.dry_run = false;
        auto reaped = co_await ours.reap(real);
        REQUIRE(reaped.ok());
        CHECK(std::set<std::string>(reaped->deleted.begin(), reaped->deleted.end()) ==
              by_owner[owner]);
        CHECK(reaped->failed.empty());
        auto left = co_await ours.list_all();
        REQUIRE(left.ok());
        std::set<std::string> expected_left = by_owner[other_owner];
        expected_left.insert(live->id());
        CHECK(ids_of(*left) == expected_left);

        // The bystander's sandbox goes only when its lease is over (here: an hour from now).
        auto bystander = client_with_owner(fx, other_owner);
        auto early = co_await bystander.reap();
        REQUIRE(early.ok());
        CHECK(early->found.empty());
        ReapOptions later;
        later.now = std::chrono::system_clock::now() + 2h;
        auto expired = co_await bystander.reap(later);
        REQUIRE(expired.ok());
        REQUIRE(expired->found.size() == 1);
        CHECK(expired->found[0].reason == ReapReason::lease_expired);
        CHECK(expired->deleted ==
              std::vector<std::string>(by_owner[other_owner].begin(), by_owner[other_owner].end()));
        CHECK(stat_of(*fx.emulator, "sandboxes") == 1);
        auto removed = co_await live->remove();
        CHECK(removed.ok());
    });
}

TEST_CASE("leases e2e: the async guard deletes on scope exit unless released", "[leases-e2e]") {
    AsyncSandboxFixture fx;
    fx.run([&]() -> asio::awaitable<void> {
        CreateOptions options;
        options.image = "registry.example/ubuntu:22.04";
        std::string dropped_id, kept_id, explicit_id;
        {
            auto created = co_await fx.client->create(options);
            REQUIRE(created.ok());
            AsyncSandboxGuard guard(std::move(created).value());
            dropped_id = guard->id();
            CHECK(guard.armed());
        }
        std::optional<AsyncSandbox> kept;
        {
            auto created = co_await fx.client->create(options);
            REQUIRE(created.ok());
            AsyncSandboxGuard guard(std::move(created).value());
            kept.emplace(guard.release());
            kept_id = kept->id();
            CHECK_FALSE(guard.armed());
        }
        {
            auto created = co_await fx.client->create(options);
            REQUIRE(created.ok());
            AsyncSandboxGuard guard(std::move(created).value());
            explicit_id = guard->id();
            auto deleted = co_await guard.release_and_delete();
            CHECK(deleted.ok());
            CHECK_FALSE(guard.armed());
            auto again = co_await guard.release_and_delete();
            CHECK(again.ok());
        }
        // The destructor's delete runs detached on the executor: wait for it.
        const std::function<bool()> guard_deleted = [&] {
            return stat_of(*fx.emulator, "sandboxes") == 1;
        };
        const bool gone = co_await wait_until(guard_deleted);
        CHECK(gone);
        auto all = co_await fx.client->list_all();
        REQUIRE(all.ok());
        CHECK(ids_of(*all) == std::set<std::string>{kept_id});
        (void)co_await kept->remove();
    });
}

TEST_CASE("leases e2e: the blocking guard deletes on scope exit, reap works blocking",
          "[leases-e2e]") {
    EmulatorThread emu_thread;
    {
        auto config = client_config_for(emu_thread.ready());
        config.lease.owner = "blocking-owner";
        auto client = EciSandbox::from_config(config);
        REQUIRE(client.ok());
        CHECK(client->lease_owner() == "blocking-owner");
        CreateOptions create;
        create.image = "registry.example/ubuntu:22.04";
        create.lease = 1h;
        std::string kept_id;
        {
            auto sandbox = client->create(create);
            REQUIRE(sandbox.ok());
            SandboxGuard guard(std::move(sandbox).value());
            CHECK(guard->info().ok());
        }
        {
            auto sandbox = client->create(create);
            REQUIRE(sandbox.ok());
            SandboxGuard guard(std::move(sandbox).value());
            kept_id = guard.release().id();
        }
        auto all = client->list_all();
        REQUIRE(all.ok());
        REQUIRE(all->size() == 1);
        CHECK(all->front().sandbox_id == kept_id);

        ReapOptions reap;
        reap.now = std::chrono::system_clock::now() + 2h;
        reap.dry_run = true;
        auto dry = client->reap(reap);
        REQUIRE(dry.ok());
        REQUIRE(dry->found.size() == 1);
        CHECK(client->list_all()->size() == 1);
        reap.dry_run = false;
        auto done = client->reap(reap);
        REQUIRE(done.ok());
        CHECK(done->deleted == std::vector<std::string>{kept_id});
        CHECK(client->list_all()->empty());
    }
}
