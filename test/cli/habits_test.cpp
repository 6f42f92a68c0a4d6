// SPDX-License-Identifier: Apache-2.0
// The CLI's everyday habits (issue #18, "A CLI with the habits people have"), end to end
// against `eci-sandbox emulator` over TLS: stdin forwarding, `exec ID CMD ARGS` without `--`,
// -h, "did you mean", --quiet, --env/--workdir, multi-id and tag delete, --status checks.
#include "cli/cli_fixture.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value_to.hpp>

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#if defined(ECI_CLI_PATH) && !defined(ECI_CLI_NO_EMULATOR)

using namespace eci::test::cli;

namespace {

/// `create --json` without waiting: the new id.
std::string create_detached(const CliFixture& fixture, std::vector<std::string> extra = {}) {
    std::vector<std::string> args{"create", "--image", "registry.example/ubuntu:22.04", "--json"};
    args.insert(args.end(), extra.begin(), extra.end());
    auto created = fixture.cli(args);
    INFO("stderr: " << created.err);
    REQUIRE(created.exit_code == 0);
    return json::value_to<std::string>(json::parse(created.out).at("sandbox_id"));
}

}  // namespace

TEST_CASE("cli habits: stdin reaches bash and exec, and the command sees its end", "[cli][e2e]") {
    CliFixture fixture;
    const std::string id = fixture.create_running("cli-stdin");

    auto bash = fixture.cli({"bash", id, "cat"}, "hi\n");
    CHECK(bash.exit_code == 0);
    CHECK(bash.out == "hi\n");
    // Binary input arrives byte for byte; the command's own code still comes back.
    std::string bytes = "a\x01\xff";
    bytes.push_back('\0');
    bytes += "z";
    auto counted = fixture.cli({"bash", id, "wc -c; exit 4"}, bytes);
    CHECK(counted.exit_code == 4);
    CHECK(counted.out == "5\n");

    auto exec = fixture.cli({"exec", id, "sh", "-c", "cat; echo end"}, "from stdin\n");
    CHECK(exec.exit_code == 0);
    CHECK(exec.out == "from stdin\nend\n");

    // --no-stdin reads nothing: the input stays where it is.
    auto ignored = fixture.cli({"exec", id, "--no-stdin", "sh", "-c", "cat; echo end"}, "x\n");
    CHECK(ignored.exit_code == 0);
    CHECK(ignored.out == "end\n");
}

TEST_CASE("cli habits: exec without --, --env, --workdir, -h", "[cli][e2e]") {
    CliFixture fixture;
    const std::string id = fixture.create_running("cli-exec-words");

    // Everything after the command word is the command's, options included.
    auto words = fixture.cli({"exec", id, "echo", "-n", "hi", "--json", "-h"});
    CHECK(words.exit_code == 0);
    CHECK(words.out == "hi --json -h");
    auto separated = fixture.cli({"exec", id, "--", "echo", "--timeout"});
    CHECK(separated.out == "--timeout\n");

    REQUIRE(fixture.cli({"bash", id, "mkdir -p /tmp/cli-wd"}).exit_code == 0);
    auto env = fixture.cli({"exec", id, "-e", "A=one two", "--env", "B=2", "-w", "/tmp/cli-wd",
                            "sh", "-c", "echo \"$A|$B|$(pwd)\""});
    INFO("stderr: " << env.err);
    CHECK(env.exit_code == 0);
    CHECK(env.out == "one two|2|/tmp/cli-wd\n");
    auto bash_env = fixture.cli(
        {"bash", id, "-e", "X=it's", "--workdir", "/tmp/cli-wd", "echo \"$X\" \"$(pwd)\""});
    CHECK(bash_env.exit_code == 0);
    CHECK(bash_env.out == "it's /tmp/cli-wd\n");
    CHECK(fixture.cli({"exec", id, "--env", "1X=y", "true"}).exit_code == 2);
    auto bad_dir = fixture.cli({"exec", id, "-w", "/nonexistent-dir", "true"});
    CHECK(bad_dir.exit_code != 0);
    CHECK(bad_dir.err.find("nonexistent-dir") != std::string::npos);

    auto help = fixture.cli({"exec", "-h"});
    CHECK(help.exit_code == 0);
    CHECK(help.out.find("Usage: eci-sandbox exec ID [options] ARGV...") != std::string::npos);
    CHECK(help.out.find("-e, --env K=V") != std::string::npos);
    auto top = fixture.cli({"-h"});
    CHECK(top.exit_code == 0);
    CHECK(top.out.find("Commands:") != std::string::npos);
}

