// SPDX-License-Identifier: Apache-2.0
// eci-sandbox, the command-line client, driven as a user would: `eci-sandbox emulator` as a
// child process (its ready line says where it listens), then one CLI process per command with
// the configuration in its environment (ECI_SANDBOX_ENDPOINT, ECI_SANDBOX_CA_FILE, ...).
#include "cli/cli_fixture.hpp"
#include "support/child_process.hpp"
#include "support/run_with_deadline.hpp"
#include "support/test_api_client.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <boost/json/value_to.hpp>

#include <catch2/catch.hpp>

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#if defined(ECI_CLI_PATH) && !defined(ECI_CLI_NO_EMULATOR)

using namespace eci::test::cli;
using eci::test::ProcessResult;
namespace json = boost::json;

TEST_CASE("cli e2e: create, bash with exit code and streams, exec, list, info, delete",
          "[cli][e2e]") {
    CliFixture fixture("k8s");
    const std::string id = fixture.create_running("cli-lifecycle");

    auto bash = fixture.cli({"bash", id, "echo out; echo err >&2; exit 7"});
    CHECK(bash.exit_code == 7);
    CHECK(bash.out == "out\n");
    CHECK(bash.err == "err\n");

    auto env = fixture.cli({"bash", id, "printf %s \"$GREETING\""});
    CHECK(env.exit_code == 0);
    CHECK(env.out == "hello");

    auto exec = fixture.cli({"exec", id, "--", "echo", "--not-an-option", "two words"});
    CHECK(exec.exit_code == 0);
    CHECK(exec.out == "--not-an-option two words\n");
    auto exec_code = fixture.cli({"exec", id, "--", "sh", "-c", "echo to-err >&2; exit 4"});
    CHECK(exec_code.exit_code == 4);
    CHECK(exec_code.err == "to-err\n");

    auto bash_json = fixture.cli({"--json", "bash", id, "echo hi; exit 3"});
    CHECK(bash_json.exit_code == 3);
    auto result = json::parse(bash_json.out).as_object();
    CHECK(json::value_to<std::string>(result.at("stdout")) == "hi\n");
    CHECK(result.at("exit_code").as_int64() == 3);

    auto list = fixture.cli({"list", "--json"});
    REQUIRE(list.exit_code == 0);
    auto listed = json::parse(list.out).as_array();
    REQUIRE(listed.size() == 1);
    CHECK(json::value_to<std::string>(listed[0].at("sandbox_id")) == id);
    auto table = fixture.cli({"list"});
    CHECK(table.exit_code == 0);
    CHECK(table.out.find(id) != std::string::npos);
    CHECK(table.out.find("cli-lifecycle") != std::string::npos);

    auto info = fixture.cli({"info", id, "--json"});
    REQUIRE(info.exit_code == 0);
    auto described = json::parse(info.out).as_object();
    CHECK(json::value_to<std::string>(described.at("name")) == "cli-lifecycle");
    CHECK(json::value_to<std::string>(described.at("status")) == "Running");
    auto text = fixture.cli({"info", id});
    CHECK(text.exit_code == 0);
    CHECK(text.out.find("status:        Running") != std::string::npos);

    auto removed = fixture.cli({"delete", id});
    CHECK(removed.exit_code == 0);
    CHECK(removed.out == "deleted " + id + "\n");
    auto gone = fixture.cli({"info", id});
    CHECK(gone.exit_code == 1);
    CHECK(gone.err.rfind("eci-sandbox: error: not_found", 0) == 0);
    CHECK(fixture.cli({"list", "--json"}).out == "[]\n");
}

TEST_CASE("cli e2e: exec exits with the remote code on a server without exit frames",
          "[cli][e2e]") {
    CliFixture fixture;  // --exit-status none: like the real service, no exit frame
    const std::string id = fixture.create_running("cli-no-code");
    auto exec = fixture.cli({"exec", id, "--", "sh", "-c", "echo ran; echo oops >&2; exit 3"});
    CHECK(exec.out == "ran\n");
    CHECK(exec.err == "oops\n");  // the wrapper's marker line never shows
    CHECK(exec.exit_code == 3);
    auto ok = fixture.cli({"exec", id, "--", "true"});
    CHECK(ok.exit_code == 0);
    CHECK(ok.err.empty());
    // --raw-argv sends argv bare: nothing reports the code, and the CLI says so.
    auto raw = fixture.cli({"exec", id, "--raw-argv", "--", "echo", "ran"});
    CHECK(raw.out == "ran\n");
    CHECK(raw.exit_code == 1);
    CHECK(raw.err.find("exit code is unknown") != std::string::npos);
    // bash knows the code whatever the server sends.
    CHECK(fixture.cli({"bash", id, "exit 9"}).exit_code == 9);
}

