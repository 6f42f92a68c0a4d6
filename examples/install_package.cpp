// SPDX-License-Identifier: Apache-2.0
// install_package: create a sandbox and install a package in it, then use the package (Python
// create_and_install_ffmpeg). On the real service with a Debian/Ubuntu image and internet
// access this is
//     sandbox.bash("apt-get update && apt-get install -y ffmpeg", {.timeout = 600 s})
// followed by `ffmpeg -version`. The emulator's sandboxes run the host's binaries without a
// network, so this example ships its own small "package" instead: it writes the package's
// files with write_file_ws into /tmp/pkg, installs it with bash (its install script copies a
// tool into a bin directory on PATH), and runs the installed tool. The steps (upload, install
// with a long timeout, check the exit code, run) are the same.
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

constexpr const char* tool_script = R"sh(#!/bin/sh
# greet 1.0: prints a greeting and the version
case "$1" in
  --version) echo "greet 1.0" ;;
  *) echo "Hello, ${1:-world}! (from greet)" ;;
esac
)sh";

constexpr const char* install_script = R"sh(#!/bin/sh
set -e
prefix="${PREFIX:-$HOME/.local}"
mkdir -p "$prefix/bin"
cp /tmp/pkg/greet "$prefix/bin/greet"
chmod 755 "$prefix/bin/greet"
echo "installed greet into $prefix/bin"
)sh";

int run(eci::Sandbox& sandbox) {
    auto made = sandbox.bash("mkdir -p /tmp/pkg");
    if (!made || !made->success()) {
        fmt::print(stderr, "mkdir failed\n");
        return 1;
    }
    for (auto [path, content] : {std::pair{"/tmp/pkg/greet", tool_script},
                                 std::pair{"/tmp/pkg/install.sh", install_script}}) {
        auto written = sandbox.write_file_ws(path, content);
        if (!written) {
            fmt::print(stderr, "write_file_ws {}: {}\n", path, written.error());
            return 1;
        }
        fmt::print("uploaded {} ({} bytes)\n", path, written->size);
    }

    eci::ExecOptions install;
    install.timeout = 600s;  // package installs can be slow: the longest timeout
    auto installed = sandbox.bash("PREFIX=/tmp/pkg-root sh /tmp/pkg/install.sh", install);
    if (!installed || !installed->success()) {
        fmt::print(stderr, "install failed: {}\n",
                   installed ? installed->stderr_text : installed.error().to_string());
        return 1;
    }
    fmt::print("{}", installed->stdout_text);

    auto used = sandbox.bash("export PATH=/tmp/pkg-root/bin:$PATH; greet --version; greet ECI");
    if (!used || !used->success()) {
        fmt::print(stderr, "running the tool failed: {}\n",
                   used ? used->stderr_text : used.error().to_string());
        return 1;
    }
    fmt::print("{}", used->stdout_text);
    return used->stdout_text == "greet 1.0\nHello, ECI! (from greet)\n" ? 0 : 1;
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
    options.name = "install-package";
    options.cpu = 2.0;
    options.memory = 4.0;
    options.wait_until_running = true;
    auto created = client->create(options);
    if (!created) {
        fmt::print(stderr, "create: {}\n", created.error());
        return 1;
    }
    eci::SandboxGuard sandbox(std::move(*created));
    return run(*sandbox);
}
