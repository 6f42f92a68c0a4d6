// SPDX-License-Identifier: Apache-2.0
// ExecContainerCommand: Sync output, and the exec WebSocket (channels, stdin, exit status
// modes, single use, TTY resize, a vanishing client).
#include "harness.hpp"

#include "core/encoding.hpp"

using namespace eci::test;
using namespace std::chrono_literals;
using eci::detail::Params;

namespace {

Params exec_params(const std::string& id, std::vector<std::string> command, Params extra = {}) {
    Params params{{"ContainerGroupId", id},
                  {"ContainerName", "main"},
                  {"Command", eci::detail::json_array_string(command)}};
    params.insert(params.end(), extra.begin(), extra.end());
    return params;
}

asio::awaitable<std::string> running_sandbox(TestApiClient& client, std::string name) {
    std::string id = co_await create_sandbox(client, std::move(name), V("sleep", "600"),
                                             P("Container.1.EnvironmentVar.1.Key", "GREETING",
                                               "Container.1.EnvironmentVar.1.Value", "hello env"));
    REQUIRE(co_await wait_status(client, id, "Running") == "Running");
    co_return id;
}

asio::awaitable<std::string> exec_uri(TestApiClient& client, const std::string& id,
                                      std::vector<std::string> command, Params extra = {}) {
    auto reply = co_await must_call(client, "ExecContainerCommand",
                                    exec_params(id, std::move(command), std::move(extra)));
    INFO(reply.body);
    REQUIRE(reply.status == 200);
    CHECK(!reply.str("HttpUrl").empty());
    co_return reply.str("WebSocketUri");
}

asio::awaitable<ExecTranscript> must_exec(Harness& h, std::string uri, ExecScript script = {},
                                          bool refusal_expected = false) {
    auto transcript = co_await run_exec_socket(h.io.get_executor(), uri, h.emulator->ready().ca_pem,
                                               std::move(script));
    if (!transcript)
        FAIL("exec socket failed: " << transcript.error().to_string());
    if (transcript->handshake_refused && !refusal_expected)
        FAIL("exec socket refused: HTTP " << transcript->http_status);
    co_return std::move(*transcript);
}

std::string stdin_frame(std::string_view data) {
    return std::string(1, '\0') + std::string(data);
}

}  // namespace

TEST_CASE("emulator: exec with Sync returns stdout then stderr", "[emulator][exec]") {
    Harness h;
    h.run([&]() -> asio::awaitable<void> {
        auto client = h.client();
        std::string id = co_await running_sandbox(client, "sync");
        auto reply = co_await must_call(
            client, "ExecContainerCommand",
            exec_params(id, V("/bin/sh", "-c", "echo err >&2; echo \"$GREETING\""),
                        P("Sync", "true")));
        INFO(reply.body);
        CHECK(reply.status == 200);
        CHECK(reply.str("SyncResponse") == "hello env\nerr\n");

        auto unknown_container = co_await must_call(
            client, "ExecContainerCommand",
            P("ContainerGroupId", id, "ContainerName", "nope", "Command", R"(["true"])"));
        CHECK(unknown_container.code() == "InvalidParameter.NotFound");
        std::string long_arg(2100, 'x');
        auto too_long = co_await must_call(client, "ExecContainerCommand",
                                           exec_params(id, V("echo", long_arg), P("Sync", "true")));
        CHECK(too_long.status == 400);
        CHECK(too_long.code() == "InvalidParameter.ValueExceeded");
        auto not_array = co_await must_call(
            client, "ExecContainerCommand",
            P("ContainerGroupId", id, "ContainerName", "main", "Command", "ls -l"));
        CHECK(not_array.code() == "InvalidParameter");
        auto missing = co_await must_call(client, "ExecContainerCommand",
                                          P("ContainerGroupId", id, "ContainerName", "main"));
        CHECK(missing.code() == "MissingParameter");
    });
}