TEST_CASE("cli e2e: usage errors exit 2 with one line, --help exits 0", "[cli][e2e]") {
    CliFixture fixture;
    auto unknown = fixture.cli({"frobnicate"});
    CHECK(unknown.exit_code == 2);
    CHECK(unknown.out.empty());
    CHECK(unknown.err == "eci-sandbox: unknown command 'frobnicate' (see 'eci-sandbox --help')\n");

    auto bad_option = fixture.cli({"create", "--image", "x", "--cpu", "lots"});
    CHECK(bad_option.exit_code == 2);
    CHECK(bad_option.err.rfind("eci-sandbox create: --cpu: expected a number", 0) == 0);
    CHECK(std::count(bad_option.err.begin(), bad_option.err.end(), '\n') == 1);

    auto missing = fixture.cli({"bash"});
    CHECK(missing.exit_code == 2);
    CHECK(fixture.cli({"create"}).exit_code == 2);
    CHECK(fixture.cli({"exec", "eci-x"}).exit_code == 2);
    CHECK(fixture.cli({}).exit_code == 2);

    auto help = fixture.cli({"create", "--help"});
    CHECK(help.exit_code == 0);
    CHECK(help.out.find("Usage: eci-sandbox create") != std::string::npos);
    CHECK(help.out.find("--wait") != std::string::npos);
    auto general = fixture.cli({"--help"});
    CHECK(general.exit_code == 0);
    CHECK(general.out.find("Exit codes") != std::string::npos);
    auto version = fixture.cli({"--version"});
    CHECK(version.exit_code == 0);
    CHECK(version.out.rfind("eci-sandbox ", 0) == 0);
}

TEST_CASE("cli e2e: a refused credential is one auth line and never shows the secret",
          "[cli][e2e]") {
    CliFixture fixture;
    const std::string wrong = "wrong-secret-Pk55aa";
    auto refused = fixture.cli({"list"}, {}, fixture.environment(wrong));
    CHECK(refused.exit_code == 1);
    CHECK(refused.out.empty());
    CHECK(refused.err.rfind("eci-sandbox: error: auth", 0) == 0);
    CHECK(std::count(refused.err.begin(), refused.err.end(), '\n') == 1);
    CHECK(refused.err.find(wrong) == std::string::npos);
    CHECK_FALSE(mentions_secret(refused));

    // No secret at all: the configuration error says what to set, without values.
    auto env = fixture.environment();
    env.pop_back();
    auto missing = fixture.cli({"list"}, {}, env);
    CHECK(missing.exit_code == 1);
    CHECK(missing.err.rfind("eci-sandbox: error: auth", 0) == 0);
    CHECK(missing.err.find("ACCESS_KEY_SECRET") != std::string::npos);
}

namespace {

// A file of /proc/PID as bytes (cmdline and environ separate their entries with NULs).
std::string proc_file(pid_t pid, const char* name) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/" + name, std::ios::binary);
    std::ostringstream bytes;
    bytes << in.rdbuf();
    return bytes.str();
}

}  // namespace

TEST_CASE("cli e2e: the emulator's secrets leave /proc/PID/cmdline and environ", "[cli][e2e]") {
    {
        // Given on argv (what `ps` shows every user): overwritten once parsed, and still the
        // key the emulator accepts.
        const std::string argv_secret = "argv-secret-Hq27Lm";
        const std::string argv_token = "argv-token-Wd93Ke";
        CliFixture fixture("none",
                           {"--access-key-secret", argv_secret, "--security-token=" + argv_token});
        const std::string cmdline = proc_file(fixture.emulator.pid(), "cmdline");
        INFO("cmdline: " << cmdline);
        CHECK(cmdline.find("--access-key-secret") != std::string::npos);
        CHECK(cmdline.find(argv_secret) == std::string::npos);
        CHECK(cmdline.find(argv_token) == std::string::npos);
        CHECK(cmdline.find("--security-token=xxxxxxxxxxxxxxxxx") != std::string::npos);
        auto env = fixture.environment(argv_secret);
        env.push_back("ECI_SANDBOX_SECURITY_TOKEN=" + argv_token);
        auto listed = fixture.cli({"list"}, {}, env);
        CHECK(listed.exit_code == 0);
        // The client's key is checked: a wrong token is refused.
        env.back() = "ECI_SANDBOX_SECURITY_TOKEN=wrong-token";
        CHECK(fixture.cli({"list"}, {}, env).exit_code == 1);
    }
    // From the environment: overwritten in the environment block the kernel shows, and on
    // no command line.
    CliFixture fixture;
    CHECK(proc_file(fixture.emulator.pid(), "environ").find(test_secret) == std::string::npos);
    CHECK(proc_file(fixture.emulator.pid(), "cmdline").find(test_secret) == std::string::npos);
    CHECK(fixture.cli({"list"}).exit_code == 0);
}

