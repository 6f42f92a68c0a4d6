// SPDX-License-Identifier: Apache-2.0
// eci-example-driver: runs one example program against a fresh eci-emulator, as a user would
// run it against the service: starts the emulator as a child process, reads its ready line
// (endpoint, CA file, region, keys), exports them as ECI_SANDBOX_ENDPOINT, ECI_SANDBOX_CA_FILE,
// ECI_SANDBOX_REGION_ID and ALIBABA_CLOUD_ACCESS_KEY_ID/SECRET, runs the example with a
// deadline, prints its output, stops the emulator, and exits with the example's exit code
// (1 when it timed out or the emulator did not start or stop cleanly).
//
// Usage: eci-example-driver <eci-emulator> <example> <deadline-seconds> [emulator flags...]
#include "support/child_process.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <fmt/format.h>

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <vector>

namespace json = boost::json;

namespace {

std::string field(const json::object& object, std::string_view name) {
    const auto* value = object.if_contains(name);
    return value && value->is_string() ? std::string(value->as_string()) : std::string();
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 4) {
        fmt::print(stderr,
                   "usage: eci-example-driver <eci-emulator> <example> <deadline-seconds> "
                   "[emulator flags...]\n");
        return 2;
    }
    const std::string emulator_binary = argv[1];
    const std::string example = argv[2];
    const auto deadline = std::chrono::seconds(std::atoi(argv[3]));
    std::vector<std::string> emulator_args;  // argv[0] is added by ChildProcess
    for (int i = 4; i < argc; ++i)
        emulator_args.emplace_back(argv[i]);

    eci::test::ProcessOptions emulator_options;  // the emulator gets the driver's environment
    for (char** entry = environ; *entry != nullptr; ++entry)
        emulator_options.environment.emplace_back(*entry);
    eci::test::ChildProcess emulator(emulator_binary, emulator_args, emulator_options);
    if (emulator.pid() < 0) {
        fmt::print(stderr, "driver: cannot start {}\n", emulator_binary);
        return 1;
    }
    auto line = emulator.read_line(std::chrono::seconds(30));
    if (!line) {
        fmt::print(stderr, "driver: the emulator printed no ready line\n");
        return 1;
    }
    boost::system::error_code ec;
    auto ready = json::parse(*line, ec);
    if (ec || !ready.is_object()) {
        fmt::print(stderr, "driver: not a ready line: {}\n", *line);
        return 1;
    }
    const auto& info = ready.as_object();
    const std::string endpoint = field(info, "scheme") + "://" + field(info, "endpoint");
    fmt::print("driver: emulator at {} (CA {})\n", endpoint, field(info, "ca_file"));

    // The example's whole environment: what a user would set, and nothing else (no stray
    // ECI_* variables of the machine running the tests).
    eci::test::ProcessOptions options;
    options.deadline = deadline;
    const char* path = std::getenv("PATH");
    options.environment = {
        fmt::format("PATH={}", path ? path : "/usr/bin:/bin"),
        "LANG=C.UTF-8",
        "ECI_SANDBOX_ENDPOINT=" + endpoint,
        "ECI_SANDBOX_CA_FILE=" + field(info, "ca_file"),
        "ECI_SANDBOX_REGION_ID=" + field(info, "region_id"),
        "ALIBABA_CLOUD_ACCESS_KEY_ID=" + field(info, "access_key_id"),
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET=" + field(info, "access_key_secret"),
    };
    const auto begun = std::chrono::steady_clock::now();
    auto result = eci::test::run_process(example, {}, options);
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - begun);
    fmt::print("{}", result.out);
    fmt::print(stderr, "{}", result.err);
    fmt::print("driver: {} exited with {} after {} ms{}\n", example, result.exit_code, took.count(),
               result.timed_out ? " (deadline passed: killed)" : "");

    const int emulator_status = emulator.stop();
    if (emulator_status != 0) {
        fmt::print(stderr, "driver: the emulator exited with {}\n", emulator_status);
        return 1;
    }
    if (result.timed_out)
        return 1;
    return result.exit_code;
}
