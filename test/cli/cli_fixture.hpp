// SPDX-License-Identifier: Apache-2.0
// The fixture of the CLI's end-to-end tests: `eci-sandbox emulator` as a child process (its
// ready line says where it listens), and one CLI process per command with the configuration
// in its environment (ECI_SANDBOX_ENDPOINT, ECI_SANDBOX_CA_FILE, ...).
#pragma once

#include "support/child_process.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <boost/json/value_to.hpp>

#include <catch2/catch.hpp>

#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#ifdef ECI_CLI_PATH

namespace eci::test::cli {

namespace json = boost::json;

inline constexpr const char* cli_path = ECI_CLI_PATH;
inline constexpr const char* test_secret = "cli-e2e-secret-Zq81xW";

/// A fresh directory (removed at the end): the CLI's working directory, so no .env of the
/// source tree is found, and a place for files.
struct TempDir {
    TempDir() {
        std::string pattern =
            (std::filesystem::temp_directory_path() / "eci-cli-test-XXXXXX").string();
        if (mkdtemp(pattern.data()) == nullptr)
            FAIL("mkdtemp failed");
        path = pattern;
    }
    ~TempDir() {
        std::error_code ignored;
        std::filesystem::remove_all(path, ignored);
    }
    std::filesystem::path path;
};

/// `eci-sandbox emulator` running, and how to reach it.
struct CliFixture {
    /// `exit_status`: the emulator's --exit-status (whether exec reports exit codes).
    /// `secret_args`: how the emulator gets its secret; empty = through the environment
    /// (ECI_EMULATOR_ACCESS_KEY_SECRET), never on argv, where `ps` shows it.
    /// `extra_args`: more emulator flags, after the fixture's own (a repeated flag wins).
    explicit CliFixture(std::string exit_status = "none", std::vector<std::string> secret_args = {},
                        std::vector<std::string> extra_args = {})
        : emulator(
              cli_path, emulator_args(exit_status, secret_args, extra_args),
              eci::test::ProcessOptions{
                  secret_args.empty()
                      ? std::vector<std::string>{std::string("ECI_EMULATOR_ACCESS_KEY_SECRET=") +
                                                 test_secret}
                      : std::vector<std::string>{},
                  dir.path.string(),
                  {},
                  {}}) {
        REQUIRE(emulator.pid() > 0);
        auto line = emulator.read_line(std::chrono::seconds(30));
        REQUIRE(line.has_value());
        auto ready = json::parse(*line).as_object();
        endpoint = json::value_to<std::string>(ready.at("endpoint"));
        ca_file = json::value_to<std::string>(ready.at("ca_file"));
        if (ready.contains("metadata_endpoint"))  // --metadata-listen among the args
            metadata_endpoint = json::value_to<std::string>(ready.at("metadata_endpoint"));
        REQUIRE(json::value_to<std::string>(ready.at("scheme")) == "https");
        REQUIRE_FALSE(ca_file.empty());
    }

    static std::vector<std::string> emulator_args(const std::string& exit_status,
                                                  const std::vector<std::string>& secret_args,
                                                  const std::vector<std::string>& extra_args) {
        std::vector<std::string> args = {"emulator",        "--start-delay-ms", "0",
                                         "--access-key-id", "LTAIclie2etest01", "--region",
                                         "cn-hangzhou",     "--exit-status",    exit_status};
        args.insert(args.end(), secret_args.begin(), secret_args.end());
        args.insert(args.end(), extra_args.begin(), extra_args.end());
        return args;
    }

    /// The environment of a CLI run: the emulator's endpoint, CA, region and keys.
    std::vector<std::string> environment(std::string secret = test_secret) const {
        return {"PATH=/usr/bin:/bin",
                "ECI_SANDBOX_ENDPOINT=https://" + endpoint,
                "ECI_SANDBOX_CA_FILE=" + ca_file,
                "ECI_SANDBOX_REGION_ID=cn-hangzhou",
                "ECI_SANDBOX_ACCESS_KEY_ID=LTAIclie2etest01",
                "ECI_SANDBOX_ACCESS_KEY_SECRET=" + secret};
    }

    ProcessResult cli(std::vector<std::string> args, std::string input = {},
                      std::optional<std::vector<std::string>> env = std::nullopt) const {
        eci::test::ProcessOptions options;
        options.environment = env ? *env : environment();
        options.working_directory = dir.path.string();
        options.input = std::move(input);
        options.deadline = std::chrono::seconds(60);
        auto result = eci::test::run_process(cli_path, args, options);
        INFO("stderr: " << result.err);
        CHECK_FALSE(result.timed_out);
        return result;
    }

    /// `create --json` (which waits for Running): a Running sandbox's id.
    std::string create_running(const std::string& name) const {
        auto created =
            cli({"create", "--image", "registry.example/ubuntu:22.04", "--name", name, "--env",
                 "GREETING=hello", "--port", "8080/TCP", "--tag", "suite=cli", "--json"});
        INFO("stdout: " << created.out << " stderr: " << created.err);
        REQUIRE(created.exit_code == 0);
        auto object = json::parse(created.out).as_object();
        CHECK(json::value_to<std::string>(object.at("status")) == "Running");
        auto id = json::value_to<std::string>(object.at("sandbox_id"));
        REQUIRE_FALSE(id.empty());
        return id;
    }

    TempDir dir;
    eci::test::ChildProcess emulator;
    std::string endpoint;
    std::string ca_file;
    std::string metadata_endpoint;  ///< host:port of its metadata service, if it serves one
};

inline bool mentions_secret(const ProcessResult& result) {
    return result.out.find(test_secret) != std::string::npos ||
           result.err.find(test_secret) != std::string::npos;
}

}  // namespace eci::test::cli

#endif  // ECI_CLI_PATH
