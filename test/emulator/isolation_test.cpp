// SPDX-License-Identifier: Apache-2.0
// What an isolated sandbox contains (docs/security.md, "Threat model: the emulator"): code
// running as root inside, reached through the normal API and exec path, cannot read the
// emulator's secrets, reach its API, write the host or take the machine down. Each test is
// an attack that succeeded before the fix. Isolated mode needs root; elsewhere the
// emulator runs degraded and these tests are skipped with a message.
#include "harness.hpp"

#include "core/encoding.hpp"
#include "emulator/options.hpp"
#include "support/proc_scan.hpp"

#include <fmt/core.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>

using namespace eci::test;
using namespace std::chrono_literals;
using eci::detail::Params;

namespace {

constexpr const char* canary_secret = "isolation-canary-secret-Vq7Zk2";
constexpr const char* canary_token = "isolation-canary-token-Rw4Jm9";

eci::emulator::EmulatorOptions canary_options() {
    auto options = fast_options();
    options.access_key_secret = canary_secret;
    options.security_token = canary_token;
    return options;
}

bool can_isolate() {
    if (::geteuid() == 0)
        return true;
    WARN("not root: the emulator runs degraded, sandbox isolation is not tested");
    return false;
}

/// Runs `script` with bash as root in sandbox `id` through ExecContainerCommand (Sync) and
/// returns its stdout+stderr. The service caps each Command argument at 256 bytes, so the
/// script travels in pieces that bash joins back.
asio::awaitable<std::string> sync_exec(TestApiClient& client, const std::string& id,
                                       const std::string& script) {
    std::vector<std::string> command = {"bash", "-c", "IFS=; s=\"$*\"; unset IFS; eval \"$s\"",
                                        "bash"};
    for (std::size_t at = 0; at < script.size(); at += 200)
        command.push_back(script.substr(at, 200));
    auto reply = co_await must_call(client, "ExecContainerCommand",
                                    P("ContainerGroupId", id, "ContainerName", "main", "Command",
                                      eci::detail::json_array_string(command), "Sync", "true"));
    INFO(reply.body);
    REQUIRE(reply.status == 200);
    co_return reply.str("SyncResponse");
}

asio::awaitable<std::string> running(TestApiClient& client, std::string name) {
    std::string id = co_await create_sandbox(client, std::move(name), V("sleep", "600"));
    REQUIRE(co_await wait_status(client, id, "Running") == "Running");
    co_return id;
}

/// The value after "name=" on its own line of `text` ("" when absent).
std::string field(const std::string& text, const std::string& name) {
    const std::string key = name + "=";
    std::size_t at = 0;
    while ((at = text.find(key, at)) != std::string::npos) {
        if (at == 0 || text[at - 1] == '\n') {
            const auto end = text.find('\n', at);
            return text.substr(at + key.size(),
                               end == std::string::npos ? end : end - at - key.size());
        }
        ++at;
    }
    return "";
}

}  // namespace

TEST_CASE("isolation: pid 1 of a sandbox holds none of the emulator's secrets",
          "[emulator][isolation]") {
    if (!can_isolate())
        return;
    Harness h(canary_options());
    REQUIRE(h.emulator->ready().isolation == "namespaces");
    h.run([&]() -> asio::awaitable<void> {
        auto client = h.client();
        std::string id = co_await running(client, "secrets");
        // Every readable mapping of pid 1 (below 64 MiB each) goes to one file, then grep.
        const std::string script = R"SH(
printf 'cmdline=%s\n' "$(tr '\0' ' ' < /proc/1/cmdline)"
printf 'environ_bytes=%s\n' "$(wc -c < /proc/1/environ)"
: > /tmp/mem
while read -r range perms rest; do
  case "$perms" in r*) ;; *) continue ;; esac
  s=$((0x${range%-*})); e=$((0x${range#*-})); n=$(( (e - s) / 4096 ))
  [ "$n" -gt 16384 ] && continue
  dd if=/proc/1/mem bs=4096 skip=$((s / 4096)) count=$n status=none >> /tmp/mem 2>/dev/null
done < /proc/1/maps
printf 'mem_bytes=%s\n' "$(wc -c < /tmp/mem)"
printf 'mem_hits=%s\n' "$(grep -a -c -e )SH" +
                                   std::string(canary_secret) + " -e " + canary_token +
                                   R"SH( /tmp/mem)"
)SH";
        const std::string out = co_await sync_exec(client, id, script);
        INFO(out);
        CHECK(field(out, "cmdline").starts_with("eci-sandbox-init "));
        CHECK(field(out, "environ_bytes") == "0");
        // The read itself works (else the search below proves nothing)...
        CHECK(std::atol(field(out, "mem_bytes").c_str()) > 4096);
        // ...and finds neither secret; nor does anything else printed.
        CHECK(field(out, "mem_hits") == "0");
        CHECK(out.find(canary_secret) == std::string::npos);
        CHECK(out.find(canary_token) == std::string::npos);
    });
}

