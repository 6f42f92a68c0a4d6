// SPDX-License-Identifier: Apache-2.0
// long_command_demo: commands far beyond the exec API's limits (each Command element at most
// 256 characters, 2048 bytes in all; Python long_command_demo). A 40 KB bash script runs
// through bash (sent on stdin) and bash_ws, a 300 KB file goes through write_file_ws and is
// checked in the sandbox, and a long tmux command travels as a script file.
//
// Configured from the environment (see quick_start_sync.cpp); ECI_EXAMPLE_IMAGE picks the
// image (default ubuntu:22.04).
#include <eci/sandbox.hpp>

#include <fmt/format.h>

#include <chrono>
#include <cstdlib>
#include <string>

using namespace std::chrono_literals;

namespace {

// A script of `lines` assignments, then a line that uses the first and the last.
std::string long_script(int lines) {
    std::string script;
    for (int i = 0; i < lines; ++i)
        script +=
            fmt::format("value_{}='configuration entry number {} of the long script'\n", i, i);
    script += fmt::format("echo \"first: $value_0\"; echo \"last: $value_{}\"\n", lines - 1);
    return script;
}

int run(eci::Sandbox& sandbox) {
    const std::string script = long_script(600);
    fmt::print("script: {} bytes\n", script.size());
    eci::ExecOptions options;
    options.timeout = 60s;
    options.exec_dir = "/tmp";
    auto ran = sandbox.bash(script, options);
    if (!ran || !ran->success()) {
        fmt::print(stderr, "bash: {}\n", ran ? ran->stderr_text : ran.error().to_string());
        return 1;
    }
    fmt::print("bash:\n{}", ran->stdout_text);
    auto shell = sandbox.bash_ws(script, options);
    if (!shell || !shell->success()) {
        fmt::print(stderr, "bash_ws: {}\n", shell ? shell->stderr_text : shell.error().to_string());
        return 1;
    }
    fmt::print("bash_ws:\n{}", shell->stdout_text);

    std::string big;
    for (int i = 1; big.size() < 300 * 1024; ++i)
        big += fmt::format("# This is line {}\n", i);
    auto written = sandbox.write_file_ws("/tmp/large_file.txt", big);
    if (!written) {
        fmt::print(stderr, "write_file_ws: {}\n", written.error());
        return 1;
    }
    fmt::print("wrote {} bytes, sha256 {}\n", written->size, written->sha256);
    auto counted = sandbox.bash("wc -l < /tmp/large_file.txt; sha256sum /tmp/large_file.txt");
    if (!counted || counted->stdout_text.find(written->sha256) == std::string::npos) {
        fmt::print(stderr, "the file in the sandbox is not what was written\n");
        return 1;
    }
    fmt::print("in the sandbox: {} lines\n",
               counted->stdout_text.substr(0, counted->stdout_text.find('\n')));

    eci::TmuxWaitOptions wait;
    wait.timeout = 60s;
    auto job = sandbox.tmux_start(script);  // too long to inline: a script file is written
    if (!job) {
        fmt::print(stderr, "tmux_start: {}\n", job.error());
        return 1;
    }
    auto done = sandbox.tmux_wait(*job, wait);
    if (!done || done->exit_code != 0) {
        fmt::print(stderr, "tmux_wait: {}\n", done ? "non-zero exit" : done.error().to_string());
        return 1;
    }
    fmt::print("tmux job {}: exit code 0\n{}\n", *job, done->output);
    return 0;
}

}  // namespace

int main() {
    auto client = eci::EciSandbox::from_config();
    if (!client) {
        fmt::print(stderr, "configuration: {}\n", client.error());
        return 1;
    }
    eci::CreateOptions options;
    const char* image = std::getenv("ECI_EXAMPLE_IMAGE");
    options.image = image ? image : "ubuntu:22.04";
    options.name = "long-command-demo";
    options.wait_until_running = true;
    auto created = client->create(options);
    if (!created) {
        fmt::print(stderr, "create: {}\n", created.error());
        return 1;
    }
    eci::SandboxGuard sandbox(std::move(*created));
    return run(*sandbox);
}
