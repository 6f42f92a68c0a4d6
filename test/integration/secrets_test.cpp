// SPDX-License-Identifier: Apache-2.0
// Secrets never leak: a full lifecycle (create, wait, bash, exec, exec over the WebSocket,
// delete, a refused signature, a TLS failure) with every log line captured at the most
// verbose level and every error formatted with fmt; none of it may hold the access key
// secret, the STS token, a request signature or the exec WebSocket token.
#include "integration/sandbox_fixture.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <regex>
#include <string>
#include <vector>

using namespace eci;
using namespace eci::test;
namespace asio = boost::asio;

namespace {

constexpr std::string_view secret = "sandbox-test-secret-DO-NOT-LEAK";
constexpr std::string_view token = "CAIS-sts-token-DO-NOT-LEAK";

struct Transcript {
    std::vector<std::string> lines;  // log lines and formatted errors
    Logger logger() {
        Logger logger;
        logger.level = LogLevel::trace;
        logger.sink = [this](LogLevel level, std::string_view line) {
            lines.push_back(fmt::format("{}: {}", level, line));
        };
        return logger;
    }
    // The structured form: the message and every field apart, as a routing logger sees them.
    Logger record_logger() {
        Logger logger;
        logger.level = LogLevel::trace;
        logger.record_sink = [this](const LogRecord& record) {
            const auto& f = record.fields;
            lines.push_back(fmt::format("{}: {}", record.level, record.message));
            lines.push_back(format_fields(f));
            for (std::string_view field :
                 {f.action, f.sandbox_id, f.request_id, f.error_code, f.endpoint})
                lines.emplace_back(field);
            ++records;
        };
        return logger;
    }
    // Every argument the per-call hook receives.
    CallHook hook() {
        return [this](const CallEvent& event) {
            lines.push_back(fmt::format(
                "hook {} {} attempt={} latency={} elapsed={} request_id={} kind={} code={} "
                "status={} dispatch={} retry={}",
                to_string(event.phase), event.action, event.attempt, event.latency.count(),
                event.call_elapsed.count(), event.request_id,
                event.error_kind ? to_string(*event.error_kind) : "-", event.error_code,
                event.http_status, to_string(event.dispatch), event.will_retry));
            ++hook_events;
        };
    }
    int records = 0;
    int hook_events = 0;
    void add_error(const Error& error) {
        lines.push_back(fmt::format("{}", error));
        lines.push_back(error.to_string());
        lines.push_back(error.message);
        lines.push_back(error.service_message);
    }
    template <class T>
    void add(const Result<T>& result) {
        if (!result.ok())
            add_error(result.error());
    }
};

// Anything that looks like a signature: an ACS3 signature (64 hex digits after
// "Signature="), an RPC one (a Signature parameter with a value), or an exec token.
bool looks_like_a_secret(const std::string& line) {
    static const std::regex patterns(
        R"((Signature=[0-9a-fA-F]{16,})|([?&]Signature=[^&\s*]{4,})|(/exec/\?s=[^&\s*]{4,}))");
    return std::regex_search(line, patterns);
}

}  // namespace