TEST_CASE("isolation: a sandbox cannot reach the emulator's API unless host network is asked for",
          "[emulator][isolation]") {
    if (!can_isolate())
        return;
    const auto probe = [](std::uint16_t port) {
        return "if exec 3<>/dev/tcp/127.0.0.1/" + std::to_string(port) +
               "; then echo api=reached; else echo api=unreachable; fi 2>&1\n"
               // loopback is up inside: a listener of the sandbox is reachable
               "grep -q ' lo:' /proc/net/dev && echo lo=present\n"
               "cat /sys/class/net/lo/operstate 2>/dev/null; ip -o link show lo 2>/dev/null\n";
    };
    SECTION("default: a private network with loopback only") {
        Harness h;
        REQUIRE(h.emulator->ready().sandbox_network == "none");
        h.run([&]() -> asio::awaitable<void> {
            auto client = h.client();
            std::string id = co_await running(client, "netns");
            const std::string out = co_await sync_exec(client, id, probe(h.emulator->ready().port));
            INFO(out);
            CHECK(field(out, "api") == "unreachable");
            CHECK(field(out, "lo") == "present");
            // Only lo exists: no route anywhere.
            const std::string links = co_await sync_exec(
                client, id, "printf 'links=%s\\n' \"$(tail -n +3 /proc/net/dev | wc -l)\"");
            CHECK(field(links, "links") == "1");
        });
    }
    SECTION("--sandbox-network host: the API is reachable (the documented exposure)") {
        auto options = fast_options();
        options.sandbox_network = eci::emulator::SandboxNetwork::host;
        Harness h(options);
        REQUIRE(h.emulator->ready().sandbox_network == "host");
        h.run([&]() -> asio::awaitable<void> {
            auto client = h.client();
            std::string id = co_await running(client, "hostnet");
            const std::string out = co_await sync_exec(
                client, id,
                probe(h.emulator->ready().port) +
                    "python3 -c 'import socket; socket.socket().bind((\"127.0.0.1\", 80))' "
                    ">/dev/null 2>&1; echo low_port=$?\n");
            INFO(out);
            CHECK(field(out, "api") == "reached");
            // The host's network belongs to the host's user namespace: root inside has no
            // CAP_NET_BIND_SERVICE there (docs/security.md).
            CHECK(field(out, "low_port") != "0");
        });
    }
}

TEST_CASE("isolation: root in a sandbox cannot remount the host writable or reach its devices",
          "[emulator][isolation]") {
    if (!can_isolate())
        return;
    std::random_device random;
    const std::string probe_name = "eci-isolation-probe-" + std::to_string(random());
    const std::filesystem::path host_probe = std::filesystem::path("/var") / probe_name;
    Harness h;
    h.run([&]() -> asio::awaitable<void> {
        auto client = h.client();
        std::string id = co_await running(client, "remount");
        const std::string script =
            "mount -o remount,bind,rw /var 2>&1; echo remount=$?\n"
            "touch /var/" +
            probe_name +
            " 2>&1; echo touch=$?\n"
            "mount -t tmpfs none /mnt 2>&1; echo tmpfs=$?\n"
            "unshare -Urm true 2>&1; echo unshare=$?\n"
            // Writing a kernel knob back with its own value: harmless
            // if it works, and it must not.
            "cat /proc/sys/vm/overcommit_memory > "
            "/proc/sys/vm/overcommit_memory 2>&1; echo sysctl=$?\n"
            "echo block_devices=$(find /dev -type b | wc -l)\n"
            "echo cap_eff=$(awk '/^CapEff/ {print $2}' /proc/self/status)\n"
            "echo devnull=$(echo ok > /dev/null && echo ok)\n";
        const std::string out = co_await sync_exec(client, id, script);
        INFO(out);
        CHECK(field(out, "remount") != "0");
        CHECK(field(out, "touch") != "0");
        CHECK(field(out, "tmpfs") != "0");
        CHECK(field(out, "unshare") != "0");
        CHECK(field(out, "sysctl") != "0");
        CHECK(field(out, "block_devices") == "0");
        // Docker's default capability set: no CAP_SYS_ADMIN, CAP_SYS_MODULE, CAP_SYS_PTRACE...
        CHECK(field(out, "cap_eff") == "00000000a80425fb");
        CHECK(field(out, "devnull") == "ok");
    });
    const bool escaped = std::filesystem::exists(host_probe);
    if (escaped)
        std::filesystem::remove(host_probe);
    CHECK_FALSE(escaped);
}