TEST_CASE("cli e2e: --endpoint and --ca-file flags beat the environment", "[cli][e2e]") {
    CliFixture fixture;
    auto env = fixture.environment();
    env[1] = "ECI_SANDBOX_ENDPOINT=https://127.0.0.1:1";
    env[2] = "ECI_SANDBOX_CA_FILE=/nonexistent/ca.pem";
    auto listed = fixture.cli(
        {"list", "--endpoint", "https://" + fixture.endpoint, "--ca-file", fixture.ca_file}, {},
        env);
    INFO(listed.err);
    CHECK(listed.exit_code == 0);
    // Without the flags the bad CA file is refused before any call.
    auto refused = fixture.cli({"list"}, {}, env);
    CHECK(refused.exit_code == 1);
    CHECK(refused.err.rfind("eci-sandbox: error: invalid_argument", 0) == 0);
}

TEST_CASE("cli e2e: write and read round trip, tmux start and wait", "[cli][e2e]") {
    CliFixture fixture;
    const std::string id = fixture.create_running("cli-files");
    std::string content = "line one\nbinary \x01\x02\xff end";
    content.push_back('\0');
    content += "after nul";

    auto written = fixture.cli({"write", id, "/tmp/cli-round-trip.bin"}, content);
    CHECK(written.exit_code == 0);
    auto read = fixture.cli({"read", id, "/tmp/cli-round-trip.bin"});
    CHECK(read.exit_code == 0);
    CHECK(read.out == content);

    const auto local = fixture.dir.path / "local.txt";
    std::ofstream(local) << "from a file\n";
    CHECK(fixture.cli({"write", id, "/tmp/from-file.txt", "--from", local.string()}).exit_code ==
          0);
    const auto saved = fixture.dir.path / "saved.txt";
    auto saved_read =
        fixture.cli({"read", id, "/tmp/from-file.txt", "--to", saved.string(), "--json"});
    CHECK(saved_read.exit_code == 0);
    std::ifstream in(saved);
    std::string line;
    std::getline(in, line);
    CHECK(line == "from a file");
    CHECK(json::parse(saved_read.out).at("size").as_int64() == 12);

    auto missing = fixture.cli({"read", id, "/tmp/no-such-file"});
    CHECK(missing.exit_code == 1);
    CHECK(missing.err.rfind("eci-sandbox: error: not_found", 0) == 0);

    auto started =
        fixture.cli({"tmux", "start", id, "echo job-output; exit 5", "--session", "clijob"});
    CHECK(started.exit_code == 0);
    CHECK(started.out == "clijob\n");
    auto waited = fixture.cli({"tmux", "wait", id, "clijob", "--timeout", "30"});
    CHECK(waited.exit_code == 5);
    CHECK(waited.out.find("job-output") != std::string::npos);
    auto polled = fixture.cli({"tmux", "poll", id, "clijob", "--json"});
    CHECK(polled.exit_code == 0);
    CHECK(json::parse(polled.out).at("status").as_string() == "not_found");

    CHECK(fixture.cli({"delete", id}).exit_code == 0);
}

// ---- reap -------------------------------------------------------------------------------------