TEST_CASE("cli habits: did you mean, --status checked", "[cli][e2e]") {
    CliFixture fixture;
    auto command = fixture.cli({"lsit"});
    CHECK(command.exit_code == 2);
    CHECK(
        command.err ==
        "eci-sandbox: unknown command 'lsit' (did you mean 'list'?) (see 'eci-sandbox --help')\n");
    auto sub = fixture.cli({"tmux", "strat", "ID", "true"});
    CHECK(sub.exit_code == 2);
    CHECK(sub.err.find("did you mean 'tmux start'?") != std::string::npos);
    auto option = fixture.cli({"create", "--imgae", "x"});
    CHECK(option.exit_code == 2);
    CHECK(option.err.rfind("eci-sandbox create: unknown option '--imgae' (did you mean '--image'?)",
                           0) == 0);
    auto far = fixture.cli({"create", "--zzzzzzzz"});
    CHECK(far.err.find("did you mean") == std::string::npos);

    auto bogus = fixture.cli({"list", "--status", "Bogus"});
    CHECK(bogus.exit_code == 2);
    CHECK(bogus.out.empty());
    CHECK(bogus.err.find("unknown status") != std::string::npos);
    auto near = fixture.cli({"list", "--status", "Runing"});
    CHECK(near.exit_code == 2);
    CHECK(near.err.find("did you mean Running?") != std::string::npos);
    CHECK(fixture.cli({"list", "--status", "running"}).exit_code == 0);
}

TEST_CASE("cli habits: --quiet prints ids, delete takes several ids or tags", "[cli][e2e]") {
    CliFixture fixture;
    const std::string a = create_detached(fixture, {"--tag", "batch=one"});
    const std::string b = create_detached(fixture, {"--tag", "batch=one"});
    const std::string c = create_detached(fixture);
    const std::string d = create_detached(fixture);

    auto quiet = fixture.cli({"list", "-q"});
    REQUIRE(quiet.exit_code == 0);
    std::vector<std::string> lines;
    for (std::size_t start = 0, end; (end = quiet.out.find('\n', start)) != std::string::npos;
         start = end + 1)
        lines.push_back(quiet.out.substr(start, end - start));
    std::sort(lines.begin(), lines.end());
    std::vector<std::string> all{a, b, c, d};
    std::sort(all.begin(), all.end());
    CHECK(lines == all);

    auto by_tag = fixture.cli({"delete", "--tag", "batch=one", "--quiet"});
    CHECK(by_tag.exit_code == 0);
    CHECK((by_tag.out == a + "\n" + b + "\n" || by_tag.out == b + "\n" + a + "\n"));
    auto by_ids = fixture.cli({"delete", c, d});
    CHECK(by_ids.exit_code == 0);
    CHECK(by_ids.out == "deleted " + c + "\ndeleted " + d + "\n");
    CHECK(fixture.cli({"list", "-q"}).out.empty());

    CHECK(fixture.cli({"delete"}).exit_code == 2);
    CHECK(fixture.cli({"delete", c, "--tag", "batch=one"}).exit_code == 2);
}