TEST_CASE("isolation: secrets come from a file or the environment and leave argv",
          "[emulator][isolation]") {
    using eci::emulator::parse_command_line;
    const auto dir =
        std::filesystem::temp_directory_path() / ("eci-secret-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    {
        std::ofstream(dir / "secret") << "from-file-secret\n";
        std::ofstream(dir / "token") << "from-file-token\n";
    }
    auto no_env = [](std::string_view) -> std::optional<std::string> { return std::nullopt; };
    auto env = [](std::string_view name) -> std::optional<std::string> {
        if (name == eci::emulator::access_key_secret_env)
            return "from-env-secret";
        if (name == eci::emulator::security_token_env)
            return "from-env-token";
        return std::nullopt;
    };
    const std::vector<std::string> file_args = {
        "--access-key-id",          "id",
        "--access-key-secret-file", (dir / "secret").string(),
        "--security-token-file",    (dir / "token").string()};
    const std::vector<std::string_view> file_views(file_args.begin(), file_args.end());
    auto from_file = parse_command_line(file_views, env);
    REQUIRE(from_file);
    CHECK(from_file->options.access_key_secret == "from-file-secret");
    CHECK(from_file->options.security_token == "from-file-token");

    const std::vector<std::string_view> id_only = {"--access-key-id", "id"};
    auto from_env = parse_command_line(id_only, env);
    REQUIRE(from_env);
    CHECK(from_env->options.access_key_secret == "from-env-secret");
    CHECK(from_env->options.security_token == "from-env-token");
    CHECK_FALSE(parse_command_line(id_only, no_env));  // an id needs its secret

    const std::vector<std::string_view> missing = {"--access-key-secret-file",
                                                   "/nonexistent/eci-secret"};
    auto refused = parse_command_line(missing, no_env);
    REQUIRE_FALSE(refused);
    CHECK(refused.error().kind == eci::ErrorKind::invalid_argument);
    std::filesystem::remove_all(dir);

    char a0[] = "eci-emulator", a1[] = "--access-key-secret", a2[] = "argv-secret",
         a3[] = "--security-token=argv-token", a4[] = "--region", a5[] = "cn-hangzhou";
    char* argv[] = {a0, a1, a2, a3, a4, a5, nullptr};
    CHECK(eci::emulator::scrub_secret_arguments(6, argv) == 2);
    CHECK(std::string(a2) == "xxxxxxxxxxx");
    CHECK(std::string(a3) == "--security-token=xxxxxxxxxx");
    CHECK(std::string(a5) == "cn-hangzhou");
}

namespace {

asio::awaitable<std::string> running_sized(TestApiClient& client, std::string name,
                                           std::string memory_gib) {
    auto reply = co_await must_call(
        client, "CreateContainerGroup",
        P("ContainerGroupName", std::move(name), "Container.1.Name", "main", "Container.1.Image",
          "registry.example/ubuntu:22.04", "Container.1.Cpu", "1", "Container.1.Memory",
          std::move(memory_gib), "Container.1.Command.1", "sleep", "Container.1.Command.2", "600"));
    INFO(reply.body);
    REQUIRE(reply.status == 200);
    std::string id = reply.str("ContainerGroupId");
    REQUIRE(co_await wait_status(client, id, "Running") == "Running");
    co_return id;
}

asio::awaitable<std::int64_t> live_processes(TestApiClient& client) {
    auto replies = co_await client.get_many("/_emulator/stats", 1);
    REQUIRE(replies);
    co_return stat_number(replies->front().json, "processes", "");
}

}  // namespace