namespace {

/// GET /_emulator/stats of the fixture's emulator, over its own TLS connection.
json::object emulator_stats(const CliFixture& fixture) {
    boost::asio::io_context io;
    eci::test::TestEndpoint endpoint;
    const auto colon = fixture.endpoint.rfind(':');
    endpoint.host = fixture.endpoint.substr(0, colon);
    endpoint.port = static_cast<std::uint16_t>(std::stoi(fixture.endpoint.substr(colon + 1)));
    std::ifstream ca(fixture.ca_file);
    std::stringstream pem;
    pem << ca.rdbuf();
    endpoint.ca_pem = pem.str();
    eci::test::TestApiClient client(io.get_executor(), endpoint);
    std::optional<json::object> stats;
    eci::test::run_with_deadline(
        io,
        [&]() -> boost::asio::awaitable<void> {
            auto replies = co_await client.get_many("/_emulator/stats", 1);
            REQUIRE(replies.ok());
            REQUIRE(replies->size() == 1);
            REQUIRE(replies->front().ok());
            stats = replies->front().json.as_object();
        },
        std::chrono::seconds(10));
    REQUIRE(stats);
    return *stats;
}

std::int64_t stat_of(const json::object& stats, std::string_view key) {
    return stats.at(key).to_number<std::int64_t>();
}

/// Polls the emulator's stats until `condition` holds or `timeout` passes; the last stats.
template <class Condition>
json::object wait_for_stats(const CliFixture& fixture, Condition condition,
                            std::chrono::seconds timeout = std::chrono::seconds(20)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        auto stats = emulator_stats(fixture);
        if (condition(stats) || std::chrono::steady_clock::now() >= deadline)
            return stats;
        ::usleep(20000);
    }
}

std::string host_name() {
    char buffer[256] = {};
    REQUIRE(::gethostname(buffer, sizeof(buffer) - 1) == 0);
    return buffer;
}

std::set<std::string> listed_ids(const CliFixture& fixture) {
    auto list = fixture.cli({"list", "--json"});
    REQUIRE(list.exit_code == 0);
    std::set<std::string> ids;
    const auto parsed = json::parse(list.out);  // named: the loop must not outlive it
    for (const auto& entry : parsed.as_array())
        ids.insert(json::value_to<std::string>(entry.at("sandbox_id")));
    return ids;
}

std::set<std::string> string_set(const json::value& array) {
    std::set<std::string> values;
    for (const auto& entry : array.as_array())
        values.insert(json::value_to<std::string>(entry));
    return values;
}

}  // namespace

TEST_CASE("cli e2e: cp uploads and downloads a tree, refuses bad operands", "[cli][e2e]") {
    CliFixture fixture;
    const std::string id = fixture.create_running("cli-cp");
    const auto src = fixture.dir.path / "tree";
    std::filesystem::create_directories(src / "sub");
    std::filesystem::create_directories(src / "empty");
    std::string binary = "bin\x01\xff";
    binary.push_back('\0');
    std::ofstream(src / "sub" / "data.bin", std::ios::binary) << binary;
    std::filesystem::permissions(src / "sub" / "data.bin", std::filesystem::perms(0600),
                                 std::filesystem::perm_options::replace);
    std::filesystem::create_symlink("sub/data.bin", src / "link");

    auto up = fixture.cli({"cp", src.string(), id + ":/tmp/tree", "--json"});
    INFO("stdout: " << up.out << " stderr: " << up.err);
    REQUIRE(up.exit_code == 0);
    auto object = json::parse(up.out).as_object();
    CHECK(json::value_to<std::string>(object.at("destination")) == "/tmp/tree");
    CHECK(object.at("files").to_number<int>() == 1);
    CHECK(object.at("entries").as_array().size() == 5);
    // Not a terminal: no progress on stderr.
    CHECK(up.err.empty());

    auto down = fixture.cli({"cp", id + ":/tmp/tree", (fixture.dir.path / "back").string()});
    INFO("stdout: " << down.out << " stderr: " << down.err);
    REQUIRE(down.exit_code == 0);
    CHECK(down.out.find("copied 5 entries (1 files") == 0);
    const auto back = fixture.dir.path / "back";
    std::ifstream in(back / "sub" / "data.bin", std::ios::binary);
    std::stringstream content;
    content << in.rdbuf();
    CHECK(content.str() == binary);
    CHECK((std::filesystem::status(back / "sub" / "data.bin").permissions() &
           std::filesystem::perms::all) == std::filesystem::perms(0600));
    CHECK(std::filesystem::read_symlink(back / "link") == "sub/data.bin");
    CHECK(std::filesystem::is_empty(back / "empty"));

    // Usage: neither or both operands in a sandbox -> 2; a missing sandbox path -> 1.
    auto neither = fixture.cli({"cp", src.string(), "elsewhere"});
    CHECK(neither.exit_code == 2);
    CHECK(neither.err.find("ID:PATH") != std::string::npos);
    CHECK(fixture.cli({"cp", id + ":/a", id + ":/b"}).exit_code == 2);
    CHECK(fixture.cli({"cp", src.string()}).exit_code == 2);
    auto missing = fixture.cli({"cp", id + ":/tmp/nothing-here", back.string()});
    CHECK(missing.exit_code == 1);
    CHECK(missing.err.find("no such file or directory in the sandbox") != std::string::npos);
}

