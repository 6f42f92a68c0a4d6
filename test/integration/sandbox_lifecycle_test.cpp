// SPDX-License-Identifier: Apache-2.0
// The sandbox lifecycle end to end against the emulator over TLS: create (with wait), get,
// info, list and list_all, remove (twice), restart, not-found errors.
#include "integration/sandbox_fixture.hpp"

#include <algorithm>
#include <set>
#include <vector>

using namespace eci;
using namespace eci::test;
namespace asio = boost::asio;

TEST_CASE("sandbox e2e: create waits for Running, get learns the container", "[sandbox-e2e]") {
    AsyncSandboxFixture fx;
    fx.run([&]() -> asio::awaitable<void> {
        CreateOptions options;
        options.image = "registry.example/ubuntu:22.04";
        options.name = "My_Test Box";
        options.container_name = "main";
        options.wait_until_running = true;
        options.wait_timeout = std::chrono::seconds(20);
        auto created = co_await fx.client->create(options);
        REQUIRE(created.ok());
        CHECK(created->container_name() == "main");
        auto info = co_await created->info();
        REQUIRE(info.ok());
        CHECK(info->status == "Running");
        CHECK(info->name == "my-test-box");
        CHECK(info->sandbox_id == created->id());
        CHECK_FALSE(info->request_id.empty());
        REQUIRE(info->containers.size() == 1);

        auto got = co_await fx.client->get(created->id());
        REQUIRE(got.ok());
        CHECK(got->container_name() == "main");
        auto run = co_await got->bash("echo handle");
        REQUIRE(run.ok());
        CHECK(run->stdout_text == "handle\n");
    });
}

TEST_CASE("sandbox e2e: list pages, list_pages streams and stops, list_all walks every page",
          "[sandbox-e2e]") {
    AsyncSandboxFixture fx;
    fx.run([&]() -> asio::awaitable<void> {
        std::set<std::string> ids;
        for (int i = 0; i < 5; ++i) {
            CreateOptions options;
            options.image = "registry.example/ubuntu:22.04";
            auto created = co_await fx.client->create(options);
            REQUIRE(created.ok());
            CHECK(created->container_name() == "sandbox");
            ids.insert(created->id());
        }
        ListOptions page_options;
        page_options.limit = 2;
        auto page = co_await fx.client->list(page_options);
        REQUIRE(page.ok());
        CHECK(page->sandbox_ids.size() == 2);
        CHECK(page->max_results == 2);
        CHECK(page->total_count == 5);
        CHECK_FALSE(page->next_token.empty());

        ListOptions clamped;
        clamped.limit = 500;
        auto big = co_await fx.client->list(clamped);
        REQUIRE(big.ok());
        CHECK(big->max_results == 20);
        CHECK(big->sandbox_ids.size() == 5);

        auto all = co_await fx.client->list_all(page_options);
        REQUIRE(all.ok());
        std::set<std::string> listed;
        for (const auto& info : *all)
            listed.insert(info.sandbox_id);
        CHECK(listed == ids);

        // list_pages: the pages as they come, an early stop, and going on from its token.
        ListOptions options = page_options;
        // The whole listing: pages of 2, 2 and 1. (Named handlers: GCC 12 miscompiles a
        // class-type temporary inside a co_await.)
        std::vector<std::size_t> sizes;
        std::set<std::string> streamed;
        ListPageHandler whole_handler = [&](const ListPage& got) {
            sizes.push_back(got.sandboxes.size());
            for (const auto& info : got.sandboxes)
                streamed.insert(info.sandbox_id);
            return true;
        };
        auto whole = co_await fx.client->list_pages(options, whole_handler);
        REQUIRE(whole.ok());
        CHECK(sizes == std::vector<std::size_t>{2, 2, 1});
        CHECK(streamed == ids);
        CHECK(whole->pages == 3);
        CHECK(whole->sandboxes == 5);
        CHECK_FALSE(whole->stopped);
        CHECK(whole->next_token.empty());

        // Stop after the first page, then go on from where it stopped.
        std::set<std::string> first_part;
        ListPageHandler stopped_handler = [&](ListPage got) {
            for (auto& info : got.sandboxes)
                first_part.insert(std::move(info.sandbox_id));
            return false;
        };
        auto stopped = co_await fx.client->list_pages(options, stopped_handler);
        REQUIRE(stopped.ok());
        CHECK(stopped->stopped);
        CHECK(stopped->pages == 1);
        CHECK(first_part.size() == 2);
        REQUIRE_FALSE(stopped->next_token.empty());
        options.next_token = stopped->next_token;
        std::set<std::string> rest;
        ListPageHandler resumed_handler = [&](const ListPage& got) {
            for (const auto& info : got.sandboxes)
                rest.insert(info.sandbox_id);
            return true;
        };
        auto resumed = co_await fx.client->list_pages(options, resumed_handler);
        REQUIRE(resumed.ok());
        CHECK(resumed->pages == 2);
        CHECK(rest.size() == 3);
        rest.insert(first_part.begin(), first_part.end());
        CHECK(rest == ids);
    });
}

TEST_CASE("sandbox e2e: remove twice succeeds, then the sandbox is not found", "[sandbox-e2e]") {
    AsyncSandboxFixture fx;
    fx.run([&]() -> asio::awaitable<void> {
        auto sandbox = co_await make_running_sandbox(*fx.client, "to-delete");
        auto first = co_await sandbox.remove();
        REQUIRE(first.ok());
        CHECK_FALSE(first->request_id.empty());
        auto second = co_await fx.client->remove(sandbox.id());
        CHECK(second.ok());

        auto info = co_await fx.client->get_sandbox(sandbox.id());
        REQUIRE_FALSE(info.ok());
        CHECK(info.error().kind == ErrorKind::not_found);
        CHECK(info.error().message.find(sandbox.id()) != std::string::npos);

        auto got = co_await fx.client->get("eci-does-not-exist");
        REQUIRE_FALSE(got.ok());
        CHECK(got.error().kind == ErrorKind::not_found);

        auto exec = co_await sandbox.bash("echo never");
        REQUIRE_FALSE(exec.ok());
        INFO(exec.error().to_string());
        CHECK((exec.error().kind == ErrorKind::not_found ||
               exec.error().kind == ErrorKind::invalid_argument));
        CHECK(exec.error().dispatch == Dispatch::refused);
        CHECK(exec.error().partial == nullptr);
    });
}

TEST_CASE("sandbox e2e: restart and wait until Running again", "[sandbox-e2e]") {
    AsyncSandboxFixture fx;
    fx.run([&]() -> asio::awaitable<void> {
        auto sandbox = co_await make_running_sandbox(*fx.client, "restart-me");
        auto restarted = co_await sandbox.restart();
        REQUIRE(restarted.ok());
        CHECK_FALSE(restarted->request_id.empty());
        auto running = co_await sandbox.wait_until_running(std::chrono::seconds(20));
        REQUIRE(running.ok());
        CHECK(running->status == "Running");
        auto run = co_await sandbox.bash("echo after restart");
        REQUIRE(run.ok());
        CHECK(run->stdout_text == "after restart\n");
    });
}

TEST_CASE("sandbox e2e: create refuses a missing image locally", "[sandbox-e2e]") {
    AsyncSandboxFixture fx;
    fx.run([&]() -> asio::awaitable<void> {
        // A named variable: GCC 12 miscompiles an aggregate temporary built inside a coroutine.
        CreateOptions empty;
        auto created = co_await fx.client->create(empty);
        REQUIRE_FALSE(created.ok());
        CHECK(created.error().kind == ErrorKind::invalid_argument);
        co_return;
    });
}