TEST_CASE("emulator: exec WebSocket keeps stdout and stderr apart and is single use",
          "[emulator][exec]") {
    Harness h;
    h.run([&]() -> asio::awaitable<void> {
        auto client = h.client();
        std::string id = co_await running_sandbox(client, "ws");
        std::string uri = co_await exec_uri(
            client, id, V("/bin/sh", "-c", "echo out; echo err >&2; exit 5"), P("Stdin", "false"));
        CHECK(uri.starts_with("wss://127.0.0.1:"));
        CHECK(uri.find("/exec/?s=") != std::string::npos);
        auto transcript = co_await must_exec(h, uri);
        CHECK(transcript.stdout_data == "out\n");
        CHECK(transcript.stderr_data == "err\n");
        CHECK(transcript.other.empty());  // --exit-status none
        CHECK(transcript.close_code == 1000);

        auto reused = co_await must_exec(h, uri, ExecScript(), true);
        CHECK(reused.handshake_refused);
        CHECK(reused.http_status == 403);
        auto forged =
            co_await must_exec(h, uri.substr(0, uri.find("?s=")) + "?s=0000", ExecScript(), true);
        CHECK(forged.handshake_refused);

        // stdin: frames on channel 0, then an empty stdin frame as EOF.
        std::string cat_uri = co_await exec_uri(client, id, V("cat"));
        ExecScript script;
        script.frames = {stdin_frame("line one\n"), stdin_frame("line two\n"), stdin_frame("")};
        auto echoed = co_await must_exec(h, cat_uri, script);
        CHECK(echoed.stdout_data == "line one\nline two\n");
        CHECK(echoed.close_code == 1000);

        // bash reading commands from stdin, as the SDK-based clients drive it.
        std::string bash_uri = co_await exec_uri(client, id, V("/bin/sh"));
        ExecScript bash;
        bash.frames = {stdin_frame("echo \"piped $((6*7))\"\nexit 0\n")};
        auto piped = co_await must_exec(h, bash_uri, bash);
        CHECK(piped.stdout_data == "piped 42\n");
    });
}

TEST_CASE("emulator: exec exit status modes", "[emulator][exec]") {
    for (auto mode :
         {eci::emulator::ExitStatusMode::channel4, eci::emulator::ExitStatusMode::k8s}) {
        auto options = fast_options();
        options.exit_status = mode;
        options.tls = eci::emulator::TlsMode::off;  // also covers ws:// and plain HTTP
        Harness h(options);
        h.run([&]() -> asio::awaitable<void> {
            auto client = h.client();
            std::string id = co_await running_sandbox(client, "modes");
            std::string fail_uri = co_await exec_uri(client, id, V("/bin/sh", "-c", "exit 7"));
            CHECK(fail_uri.starts_with("ws://"));
            auto failed = co_await must_exec(h, fail_uri);
            REQUIRE(failed.other.size() == 1);
            std::string ok_uri = co_await exec_uri(client, id, V("true"));
            auto ok = co_await must_exec(h, ok_uri);
            REQUIRE(ok.other.size() == 1);
            CHECK(failed.close_code == 1000);
            if (mode == eci::emulator::ExitStatusMode::channel4) {
                CHECK(failed.other[0] == std::pair<int, std::string>{4, "7"});
                CHECK(ok.other[0] == std::pair<int, std::string>{4, "0"});
            } else {
                CHECK(failed.other[0].first == 3);
                auto status = boost::json::parse(failed.other[0].second);
                CHECK(status.at("status").as_string() == "Failure");
                CHECK(status.at("reason").as_string() == "NonZeroExitCode");
                const auto& cause = status.at("details").at("causes").as_array()[0];
                CHECK(cause.at("reason").as_string() == "ExitCode");
                CHECK(cause.at("message").as_string() == "7");
                CHECK(ok.other[0].first == 3);
                CHECK(boost::json::parse(ok.other[0].second).at("status").as_string() == "Success");
            }
        });
    }
}

TEST_CASE("emulator: exec with a TTY accepts resize frames", "[emulator][exec]") {
    auto options = fast_options();
    options.exit_status = eci::emulator::ExitStatusMode::k8s;  // resize on channel 4
    Harness h(options);
    h.run([&]() -> asio::awaitable<void> {
        auto client = h.client();
        std::string id = co_await running_sandbox(client, "tty");
        std::string uri = co_await exec_uri(client, id, V("/bin/sh"), P("TTY", "true"));
        ExecScript script;
        script.frames = {std::string(1, '\x04') + R"({"Width":123,"Height":45})",
                         stdin_frame("stty size; exit\n")};
        auto transcript = co_await must_exec(h, uri, script);
        CHECK(transcript.stdout_data.find("45 123") != std::string::npos);
        CHECK(transcript.stderr_data.empty());
        CHECK(transcript.close_code == 1000);
    });
}