TEST_CASE("cli e2e: reap selects by owner, lease and orphaned creator, --dry-run deletes nothing",
          "[cli][e2e][reap]") {
    CliFixture fixture;
    auto env = fixture.environment();
    env.push_back("ECI_SANDBOX_OWNER=cli-reaper");
    // A creator that ran on this host and is gone: pid 999999 with start time 1 is no live
    // process (a reused pid has another start time).
    const std::string dead_creator = "eci-sandbox:process=" + host_name() + "/999999/1";
    auto create = [&](std::vector<std::string> extra) {
        std::vector<std::string> args{"create", "--image", "registry.example/ubuntu:22.04",
                                      "--json"};
        args.insert(args.end(), extra.begin(), extra.end());
        auto created = fixture.cli(args, {}, env);
        INFO("stderr: " << created.err);
        REQUIRE(created.exit_code == 0);
        return json::value_to<std::string>(json::parse(created.out).at("sandbox_id"));
    };
    const std::string orphan = create({"--tag", dead_creator});
    const std::string detached = create({});  // the CLI's own create: meant to outlive it
    const std::string other_owner =
        create({"--tag", dead_creator, "--tag", "eci-sandbox:owner=someone-else"});
    const std::string expired = create({"--tag", "eci-sandbox:lease-expires=2000-01-01T00:00:00Z"});
    const std::set<std::string> all{orphan, detached, other_owner, expired};
    REQUIRE(listed_ids(fixture) == all);

    // Without --orphans only the expired lease is due; a dry run deletes nothing.
    auto dry = fixture.cli({"reap", "--dry-run", "--json"}, {}, env);
    INFO("stderr: " << dry.err);
    REQUIRE(dry.exit_code == 0);
    auto report = json::parse(dry.out).as_object();
    CHECK(report.at("dry_run").as_bool());
    CHECK(json::value_to<std::string>(report.at("owner")) == "cli-reaper");
    CHECK_FALSE(report.at("all_owners").as_bool());
    CHECK_FALSE(report.at("orphans").as_bool());
    CHECK(report.at("examined").as_int64() == 3);
    REQUIRE(report.at("found").as_array().size() == 1);
    const auto& found = report.at("found").as_array()[0].as_object();
    CHECK(json::value_to<std::string>(found.at("sandbox_id")) == expired);
    CHECK(json::value_to<std::string>(found.at("reason")) == "lease_expired");
    CHECK(json::value_to<std::string>(found.at("owner")) == "cli-reaper");
    CHECK(json::value_to<std::string>(found.at("lease_expires")) == "2000-01-01T00:00:00Z");
    for (auto key : {"name", "status", "process"})
        CHECK(found.at(key).is_string());
    CHECK(report.at("deleted").as_array().empty());
    CHECK(report.at("failed").as_array().empty());
    CHECK(listed_ids(fixture) == all);

    // The text form of a dry run with --orphans: one line per sandbox it would delete.
    auto dry_text = fixture.cli({"reap", "--orphans", "--dry-run"}, {}, env);
    REQUIRE(dry_text.exit_code == 0);
    CHECK(dry_text.out.find("would-delete " + orphan + " orphaned ") != std::string::npos);
    CHECK(dry_text.out.find("would-delete " + expired + " lease_expired ") != std::string::npos);
    CHECK(dry_text.out.find(detached) == std::string::npos);
    CHECK(dry_text.out.find(other_owner) == std::string::npos);
    CHECK(dry_text.out.find("dry run: 3 examined, 2 would be deleted") != std::string::npos);
    CHECK(listed_ids(fixture) == all);

    auto real = fixture.cli({"reap", "--orphans", "--json"}, {}, env);
    REQUIRE(real.exit_code == 0);
    auto done = json::parse(real.out).as_object();
    CHECK_FALSE(done.at("dry_run").as_bool());
    CHECK(done.at("orphans").as_bool());
    CHECK(string_set(done.at("deleted")) == std::set<std::string>{orphan, expired});
    CHECK(listed_ids(fixture) == std::set<std::string>{detached, other_owner});

    // Another owner's orphan goes only with --all-owners; the detached one never does.
    auto everyone = fixture.cli({"reap", "--orphans", "--all-owners", "--json"}, {}, env);
    REQUIRE(everyone.exit_code == 0);
    auto all_report = json::parse(everyone.out).as_object();
    CHECK(all_report.at("owner").is_null());
    CHECK(all_report.at("all_owners").as_bool());
    CHECK(string_set(all_report.at("deleted")) == std::set<std::string>{other_owner});
    CHECK(listed_ids(fixture) == std::set<std::string>{detached});

    CHECK(fixture.cli({"reap", "--bogus"}, {}, env).exit_code == 2);
    CHECK(fixture.cli({"delete", detached}).exit_code == 0);
}

