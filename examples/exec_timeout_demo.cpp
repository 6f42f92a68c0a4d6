// SPDX-License-Identifier: Apache-2.0
// exec_timeout_demo: exec_command (an argv, no shell wrapper) with a timeout (Python
// exec_timeout_demo). A command that finishes in time returns its output and exit code; one
// that does not is an error of kind timeout whose Error::partial holds the output so far.
// Note: the exit code of exec_command comes from the server's exit frame, which the real
// service may not send; bash/bash_ws always know it.
//
// Configured from the environment (see quick_start_sync.cpp); ECI_EXAMPLE_IMAGE picks the
// image (default ubuntu:22.04).
#include <eci/sandbox.hpp>

#include <fmt/format.h>

#include <chrono>
#include <cstdlib>

using namespace std::chrono_literals;

int main() {
    auto client = eci::EciSandbox::from_config();
    if (!client) {
        fmt::print(stderr, "configuration: {}\n", client.error());
        return 1;
    }
    eci::CreateOptions options;
    const char* image = std::getenv("ECI_EXAMPLE_IMAGE");
    options.image = image ? image : "ubuntu:22.04";
    options.name = "exec-timeout-demo";
    options.wait_until_running = true;
    auto created = client->create(options);
    if (!created) {
        fmt::print(stderr, "create: {}\n", created.error());
        return 1;
    }
    eci::SandboxGuard sandbox(std::move(*created));

    eci::ExecOptions exec;
    exec.timeout = 10s;
    auto quick = sandbox->exec_command({"sh", "-c", "echo quick; echo on stderr >&2"}, exec);
    if (!quick) {
        fmt::print(stderr, "exec_command: {}\n", quick.error());
        return 1;
    }
    fmt::print("quick: stdout [{}] stderr [{}] in {} ms\n", quick->stdout_text, quick->stderr_text,
               quick->duration.count());

    exec.timeout = 1500ms;
    auto slow = sandbox->exec_command({"sh", "-c", "echo started; sleep 20; echo never"}, exec);
    if (slow) {
        fmt::print(stderr, "unexpected: the slow command finished\n");
        return 1;
    }
    fmt::print("slow: {} ({})\n", slow.error().kind, slow.error().message);
    if (slow.error().kind != eci::ErrorKind::timeout || !slow.error().partial)
        return 1;
    fmt::print("partial output: {}", slow.error().partial->stdout_text);
    return slow.error().partial->stdout_text == "started\n" ? 0 : 1;
}