TEST_CASE("cli habits: --json numbers, one create shape, errors as JSON on stdout", "[cli][e2e]") {
    CliFixture fixture;
    auto waited = fixture.cli(
        {"create", "--image", "registry.example/ubuntu:22.04", "--cpu", "0.5", "--json"});
    REQUIRE(waited.exit_code == 0);
    // Plain JSON numbers, not Boost.JSON's exponent form.
    CHECK(waited.out.find("\"cpu\":0.5,") != std::string::npos);
    CHECK(waited.out.find("\"memory\":2,") != std::string::npos);
    CHECK(waited.out.find("E0") == std::string::npos);
    CHECK(waited.out.find("E-1") == std::string::npos);

    auto plain =
        fixture.cli({"create", "--image", "registry.example/ubuntu:22.04", "--no-wait", "--json"});
    REQUIRE(plain.exit_code == 0);
    auto keys = [](const std::string& text) {
        std::vector<std::string> names;
        const auto parsed = json::parse(text);  // named: the loop must not outlive it
        for (const auto& member : parsed.as_object())
            names.emplace_back(member.key());
        std::sort(names.begin(), names.end());
        return names;
    };
    CHECK(keys(plain.out) == keys(waited.out));
    CHECK(keys(plain.out).size() > 5);

    auto missing = fixture.cli({"info", "eci-doesnotexist", "--json"});
    CHECK(missing.exit_code == 1);
    auto error = json::parse(missing.out).at("error").as_object();
    CHECK(json::value_to<std::string>(error.at("kind")) == "not_found");
    CHECK(error.contains("request_id"));
    CHECK(missing.err.rfind("eci-sandbox: error: not_found", 0) == 0);

    auto usage = fixture.cli({"--json", "list", "--status", "Bogus"});
    CHECK(usage.exit_code == 2);
    CHECK(json::value_to<std::string>(json::parse(usage.out).at("error").at("kind")) == "usage");
    auto unknown = fixture.cli({"--json", "frobnicate"});
    CHECK(unknown.exit_code == 2);
    CHECK(json::parse(unknown.out).at("error").at("kind") == "usage");
    // Without --json stdout stays empty.
    CHECK(fixture.cli({"info", "eci-doesnotexist"}).out.empty());
}

TEST_CASE("cli habits: a killed command shows no wrapper internals on stderr", "[cli][e2e]") {
    CliFixture fixture;
    const std::string id = fixture.create_running("cli-killed");
    auto bash = fixture.cli({"bash", id, "echo before >&2; kill -9 $$"});
    CHECK(bash.exit_code == 137);
    CHECK(bash.err == "before\n");
    // The same with input (the command then runs from a temporary file).
    auto with_input = fixture.cli({"bash", id, "cat >&2; kill -9 $$"}, "in\n");
    CHECK(with_input.exit_code == 137);
    CHECK(with_input.err == "in\n");
    auto exec = fixture.cli({"exec", id, "sh", "-c", "echo before >&2; kill -9 $$"});
    CHECK(exec.exit_code == 137);
    // At most the word a local shell says too (dash's "Killed"); never the wrapper.
    CHECK((exec.err == "before\n" || exec.err == "before\nKilled\n"));
}

namespace {

/// A TCP port that accepts connections into its backlog and never answers: a server that
/// hangs (the TLS handshake never completes).
struct SilentListener {
    SilentListener() {
        fd = ::socket(AF_INET, SOCK_STREAM, 0);
        REQUIRE(fd >= 0);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
        REQUIRE(::listen(fd, 16) == 0);
        socklen_t length = sizeof address;
        REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0);
        port = ntohs(address.sin_port);
    }
    ~SilentListener() { ::close(fd); }
    int fd = -1;
    int port = 0;
};

}  // namespace