TEST_CASE("isolation: a fork bomb stops at the sandbox's pids limit and the emulator stays up",
          "[emulator][isolation]") {
    if (!can_isolate())
        return;
    auto options = fast_options();
    options.sandbox_pids_limit = 48;
    Harness h(options);
    if (h.emulator->ready().limits == "none")
        FAIL("running as root but no cgroup controller is writable: limits are not enforced");
    h.run([&]() -> asio::awaitable<void> {
        auto client = h.client();
        std::string bomb = co_await running(client, "bomb");
        std::string witness = co_await running(client, "witness");
        // Bounded, so that without a limit it ends too (with 400 sleeps) instead of taking
        // the machine down; dash gives up at the first failed fork.
        const std::string out = co_await sync_exec(
            client, bomb,
            "sh -c 'i=0; while [ $i -lt 400 ]; do sleep 120 & i=$((i+1)); done' >/dev/null 2>&1; "
            "echo bomb_status=$?");
        INFO(out);
        CHECK(field(out, "bomb_status") != "0");  // it hit the limit
        // Both sandboxes together: the bomb's at most 48, the witness's 2.
        const auto processes = co_await live_processes(client);
        CHECK(processes <= 48 + 2);
        CHECK(processes > 30);  // the bomb did fork up to its limit
        // The emulator and the other sandbox are unaffected.
        CHECK(co_await sync_exec(client, witness, "echo alive") == "alive\n");
        auto deleted =
            co_await must_call(client, "DeleteContainerGroup", P("ContainerGroupId", bomb));
        CHECK(deleted.status == 200);
    });
}

TEST_CASE("isolation: a sandbox's Memory bounds its processes and its tmpfs",
          "[emulator][isolation]") {
    if (!can_isolate())
        return;
    Harness h;
    if (h.emulator->ready().limits == "none")
        FAIL("running as root but no cgroup controller is writable: limits are not enforced");
    h.run([&]() -> asio::awaitable<void> {
        auto client = h.client();
        std::string id = co_await running_sized(client, "hog", "0.25");
        // 400 MiB of anonymous memory in a 256 MiB sandbox: the kernel kills the hog.
        const std::string hog = co_await sync_exec(
            client, id,
            "python3 -c 'b = bytearray(400 << 20); print(\"allocated\")' >/dev/null 2>&1; "
            "echo hog_status=$?");
        INFO(hog);
        CHECK(field(hog, "hog_status") == "137");
        // 400 MiB into /tmp: the tmpfs is sized from Memory (half of it).
        const std::string fill = co_await sync_exec(
            client, id,
            "dd if=/dev/zero of=/tmp/fill bs=1M count=400 status=none 2>/dev/null; "
            "echo fill_status=$?; rm -f /tmp/fill; "
            "echo tmp_kib=$(df -k --output=size /tmp | tail -1 | tr -d ' ')");
        INFO(fill);
        CHECK(field(fill, "fill_status") != "0");
        CHECK(field(fill, "tmp_kib") == "131072");
        CHECK(co_await sync_exec(client, id, "echo alive") == "alive\n");
    });
}

namespace {

/// The first (real) id of a "Uid:" or "Gid:" line of /proc/<pid>/status, or -1.
long long status_id(int pid, const std::string& key) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line)) {
        if (line.starts_with(key + ":"))
            return std::atoll(line.c_str() + key.size() + 1);
    }
    return -1;
}

}  // namespace