TEST_CASE("emulator: a client that vanishes mid-stream kills the exec process",
          "[emulator][exec]") {
    Harness h;
    h.run([&]() -> asio::awaitable<void> {
        auto client = h.client();
        std::string id = co_await running_sandbox(client, "vanish");
        auto processes_now = [&]() -> asio::awaitable<std::int64_t> {
            auto replies = co_await client.get_many("/_emulator/stats", 1);
            REQUIRE(replies);
            co_return stat_number(replies->front().json, "processes", "");
        };
        std::int64_t baseline = co_await processes_now();
        std::string uri = co_await exec_uri(
            client, id, V("/bin/sh", "-c", "while :; do echo spam; done"), P("Stdin", "false"));
        ExecScript script;
        script.vanish_after_stdout_bytes = 64 * 1024;
        script.read_pause = 1ms;  // a slow reader: the emulator must not buffer the flood
        auto transcript = co_await must_exec(h, uri, script);
        CHECK(transcript.stdout_data.size() >= 64 * 1024);
        auto until = std::chrono::steady_clock::now() + 10s;
        std::int64_t now = 0;
        do {
            co_await sleep_for(50ms);
            now = co_await processes_now();
        } while (now > baseline && std::chrono::steady_clock::now() < until);
        CHECK(now == baseline);
    });
}

TEST_CASE("emulator: requests as each SDK family writes them on the wire verify",
          "[emulator][auth]") {
    // The official Python SDK writes the query (and a form body) with urlencode: a space as
    // `+`, `!'()*` and a literal `+` escaped, while it signs the values strictly encoded
    // (`%20`). The Node SDK leaves `!'()*` raw and does not sort. Python's json.dumps puts
    // ", " between elements, so Command itself carries a space.
    Harness h;
    h.run([&]() -> asio::awaitable<void> {
        auto client = h.client();
        std::string id = co_await running_sandbox(client, "wire-forms");
        const std::string text = "a b+c !'()*~ \xC3\xA9 %41";
        const std::string command = R"(["echo", ")" + text + R"("])";
        struct Form {
            const char* name;
            CallOptions::Signing signing;
            bool python_form;
            bool node_style;
            bool form_body;
        };
        for (const Form& form :
             {Form{"acs3 python query", CallOptions::Signing::acs3, true, false, false},
              Form{"acs3 python form body", CallOptions::Signing::acs3, true, false, true},
              Form{"acs3 node query", CallOptions::Signing::acs3, false, true, false},
              Form{"v2 python query", CallOptions::Signing::rpc_v2, true, false, false},
              Form{"v2 python form body", CallOptions::Signing::rpc_v2, true, false, true},
              Form{"v2 node query", CallOptions::Signing::rpc_v2, false, true, false}}) {
            INFO(form.name);
            CallOptions options;
            options.signing = form.signing;
            options.python_form = form.python_form;
            options.lenient_query = form.node_style;
            options.form_body = form.form_body;
            auto reply = co_await must_call(client, "ExecContainerCommand",
                                            P("ContainerGroupId", id, "ContainerName", "main",
                                              "Command", command, "Sync", "true"),
                                            options);
            INFO(reply.body);
            CHECK(reply.status == 200);
            CHECK(reply.str("SyncResponse") == text + "\n");
        }
    });
}

TEST_CASE("emulator: Command limits are the whole command's, per element only when strict",
          "[emulator][exec]") {
    for (const bool strict : {false, true}) {
        INFO("strict " << strict);
        auto options = fast_options();
        options.strict_command_limits = strict;
        Harness h(options);
        h.run([&]() -> asio::awaitable<void> {
            auto client = h.client();
            std::string id = co_await running_sandbox(client, "limits");
            auto sync = [&](std::vector<std::string> argv) -> asio::awaitable<TestReply> {
                co_return co_await must_call(client, "ExecContainerCommand",
                                             exec_params(id, std::move(argv), P("Sync", "true")));
            };
            // One element of 1,900 bytes, as the Python package's bash wrapper sends.
            const std::string long_word(1900, 'w');
            auto long_element = co_await sync(V("echo", long_word));
            std::vector<std::string> many(30, "x");
            many.front() = "echo";
            auto many_elements = co_await sync(many);
            // 256 characters of two bytes each: within the per-element rule, which counts
            // characters.
            std::string wide;
            for (int i = 0; i < 256; ++i)
                wide += "\xC3\xA9";
            auto wide_element = co_await sync(V("echo", wide));
            CHECK(wide_element.status == 200);
            // The whole command's 2048 bytes hold either way.
            auto over_total = co_await sync(V("echo", std::string(2100, 'x')));
            CHECK(over_total.code() == "InvalidParameter.ValueExceeded");
            if (strict) {
                CHECK(long_element.code() == "InvalidParameter.ValueExceeded");
                CHECK(long_element.str("Message").find("256") != std::string::npos);
                CHECK(many_elements.code() == "InvalidParameter.ValueExceeded");
                CHECK(many_elements.str("Message").find("20") != std::string::npos);
            } else {
                CHECK(long_element.status == 200);
                CHECK(long_element.str("SyncResponse") == long_word + "\n");
                CHECK(many_elements.status == 200);
                CHECK(many_elements.str("SyncResponse").size() == 29 * 2);
            }
        });
    }
}