TEST_CASE("cli habits: a silent endpoint, --timeout bounds the wait, retries are said",
          "[cli][e2e]") {
    CliFixture fixture;
    SilentListener silent;
    const std::string endpoint = "https://127.0.0.1:" + std::to_string(silent.port);
    const auto started = std::chrono::steady_clock::now();
    auto hung = fixture.cli({"list", "--endpoint", endpoint, "--timeout", "1.5"});
    const auto took = std::chrono::steady_clock::now() - started;
    INFO("stderr: " << hung.err);
    CHECK(hung.exit_code != 0);
    CHECK(took < std::chrono::seconds(10));  // not the default minute
    CHECK(hung.err.find("127.0.0.1") != std::string::npos);

    // A refused port is retried; each retry is said on stderr as it happens, and the final
    // error says how long the call tried in all.
    SilentListener closed;
    const std::string refused_endpoint = "https://127.0.0.1:" + std::to_string(closed.port);
    ::close(closed.fd);
    closed.fd = -1;
    auto refused = fixture.cli({"list", "--endpoint", refused_endpoint, "--timeout", "1"});
    INFO("stderr: " << refused.err);
    CHECK(refused.exit_code != 0);
    CHECK(refused.err.find("eci-sandbox: info: DescribeContainerGroups: attempt 1 failed") !=
          std::string::npos);
    CHECK(refused.err.find("retrying in") != std::string::npos);
    CHECK(refused.err.find("gave up after") != std::string::npos);
    CHECK_FALSE(mentions_secret(refused));

    // --verbose: every request; a bad --timeout is a usage error.
    auto verbose = fixture.cli({"list", "--verbose"});
    CHECK(verbose.exit_code == 0);
    CHECK(verbose.err.find("debug: DescribeContainerGroups: attempt 1 to") != std::string::npos);
    CHECK_FALSE(mentions_secret(verbose));
    CHECK(fixture.cli({"list"}).err.empty());
    CHECK(fixture.cli({"list", "--timeout", "soon"}).exit_code == 2);
}

TEST_CASE("cli habits: logs prints the main process's output", "[cli][e2e]") {
    CliFixture fixture;
    auto created =
        fixture.cli({"create", "--image", "registry.example/ubuntu:22.04", "--json", "--", "sh",
                     "-c", "echo first; echo second; echo third; exec sleep 600"});
    INFO("stderr: " << created.err);
    REQUIRE(created.exit_code == 0);
    const auto id = json::value_to<std::string>(json::parse(created.out).at("sandbox_id"));
    // The main process writes on its own schedule: wait for the last line, with a deadline.
    std::string log;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (log.find("third\n") == std::string::npos &&
           std::chrono::steady_clock::now() < deadline) {
        auto run = fixture.cli({"logs", id});
        REQUIRE(run.exit_code == 0);
        log = run.out;
        if (log.find("third\n") == std::string::npos)
            ::usleep(100000);
    }
    CHECK(log == "first\nsecond\nthird\n");
    CHECK(fixture.cli({"logs", id, "--tail", "1"}).out == "third\n");
    auto as_json = fixture.cli({"logs", id, "--tail", "2", "--json"});
    REQUIRE(as_json.exit_code == 0);
    auto object = json::parse(as_json.out).as_object();
    CHECK(json::value_to<std::string>(object.at("content")) == "second\nthird\n");
    CHECK(json::value_to<std::string>(object.at("container_name")) == "sandbox");
    CHECK(fixture.cli({"logs", id, "--tail", "0"}).exit_code == 2);
    auto missing = fixture.cli({"logs", "eci-doesnotexist"});
    CHECK(missing.exit_code == 1);
    CHECK(missing.err.rfind("eci-sandbox: error: not_found", 0) == 0);
}

namespace {

/// What the generated bash completion offers for `words` (the last one being completed).
std::string bash_completes(const std::string& script, const std::vector<std::string>& words) {
    std::string array;
    for (const auto& word : words)
        array += " '" + word + "'";
    eci::test::ProcessOptions options;
    options.environment = {"PATH=/usr/bin:/bin"};
    options.input = script + "\nCOMP_WORDS=(eci-sandbox" + array +
                    ")\nCOMP_CWORD=" + std::to_string(words.size()) +
                    "\n_eci_sandbox\nprintf '%s\\n' \"${COMPREPLY[@]}\"\n";
    auto run = eci::test::run_process("/bin/bash", {"-s"}, options);
    INFO("stderr: " << run.err);
    CHECK(run.exit_code == 0);
    CHECK(run.err.empty());
    return run.out;
}

}  // namespace

