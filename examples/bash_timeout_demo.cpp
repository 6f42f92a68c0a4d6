// SPDX-License-Identifier: Apache-2.0
// bash_timeout_demo: a bash command that outlives its timeout (Python bash_timeout_demo). The
// result is an error of kind timeout that still carries the output received so far
// (Error::partial), so the caller sees how far the command got.
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
    options.name = "bash-timeout-demo";
    options.wait_until_running = true;
    auto created = client->create(options);
    if (!created) {
        fmt::print(stderr, "create: {}\n", created.error());
        return 1;
    }
    eci::SandboxGuard sandbox(std::move(*created));

    eci::ExecOptions exec;
    exec.exec_dir = "/tmp";
    exec.timeout = 1500ms;  // the loop needs 5 s
    auto result = sandbox->bash("pwd; for i in 1 2 3 4 5; do echo tick-$i; sleep 1; done", exec);
    if (result) {
        fmt::print(stderr, "unexpected: the command finished within its timeout\n");
        return 1;
    }
    const eci::Error& error = result.error();
    fmt::print("error kind {}: {}\n", error.kind, error.message);
    if (error.kind != eci::ErrorKind::timeout || !error.partial) {
        fmt::print(stderr, "expected a timeout carrying the partial output\n");
        return 1;
    }
    fmt::print("outcome {}, output so far:\n{}", eci::to_string(error.partial->outcome),
               error.partial->output);
    // The shell printed its directory and the first tick before the deadline.
    return error.partial->output.find("/tmp\ntick-1") != std::string::npos ? 0 : 1;
}
