// eci-demo: the README's first command. Starts the bundled emulator in-process (real HTTPS with
// its own CA, real signature checks, real isolated processes), then drives it with the library:
// create a sandbox, wait until Running, run a command, read its log, delete it, stop the emulator.
#include <eci/openapi_client.hpp>

#include "emulator/emulator.hpp"

#include <fmt/format.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <exception>
#include <thread>

namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {

// Fails the demo with the library's one-line error (never a stack trace).
#define DEMO_TRY(result, what)                                               \
    if (!(result).ok()) {                                                    \
        fmt::print(stderr, "demo: {} failed: {}\n", what, (result).error()); \
        co_return 1;                                                         \
    }

asio::awaitable<int> run_demo(eci::OpenApiClient client) {
    auto executor = co_await asio::this_coro::executor;

    eci::CreateContainerGroupRequest create;
    create.container_group_name = "demo-sandbox";
    eci::ContainerSpec container;
    container.name = "sandbox";
    container.image = "ubuntu:22.04";
    container.environment_vars = {{"GREETING", "hello from eci-sandbox"}};
    create.containers.push_back(container);
    create.tags = {{"app", "eci-demo"}};
    auto created = co_await client.create_container_group(create);
    DEMO_TRY(created, "CreateContainerGroup");
    const std::string id = created->container_group_id;
    fmt::print("created   {} (RequestId {})\n", id, created->request_id);

    // Wait until Running, polling with backoff.
    eci::DescribeContainerGroupsRequest describe;
    describe.container_group_ids = {id};
    std::string status;
    asio::steady_timer timer(executor);
    for (auto delay = 50ms; status != "Running"; delay = std::min(delay * 2, 1000ms)) {
        auto described = co_await client.describe_container_groups(describe);
        DEMO_TRY(described, "DescribeContainerGroups");
        if (described->container_groups.empty()) {
            fmt::print(stderr, "demo: {} vanished\n", id);
            co_return 1;
        }
        status = described->container_groups[0].status;
        fmt::print("status    {}\n", status);
        if (status != "Running") {
            timer.expires_after(delay);
            co_await timer.async_wait(asio::use_awaitable);
        }
    }

    eci::ExecContainerCommandRequest exec;
    exec.container_group_id = id;
    exec.container_name = "sandbox";
    exec.command = {"/bin/bash", "-c",
                    "echo \"$GREETING\"; echo \"kernel $(uname -r), pid $$\"; ls -d /workspace"};
    exec.sync = true;
    auto executed = co_await client.exec_container_command(exec);
    DEMO_TRY(executed, "ExecContainerCommand");
    fmt::print("exec      output:\n{}", executed->sync_response.value_or(""));

    eci::DeleteContainerGroupRequest remove;
    remove.container_group_id = id;
    auto deleted = co_await client.delete_container_group(remove);
    DEMO_TRY(deleted, "DeleteContainerGroup");
    fmt::print("deleted   {}\n", id);

    const auto stats = client.stats();
    fmt::print("client    {} API calls, {} retries, {} TLS handshake(s)\n", stats.total_api_calls(),
               stats.retries, stats.tls_handshakes);
    co_return 0;
}

}  // namespace

int main() {
    // The emulator runs on its own thread and io_context, as a separate server would.
    asio::io_context emulator_io;
    eci::emulator::EmulatorOptions options;
    options.start_delay = 200ms;
    auto emulator = eci::emulator::Emulator::start(emulator_io.get_executor(), options);
    if (!emulator.ok()) {
        fmt::print(stderr, "demo: cannot start the emulator: {}\n", emulator.error());
        return 1;
    }
    auto guard = asio::make_work_guard(emulator_io);
    std::thread emulator_thread([&] { emulator_io.run(); });
    const auto& ready = (*emulator)->ready();
    fmt::print("emulator  {}://{} (region {}, CA {})\n", ready.scheme, ready.endpoint,
               ready.region_id, ready.ca_file);

    eci::ConfigOverrides overrides;
    overrides.access_key_id = ready.access_key_id;
    overrides.access_key_secret = ready.access_key_secret;
    overrides.region_id = ready.region_id;
    overrides.endpoint = ready.scheme + "://" + ready.endpoint;
    overrides.ca_file = ready.ca_file;
    eci::ConfigSources sources;
    sources.read_dotenv = false;  // the demo talks to its own emulator only
    sources.getenv = [](std::string_view) { return std::optional<std::string>(); };
    auto config = eci::load_config(overrides, sources);

    int exit_code = 1;
    if (!config.ok()) {
        fmt::print(stderr, "demo: {}\n", config.error());
    } else {
        asio::io_context io;
        auto client = eci::OpenApiClient::create(io.get_executor(), *config);
        if (!client.ok()) {
            fmt::print(stderr, "demo: {}\n", client.error());
        } else {
            asio::co_spawn(io, run_demo(*client), [&](std::exception_ptr error, int code) {
                exit_code = error ? 1 : code;
            });
            io.run();
        }
    }

    // Stop the emulator: every sandbox process is killed before it returns.
    asio::co_spawn(emulator_io, (*emulator)->stop(), [&](std::exception_ptr) { guard.reset(); });
    emulator_thread.join();
    emulator->reset();
    fmt::print("emulator  stopped\n");
    return exit_code;
}