TEST_CASE("cli habits: bash and zsh completion from the command table", "[cli]") {
    TempDir dir;
    eci::test::ProcessOptions options;
    options.environment = {"PATH=/usr/bin:/bin"};
    options.working_directory = dir.path.string();
    auto bash = eci::test::run_process(cli_path, {"completion", "bash"}, options);
    REQUIRE(bash.exit_code == 0);
    CHECK(bash_completes(bash.out, {"cre"}) == "create\n");
    CHECK(bash_completes(bash.out, {"--region", "x", "l"}) == "list\nlogs\n");
    CHECK(bash_completes(bash.out, {"tmux", "st"}) == "start\n");
    CHECK(bash_completes(bash.out, {"exec", "ID", "--wor"}) == "--workdir\n");
    CHECK(bash_completes(bash.out, {"tmux", "wait", "--ke"}) == "--keep\n");
    CHECK(bash_completes(bash.out, {"list", "--qu"}) == "--quiet\n");

    auto zsh = eci::test::run_process(cli_path, {"completion", "zsh"}, options);
    REQUIRE(zsh.exit_code == 0);
    CHECK(zsh.out.rfind("#compdef eci-sandbox\n", 0) == 0);
    CHECK(zsh.out.find("'create:create a sandbox and print its id'") != std::string::npos);
    CHECK(zsh.out.find("'start:start a job in a new tmux session, print its id'") !=
          std::string::npos);
    CHECK(zsh.out.find("--workdir") != std::string::npos);
    CHECK(eci::test::run_process(cli_path, {"completion", "fish"}, options).exit_code == 2);
}

namespace {

/// A HOME holding ~/.aliyun/config.json with `profiles` (a JSON array's elements).
std::string write_aliyun_config(const TempDir& dir, const std::string& home_name,
                                const std::string& current, const std::string& profiles) {
    const auto home = dir.path / home_name;
    std::filesystem::create_directories(home / ".aliyun");
    std::ofstream(home / ".aliyun" / "config.json")
        << R"({"current":")" << current << R"(","profiles":[)" << profiles << "]}";
    return home.string();
}

std::string ak_profile(const std::string& name, const std::string& secret) {
    return R"({"name":")" + name +
           R"(","mode":"AK","access_key_id":"LTAIclie2etest01","access_key_secret":")" + secret +
           R"(","region_id":"cn-hangzhou"})";
}

/// The fixture's environment without credentials, with HOME set.
std::vector<std::string> without_keys(const CliFixture& fixture, const std::string& home) {
    std::vector<std::string> env;
    for (const auto& entry : fixture.environment()) {
        if (entry.find("ACCESS_KEY") == std::string::npos)
            env.push_back(entry);
    }
    env.push_back("HOME=" + home);
    return env;
}

}  // namespace

