// SPDX-License-Identifier: Apache-2.0
// quick_start_sync: the blocking facade (eci::EciSandbox, like the Python sync client). Creates
// a sandbox and waits until it is Running, runs bash (stdout, stderr and the exit code apart),
// reads its info, lists sandboxes, and deletes it (a SandboxGuard deletes it on any early exit).
//
// Configured from the environment like any program: ECI_SANDBOX_ACCESS_KEY_ID/SECRET (or
// ALIBABA_CLOUD_ACCESS_KEY_ID/SECRET), ECI_SANDBOX_REGION_ID, and optionally
// ECI_SANDBOX_ENDPOINT and ECI_SANDBOX_CA_FILE (docs/configuration.md); ECI_EXAMPLE_IMAGE picks
// the image (default ubuntu:22.04). Runs unchanged against the real service or eci-emulator.
#include <eci/sandbox.hpp>

#include <fmt/format.h>

#include <chrono>
#include <cstdlib>
#include <string>

int main() {
    auto client = eci::EciSandbox::from_config();  // eci::load_config(): environment, then .env
    if (!client) {
        fmt::print(stderr, "configuration: {}\n", client.error());
        return 1;
    }

    eci::CreateOptions options;
    const char* image = std::getenv("ECI_EXAMPLE_IMAGE");
    options.image = image ? image : "ubuntu:22.04";
    options.name = "quick-start-sync";
    options.cpu = 1.0;
    options.memory = 2.0;
    options.wait_until_running = true;
    options.wait_timeout = std::chrono::minutes(5);
    auto created = client->create(options);
    if (!created) {
        fmt::print(stderr, "create: {}\n", created.error());
        return 1;
    }
    eci::SandboxGuard sandbox(std::move(*created));
    fmt::print("sandbox {} is Running (container {})\n", sandbox->id(), sandbox->container_name());

    auto run = sandbox->bash("echo hello from $(hostname); echo to stderr >&2; exit 3");
    if (!run) {
        fmt::print(stderr, "bash: {}\n", run.error());
        return 1;
    }
    fmt::print("stdout: {}stderr: {}exit code: {}, took {} ms\n", run->stdout_text,
               run->stderr_text, run->exit_code.value_or(-1), run->duration.count());
    if (run->exit_code != 3)
        return 1;

    auto info = sandbox->info();
    if (!info) {
        fmt::print(stderr, "info: {}\n", info.error());
        return 1;
    }
    fmt::print("info: {} status {}, {} vCPU, {} GiB, created {}\n", info->name, info->status,
               info->cpu, info->memory, info->creation_time);

    eci::ListOptions filter;
    filter.name = info->name;
    auto page = client->list(filter);
    if (!page) {
        fmt::print(stderr, "list: {}\n", page.error());
        return 1;
    }
    fmt::print("list: {} sandbox(es) named {}\n", page->sandbox_ids.size(), info->name);

    auto removed = sandbox.remove();
    if (!removed) {
        fmt::print(stderr, "delete: {}\n", removed.error());
        return 1;
    }
    fmt::print("deleted\n");
    return 0;
}