#ifdef ECI_FANOUT_CRASH_CHILD
// The full-size run (issue: a 100-sandbox fan-out) is the same test with
// ECI_REAP_CRASH_SANDBOXES=100; CI runs 24.
TEST_CASE("cli e2e: reap --orphans after a SIGKILLed fan-out leaves 0 sandboxes and 0 processes",
          "[cli][e2e][reap][serial]") {
    int count = 24;
    if (const char* text = std::getenv("ECI_REAP_CRASH_SANDBOXES"); text && *text)
        count = std::max(2, std::atoi(text));
    CliFixture fixture;
    const std::string owner = "fanout-crash-owner";
    const auto colon = fixture.endpoint.rfind(':');
    eci::test::ChildProcess child(
        ECI_FANOUT_CRASH_CHILD,
        {fixture.endpoint.substr(colon + 1), fixture.ca_file, "LTAIclie2etest01", test_secret,
         "cn-hangzhou", owner, std::to_string(count)},
        eci::test::ProcessOptions{{"PATH=/usr/bin:/bin"}, fixture.dir.path.string(), {}, {}});
    REQUIRE(child.pid() > 0);
    // Kill it in the middle: half of the lifecycles are running their commands, the others
    // are still creating, waiting or starting theirs.
    int started = 0;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    while (started < count / 2 && std::chrono::steady_clock::now() < deadline) {
        auto line = child.read_line(std::chrono::seconds(60));
        REQUIRE(line);
        if (line->rfind("started ", 0) == 0)
            ++started;
    }
    REQUIRE(started == count / 2);
    REQUIRE(::kill(child.pid(), SIGKILL) == 0);
    CHECK(child.stop() == 128 + SIGKILL);

    // Requests the client had sent before it died are still carried out: wait until the
    // emulator has let go of every connection of the dead client (ours is the one left).
    auto before = wait_for_stats(
        fixture, [](const json::object& stats) { return stat_of(stats, "connections") <= 1; });
    REQUIRE(stat_of(before, "connections") <= 1);
    INFO("before reap: " << json::serialize(before));
    CHECK(stat_of(before, "sandboxes") >= count / 2);
    CHECK(stat_of(before, "processes") >= count / 2);

    auto env = fixture.environment();
    env.push_back("ECI_SANDBOX_OWNER=" + owner);
    auto reaped = fixture.cli({"reap", "--orphans", "--json"}, {}, env);
    INFO("stdout: " << reaped.out << " stderr: " << reaped.err);
    REQUIRE(reaped.exit_code == 0);
    auto report = json::parse(reaped.out).as_object();
    CHECK(static_cast<std::int64_t>(report.at("deleted").as_array().size()) ==
          stat_of(before, "sandboxes"));
    CHECK(report.at("failed").as_array().empty());

    auto after = wait_for_stats(fixture, [](const json::object& stats) {
        return stat_of(stats, "sandboxes") == 0 && stat_of(stats, "processes") == 0;
    });
    INFO("after reap: " << json::serialize(after));
    CHECK(stat_of(after, "sandboxes") == 0);
    CHECK(stat_of(after, "processes") == 0);
}
#endif  // ECI_FANOUT_CRASH_CHILD

#endif  // ECI_CLI_PATH, the emulator