TEST_CASE("cli habits: credentials from ~/.aliyun/config.json in the default chain's order",
          "[cli][e2e]") {
    CliFixture fixture;
    const std::string wrong = "wrong-secret-Tt31";
    const std::string home =
        write_aliyun_config(fixture.dir, "home", "good",
                            ak_profile("good", test_secret) + "," + ak_profile("bad", wrong) +
                                R"(,{"name":"role","mode":"RamRoleArn","ram_role_arn":"r"})");

    // No credentials in the environment: the current profile of the file.
    auto from_file = fixture.cli({"list"}, {}, without_keys(fixture, home));
    INFO("stderr: " << from_file.err);
    CHECK(from_file.exit_code == 0);
    // A profile named on purpose wins over the environment (the official CLI's rule).
    auto env = fixture.environment();
    env.push_back("HOME=" + home);
    auto named = fixture.cli({"list", "--profile", "bad"}, {}, env);
    CHECK(named.exit_code == 1);
    CHECK(named.err.rfind("eci-sandbox: error: auth", 0) == 0);
    auto by_variable = without_keys(fixture, home);
    by_variable.push_back("ALIBABA_CLOUD_PROFILE=bad");
    CHECK(fixture.cli({"list"}, {}, by_variable).exit_code == 1);
    // Otherwise the environment comes first: the file's current profile is not read.
    const std::string home_bad =
        write_aliyun_config(fixture.dir, "home-bad", "bad", ak_profile("bad", wrong));
    auto env_first = fixture.environment();
    env_first.push_back("HOME=" + home_bad);
    CHECK(fixture.cli({"list"}, {}, env_first).exit_code == 0);

    auto unsupported = fixture.cli({"list", "--profile", "role"}, {}, env);
    CHECK(unsupported.exit_code == 1);
    CHECK(unsupported.err.find("RamRoleArn") != std::string::npos);
    auto missing = fixture.cli({"list", "--profile", "nobody"}, {}, env);
    CHECK(missing.exit_code == 1);
    CHECK(missing.err.find("no profile 'nobody'") != std::string::npos);
    for (const auto* result : {&from_file, &named, &unsupported, &missing}) {
        CHECK_FALSE(mentions_secret(*result));
        CHECK(result->err.find(wrong) == std::string::npos);
    }
}

TEST_CASE("cli habits: an StsToken profile sends its token", "[cli][e2e]") {
    const std::string token = "sts-token-Hh62Pq";
    CliFixture fixture("none", {"--access-key-secret", test_secret, "--security-token", token});
    const auto profile = [&](const std::string& name, const std::string& sts) {
        return R"({"name":")" + name +
               R"(","mode":"StsToken","access_key_id":"LTAIclie2etest01","access_key_secret":")" +
               test_secret + R"(","sts_token":")" + sts + R"("})";
    };
    const std::string home = write_aliyun_config(fixture.dir, "home", "sts",
                                                 profile("sts", token) + "," + profile("old", "x"));
    auto env = without_keys(fixture, home);
    auto listed = fixture.cli({"list"}, {}, env);
    INFO("stderr: " << listed.err);
    CHECK(listed.exit_code == 0);
    auto stale = fixture.cli({"list", "--profile", "old"}, {}, env);
    CHECK(stale.exit_code == 1);
    CHECK(stale.err.find(token) == std::string::npos);
}

TEST_CASE("cli habits: mcp honours --profile like the other commands", "[cli][e2e]") {
    CliFixture fixture;
    const std::string wrong = "wrong-secret-Mc42";
    const std::string home =
        write_aliyun_config(fixture.dir, "home", "bad",
                            ak_profile("good", test_secret) + "," + ak_profile("bad", wrong));
    const auto env = without_keys(fixture, home);
    const std::string session =
        R"({"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}})"
        "\n"
        R"({"jsonrpc":"2.0","method":"notifications/initialized"})"
        "\n"
        R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"list_sandboxes","arguments":{}}})"
        "\n";
    // The named profile's keys list the sandboxes; without --profile the current ("bad") one
    // is used and the service refuses it.
    auto good = fixture.cli({"--profile", "good", "mcp"}, session, env);
    INFO("stdout: " << good.out << " stderr: " << good.err);
    CHECK(good.exit_code == 0);
    CHECK(good.out.find(R"("id":1,"result")") != std::string::npos);
    CHECK(good.out.find(R"("isError":false)") != std::string::npos);
    auto current = fixture.cli({"mcp"}, session, env);
    CHECK(current.out.find(R"("isError":true)") != std::string::npos);
    auto missing = fixture.cli({"mcp", "--profile", "nobody"}, session, env);
    CHECK(missing.exit_code == 1);
    CHECK(missing.err.find("no profile 'nobody'") != std::string::npos);
    for (const auto* result : {&good, &current, &missing}) {
        CHECK_FALSE(mentions_secret(*result));
        CHECK(result->out.find(wrong) == std::string::npos);
        CHECK(result->err.find(wrong) == std::string::npos);
    }
}