TEST_CASE("isolation: root in a sandbox is an unprivileged user on the host",
          "[emulator][isolation]") {
    if (!can_isolate())
        return;
    Harness h;
    const auto& ready = h.emulator->ready();
    REQUIRE(ready.userns == "on");
    CHECK(ready.userns_base == 1'000'000'000U);
    CHECK(ready.to_json_line().find("\"userns\":\"on\"") != std::string::npos);
    std::random_device random;
    const std::string marker = "ECI_USERNS_PROBE=" + std::to_string(random());
    h.run([&]() -> asio::awaitable<void> {
        auto client = h.client();
        std::string id =
            co_await create_sandbox(client, "userns", V("env", marker, "sleep", "600"));
        REQUIRE(co_await wait_status(client, id, "Running") == "Running");
        const std::string out = co_await sync_exec(
            client, id,
            "echo uid_map=$(awk '{print $1, $2, $3}' /proc/self/uid_map)\n"
            "echo gid_map=$(awk '{print $1, $2, $3}' /proc/self/gid_map)\n"
            "echo ids=$(id -u):$(id -g)\n"
            "touch /tmp/made /root/made /workspace/made\n"
            "echo owners=$(stat -c %u:%g /tmp /root /workspace /tmp/made /root/made "
            "/workspace/made | tr '\\n' ' ')\n"
            // 0640 root:shadow on the host: CAP_DAC_OVERRIDE read it as host root.
            "cat /etc/shadow >/dev/null 2>&1; echo shadow=$?\n"
            "echo cap_eff=$(awk '/^CapEff/ {print $2}' /proc/self/status)\n");
        INFO(out);
        // Root inside, host ids from the base outside.
        const std::string uid_map = field(out, "uid_map");
        CHECK(uid_map.starts_with("0 "));
        CHECK(uid_map != "0 0 4294967295");
        const auto outside = std::atoll(uid_map.c_str() + 2);
        CHECK(outside >= 1'000'000'000LL);
        CHECK(uid_map == fmt::format("0 {} 65536", outside));
        CHECK(field(out, "gid_map") == uid_map);
        CHECK(field(out, "ids") == "0:0");
        // The private tmpfs belong to the sandbox's root, so tmux and friends work there.
        CHECK(field(out, "owners") == "0:0 0:0 0:0 0:0 0:0 0:0");
        CHECK(field(out, "shadow") != "0");
        // Docker's default capabilities, now within the user namespace.
        CHECK(field(out, "cap_eff") == "00000000a80425fb");

        // From the host: the main process runs as that unprivileged id, and what the
        // sandbox's root creates belongs to it.
        const auto pids = eci::test::pids_with_marker(marker);
        REQUIRE(pids.size() == 1);
        CHECK(status_id(pids.front(), "Uid") == outside);
        CHECK(status_id(pids.front(), "Gid") == outside);
        struct stat made {};
        const std::string host_path = "/proc/" + std::to_string(pids.front()) + "/root/tmp/made";
        REQUIRE(::stat(host_path.c_str(), &made) == 0);
        CHECK(static_cast<long long>(made.st_uid) == outside);
        CHECK(static_cast<long long>(made.st_gid) == outside);

        // A second sandbox gets the next range: root of one is nobody to the other.
        std::string other = co_await running(client, "userns-other");
        const std::string other_map =
            field(co_await sync_exec(client, other,
                                     "echo uid_map=$(awk '{print $1, $2, $3}' /proc/self/uid_map)"),
                  "uid_map");
        CHECK(other_map.starts_with("0 "));
        CHECK(other_map != uid_map);
    });
}

TEST_CASE("isolation: --sandbox-userns off keeps root as the host's root, and says so",
          "[emulator][isolation]") {
    using eci::emulator::parse_command_line;
    const std::vector<std::string_view> flags = {"--sandbox-userns", "off", "--sandbox-userns-base",
                                                 "300000"};
    auto parsed = parse_command_line(flags);
    REQUIRE(parsed);
    CHECK_FALSE(parsed->options.sandbox_userns);
    CHECK(parsed->options.sandbox_userns_base == 300000U);
    // A base that would map the host's root or system users, or run past 32 bits, is refused.
    for (std::string_view bad : {"0", "1000", "4294967295"}) {
        const std::vector<std::string_view> args = {"--sandbox-userns-base", bad};
        CHECK_FALSE(parse_command_line(args));
    }
    const std::vector<std::string_view> unknown = {"--sandbox-userns", "maybe"};
    CHECK_FALSE(parse_command_line(unknown));
    if (!can_isolate())
        return;
    auto options = fast_options();
    options.sandbox_userns = false;
    Harness h(options);
    const auto& ready = h.emulator->ready();
    REQUIRE(ready.isolation == "namespaces");
    CHECK(ready.userns == "off");
    CHECK(ready.userns_warning.find("root on the host") != std::string::npos);
    CHECK(ready.to_json_line().find("\"userns_warning\"") != std::string::npos);
    h.run([&]() -> asio::awaitable<void> {
        auto client = h.client();
        std::string id = co_await running(client, "nouserns");
        // What the user namespace takes away (the test above): the host's ids, and with
        // them root-only host files.
        const std::string out =
            co_await sync_exec(client, id,
                               "echo uid_map=$(awk '{print $1, $2, $3}' /proc/self/uid_map)\n"
                               "cat /etc/shadow >/dev/null 2>&1; echo shadow=$?\n");
        INFO(out);
        CHECK(field(out, "uid_map") == "0 0 4294967295");
        CHECK(field(out, "shadow") == "0");
    });
}