TEST_CASE("secrets: no secret, token or signature in any log line or error of a full run",
          "[secrets][sandbox-e2e]") {
    auto options = sandbox_emulator_options();
    options.access_key_secret = std::string(secret);
    options.security_token = std::string(token);
    AsyncSandboxFixture fx(options);
    Transcript transcript;
    // The fixture's client logs nothing: a second one on the same emulator logs everything,
    // with structured fields, and hands every call to a hook.
    auto observed_config = client_config_for(fx.emulator->ready());
    observed_config.call_hook = transcript.hook();
    auto created = AsyncEciSandbox::from_config(fx.io.get_executor(), observed_config,
                                                transcript.record_logger());
    REQUIRE(created.ok());
    auto& client = *created;
    REQUIRE(client_config_for(fx.emulator->ready()).credentials.security_token == token);

    // A debug dump of the configuration redacts too.
    transcript.lines.push_back(fmt::format("{}", client_config_for(fx.emulator->ready())));
    transcript.lines.push_back(
        fmt::format("{}", client_config_for(fx.emulator->ready()).credentials));

    std::string tls_failure;
    fx.run([&]() -> asio::awaitable<void> {
        CreateOptions create;
        create.image = "registry.example/ubuntu:22.04";
        create.name = "secrets";
        create.wait_until_running = true;
        create.wait_timeout = std::chrono::seconds(20);
        auto sandbox = co_await client.create(std::move(create));
        transcript.add(sandbox);
        REQUIRE(sandbox.ok());

        auto bash = co_await sandbox->bash("echo hello; echo oops >&2; exit 3");
        transcript.add(bash);
        REQUIRE(bash.ok());
        CHECK(bash->exit_code == 3);
        std::vector<std::string> argv;
        argv.emplace_back("echo");
        argv.emplace_back("exec");
        auto exec = co_await sandbox->exec_command(argv);
        transcript.add(exec);
        CHECK(exec.ok());
        auto ws = co_await sandbox->bash_ws("echo over the websocket");
        transcript.add(ws);
        CHECK(ws.ok());

        // A refused signature: a client with the wrong secret.
        auto wrong = client_config_for(fx.emulator->ready());
        wrong.credentials.access_key_secret = "wrong-secret-also-secret";
        wrong.retry.enabled = false;
        wrong.call_hook = transcript.hook();
        auto wrong_client =
            AsyncEciSandbox::from_config(fx.io.get_executor(), wrong, transcript.logger());
        REQUIRE(wrong_client.ok());
        auto refused = co_await wrong_client->list();
        transcript.add(refused);
        REQUIRE_FALSE(refused.ok());
        CHECK(refused.error().kind == ErrorKind::auth);

        // A TLS failure: the emulator's self-signed CA is not configured.
        auto untrusted = client_config_for(fx.emulator->ready());
        untrusted.tls.ca_file.clear();
        untrusted.retry.enabled = false;
        auto untrusted_client =
            AsyncEciSandbox::from_config(fx.io.get_executor(), untrusted, transcript.logger());
        REQUIRE(untrusted_client.ok());
        auto rejected = co_await untrusted_client->list();
        transcript.add(rejected);
        REQUIRE_FALSE(rejected.ok());
        CHECK(rejected.error().kind == ErrorKind::tls);
        tls_failure = fmt::format("{}", rejected.error());

        auto removed = co_await sandbox->remove();
        transcript.add(removed);
        CHECK(removed.ok());
    });

    // The TLS failure says how to fix it, naming the CA option.
    INFO(tls_failure);
    CHECK(tls_failure.find("ECI_SANDBOX_CA_FILE") != std::string::npos);
    CHECK(tls_failure.find("ca_file") != std::string::npos);

    // The run was really logged at the most verbose level, fields and hook included.
    REQUIRE(transcript.lines.size() > 10);
    CHECK(transcript.records > 10);
    CHECK(transcript.hook_events > 10);
    const auto has = [&](std::string_view text) {
        return std::any_of(
            transcript.lines.begin(), transcript.lines.end(),
            [&](const std::string& line) { return line.find(text) != std::string::npos; });
    };
    // The emulator's RequestIds (UUID-shaped), in the fields and the hook's arguments.
    CHECK(
        std::any_of(transcript.lines.begin(), transcript.lines.end(), [](const std::string& line) {
            static const std::regex request_id(R"(request_id=[0-9A-F]{8}-)");
            return std::regex_search(line, request_id);
        }));
    CHECK(has("exec WebSocket connected"));
    CHECK(has("hook error DescribeContainerGroups"));  // the refused signature, through the hook
    CHECK(has("[action=DescribeContainerGroups"));     // plain sink: fields appended
    for (const auto& line : transcript.lines) {
        INFO(line);
        CHECK(line.find(secret) == std::string::npos);
        CHECK(line.find("wrong-secret-also-secret") == std::string::npos);
        CHECK(line.find(token) == std::string::npos);
        CHECK_FALSE(looks_like_a_secret(line));
    }
}