TEST_CASE("cli habits: an EcsRamRole profile and ECI_CREDENTIALS use the metadata service",
          "[cli][e2e]") {
    CliFixture fixture("none", {"--access-key-secret", test_secret, "--metadata-listen",
                                "127.0.0.1:0", "--metadata-role", "cli-role"});
    REQUIRE_FALSE(fixture.metadata_endpoint.empty());
    const std::string home = write_aliyun_config(
        fixture.dir, "home", "instance",
        R"({"name":"instance","mode":"EcsRamRole","ram_role_name":"cli-role"})");
    auto env = without_keys(fixture, home);
    env.push_back("ECI_ECS_METADATA_ENDPOINT=http://" + fixture.metadata_endpoint);
    auto by_profile = fixture.cli({"--profile", "instance", "list"}, {}, env);
    INFO("stderr: " << by_profile.err);
    CHECK(by_profile.exit_code == 0);
    // The file's current profile, in the chain, gets there too.
    CHECK(fixture.cli({"list"}, {}, env).exit_code == 0);
    // An unreachable metadata service: a quick, clear failure.
    auto unreachable_env = without_keys(fixture, (fixture.dir.path / "no-home").string());
    unreachable_env.push_back("ECI_CREDENTIALS=ecs_ram_role");
    unreachable_env.push_back("ECI_ECS_METADATA_ENDPOINT=http://127.0.0.1:1");
    const auto started = std::chrono::steady_clock::now();
    auto unreachable = fixture.cli({"list"}, {}, unreachable_env);
    CHECK(unreachable.exit_code == 1);
    CHECK(unreachable.err.find("metadata service at http://127.0.0.1:1") != std::string::npos);
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(5));
    for (const auto* result : {&by_profile, &unreachable})
        CHECK_FALSE(mentions_secret(*result));
}

#endif  // ECI_CLI_PATH, the emulator

TEST_CASE("cli habits: create waits for Running unless --no-wait", "[cli][e2e]") {
    // A start slow enough that a create which did not wait sees Pending.
    CliFixture fixture("none", {}, {"--start-delay-ms", "3000"});
    auto status_of = [](const std::string& out) {
        return json::value_to<std::string>(json::parse(out).at("status"));
    };
    auto waited = fixture.cli({"create", "--image", "registry.example/ubuntu:22.04", "--json"});
    REQUIRE(waited.exit_code == 0);
    CHECK(status_of(waited.out) == "Running");
    const auto id = json::value_to<std::string>(json::parse(waited.out).at("sandbox_id"));
    // Ready for exec at once: the trap of 0.1, where exec right after create met Pending.
    auto ran = fixture.cli({"exec", id, "--", "echo", "ready"});
    CHECK(ran.exit_code == 0);
    CHECK(ran.out == "ready\n");

    auto early =
        fixture.cli({"create", "--image", "registry.example/ubuntu:22.04", "--no-wait", "--json"});
    REQUIRE(early.exit_code == 0);
    CHECK(status_of(early.out) == "Pending");

    // --wait is kept for one version as a no-op; with --no-wait it is a contradiction.
    auto old_flag =
        fixture.cli({"create", "--image", "registry.example/ubuntu:22.04", "--wait", "-q"});
    CHECK(old_flag.exit_code == 0);
    auto both =
        fixture.cli({"create", "--image", "registry.example/ubuntu:22.04", "--wait", "--no-wait"});
    CHECK(both.exit_code == 2);
    CHECK(both.err.find("--no-wait") != std::string::npos);
    auto bound_nothing = fixture.cli(
        {"create", "--image", "registry.example/ubuntu:22.04", "--no-wait", "--wait-timeout", "5"});
    CHECK(bound_nothing.exit_code == 2);
    CHECK(bound_nothing.err.find("--wait-timeout") != std::string::npos);
    const auto listed = fixture.cli({"list", "-q"}).out;
    CHECK(std::count(listed.begin(), listed.end(), '\n') == 3);
}
