// SPDX-License-Identifier: Apache-2.0
// The emulator against hostile or broken clients: malformed signatures, huge and invalid
// parameters, invalid UTF-8, a delete racing an exec, a client vanishing mid-stream. Every
// case must end in a clear refusal (or a closed connection), never a crash, and leave no
// sandbox or process behind.
#include "harness.hpp"

#include "core/encoding.hpp"
#include "core/time_format.hpp"
#include "emulator/request_auth.hpp"
#include "emulator/request_decode.hpp"
#include "net/http_client.hpp"

#include <boost/asio/detached.hpp>

using namespace eci::test;
using namespace std::chrono_literals;
using eci::detail::HttpClient;
using eci::detail::HttpRequest;
using eci::detail::Params;

namespace {

// A raw HTTPS client for requests TestApiClient will not build (no signing at all).
HttpClient raw_client(Harness& h) {
    eci::detail::HttpClientOptions options;
    options.host = "127.0.0.1";
    options.port = h.emulator->ready().port;
    options.ca_file = h.emulator->ready().ca_file;
    options.idle_timeout = 0s;  // one connection per request: a refusal may close it
    auto client = HttpClient::create(h.io.get_executor(), options);
    REQUIRE(client.ok());
    return std::move(*client);
}

asio::awaitable<boost::json::value> stats(TestApiClient& client) {
    auto replies = co_await client.get_many("/_emulator/stats", 1);
    REQUIRE(replies);
    co_return replies->front().json;
}

// Waits until the emulator holds no sandbox and no process; returns the last stats.
asio::awaitable<boost::json::value> wait_until_empty(TestApiClient& client) {
    const auto until = std::chrono::steady_clock::now() + 15s;
    for (;;) {
        auto now = co_await stats(client);
        if ((stat_number(now, "sandboxes", "") == 0 && stat_number(now, "processes", "") == 0) ||
            std::chrono::steady_clock::now() > until)
            co_return now;
        co_await sleep_for(50ms);
    }
}

std::string error_code_of(const std::string& body) {
    boost::system::error_code ec;
    auto json = boost::json::parse(body, ec);
    if (ec || !json.is_object() || !json.as_object().contains("Code"))
        return {};
    return std::string(json.at("Code").as_string());
}

}  // namespace

TEST_CASE("emulator: decode_request reads `+` as a space in the query and the form body",
          "[emulator]") {
    // As the gateway must, for the Python SDKs' urlencode: a literal plus arrives as %2B.
    using eci::emulator::IncomingRequest;
    eci::detail::Headers headers{{"Content-Type", "application/x-www-form-urlencoded"}};
    auto decoded = eci::emulator::decode_request(
        "POST", "/?Command=%5B%22echo%22%2C+%22a+b%2Bc%22%5D&Tag.1.Value=x+y", headers,
        "Env=k+v%2B1", true);
    auto* request = std::get_if<IncomingRequest>(&decoded);
    REQUIRE(request);
    CHECK(eci::detail::find_param(request->params, "Command") == R"(["echo", "a b+c"])");
    CHECK(eci::detail::find_param(request->params, "Tag.1.Value") == "x y");
    CHECK(eci::detail::find_param(request->params, "Env") == "k v+1");
    CHECK(eci::detail::find_param(request->query, "Tag.1.Value") == "x y");
}

TEST_CASE("emulator hostile: decode_request refuses invalid UTF-8 and too many parameters",
          "[emulator][hostile]") {
    using eci::emulator::decode_request;
    using eci::emulator::IncomingRequest;
    auto refusal = [](std::string target, std::string body = {}) {
        eci::detail::Headers headers{{"Content-Type", "application/x-www-form-urlencoded"}};
        auto decoded = decode_request("POST", target, headers, std::move(body), true);
        auto* error = std::get_if<eci::emulator::ApiError>(&decoded);
        return error ? error->code + ": " + error->message : std::string("accepted");
    };
    CHECK(refusal("/?A=1&B=%C3%A9") == "accepted");
    CHECK(refusal("/?Name=%FF") ==
          "InvalidParameter: The value of parameter \"Name\" is not valid UTF-8.");
    CHECK(refusal("/?%C0%80=x").starts_with("InvalidParameter: A parameter name"));
    CHECK(refusal("/", "Env=%ED%A0%80").find("not valid UTF-8") != std::string::npos);
    CHECK(refusal("/?a=%zz").find("malformed percent-encoding") != std::string::npos);
    std::string many;
    for (int i = 0; i < 100'000; ++i)
        many += "k" + std::to_string(i) + "=v&";
    CHECK(refusal("/?" + many).starts_with("InvalidParameter.ValueExceeded"));
    CHECK(refusal("/", many).starts_with("InvalidParameter.ValueExceeded"));

    CHECK(eci::emulator::is_valid_utf8("plain ascii, \xc3\xa9, \xe4\xbd\xa0, \xf0\x9f\x98\x80"));
    CHECK_FALSE(eci::emulator::is_valid_utf8("\xc3"));              // truncated
    CHECK_FALSE(eci::emulator::is_valid_utf8("\xc0\xaf"));          // overlong
    CHECK_FALSE(eci::emulator::is_valid_utf8("\xed\xa0\x80"));      // surrogate
    CHECK_FALSE(eci::emulator::is_valid_utf8("\xf4\x90\x80\x80"));  // above U+10FFFF
    CHECK_FALSE(eci::emulator::is_valid_utf8("\x80"));
}

TEST_CASE("emulator hostile: malformed signatures are refused clearly", "[emulator][hostile]") {
    Harness h;
    h.run([&]() -> asio::awaitable<void> {
        auto raw = raw_client(h);
        auto send = [&](std::string target, eci::detail::Headers headers) {
            HttpRequest request;
            request.method = "POST";
            request.target = std::move(target);
            request.headers = std::move(headers);
            return raw.send(std::move(request));
        };
        const std::string date =
            eci::detail::format_utc_timestamp(std::chrono::system_clock::now());
        auto acs3_headers = [&](std::string authorization) {
            return eci::detail::Headers{
                {"x-acs-action", "DescribeContainerGroups"},
                {"x-acs-version", "2018-08-08"},
                {"x-acs-date", date},
                {"x-acs-signature-nonce", "n-" + authorization.substr(0, 8)},
                {"Authorization", authorization}};
        };
        for (std::string authorization :
             {std::string("garbage"), std::string("ACS3-HMAC-SHA256"),
              std::string("ACS3-HMAC-SHA256 Credential=LTAItestkey"),
              std::string("ACS3-HMAC-SHA256 Credential=LTAItestkey,SignedHeaders=,Signature="),
              std::string("ACS3-HMAC-SHA256 Credential=LTAItestkey,SignedHeaders=host;;;,"
                          "Signature=zz"),
              std::string("ACS3-HMAC-SHA256 Credential=LTAItestkey,SignedHeaders=host,Signature=") +
                  std::string(10000, 'f'),
              std::string("ACS3-HMAC-SHA256 Credential=") + std::string(2000, ',')}) {
            auto reply = co_await send("/?RegionId=cn-hangzhou", acs3_headers(authorization));
            INFO(authorization.substr(0, 80));
            REQUIRE(reply.ok());
            CHECK(reply->status >= 400);
            CHECK(reply->status < 500);
            const std::string code = error_code_of(reply->body);
            CHECK((code == "IncompleteSignature" || code == "SignatureDoesNotMatch" ||
                   code == "InvalidAccessKeyId.NotFound" || code == "MissingParameter"));
        }
        // RPC V2 with a Signature that is not base64, is empty, or repeats.
        const std::string query =
            "/?Action=DescribeContainerGroups&Version=2018-08-08&RegionId=cn-hangzhou"
            "&AccessKeyId=LTAItestkey&SignatureMethod=HMAC-SHA1&SignatureVersion=1.0"
            "&SignatureNonce=n1&Timestamp=" +
            eci::detail::percent_encode(date);
        for (std::string signature : {"&Signature=%21%21not-base64%21%21", "&Signature=",
                                      "&Signature=a&Signature=b", "&SignatureMethod=MD5"}) {
            auto reply = co_await send(query + signature, {});
            INFO(signature);
            REQUIRE(reply.ok());
            CHECK(reply->status == 400);
            CHECK_FALSE(error_code_of(reply->body).empty());
        }
        auto client = h.client();
        auto after = co_await stats(client);
        CHECK(stat_number(after, "api_errors", "IncompleteSignature") >= 1);
        CHECK(stat_number(after, "sandboxes", "") == 0);
    });
}

TEST_CASE("emulator hostile: huge bodies and queries, invalid UTF-8: refused, server unharmed",
          "[emulator][hostile]") {
    Harness h;
    h.run([&]() -> asio::awaitable<void> {
        auto raw = raw_client(h);
        // 10 MB body: over the 8 MiB limit. The emulator answers 413 before reading it, then
        // closes; the client may see the answer or, still sending, a reset. Never a hang.
        {
            HttpRequest request;
            request.method = "POST";
            request.target = "/";
            request.headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
            request.body = "Action=DescribeContainerGroups&Junk=" + std::string(10'000'000, 'x');
            auto reply = co_await raw.send(std::move(request));
            if (reply.ok()) {
                CHECK(reply->status == 413);
                CHECK(error_code_of(reply->body) == "RequestEntityTooLarge");
            } else {
                CHECK(reply.error().kind == eci::ErrorKind::network);
            }
        }
        // A 100k-item query: the request line alone exceeds the 64 KiB header limit.
        {
            std::string target = "/?";
            for (int i = 0; i < 100'000; ++i)
                target += "k" + std::to_string(i) + "=v&";
            HttpRequest request;
            request.method = "GET";
            request.target = std::move(target);
            auto reply = co_await raw.send(std::move(request));
            if (reply.ok()) {
                CHECK(reply->status == 431);
                CHECK(error_code_of(reply->body) == "RequestHeaderTooLarge");
            } else {
                CHECK(reply.error().kind == eci::ErrorKind::network);
            }
        }
        auto client = h.client();
        // A 100k-item form body fits the body limit but not the parameter limit.
        {
            std::string body;
            for (int i = 0; i < 100'000; ++i)
                body += "Tag." + std::to_string(i + 1) + ".Key=k&";
            HttpRequest request;
            request.method = "POST";
            request.target = "/";
            request.headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
            request.body = std::move(body);
            auto reply = co_await raw.send(std::move(request));
            REQUIRE(reply.ok());
            CHECK(reply->status == 400);
            CHECK(error_code_of(reply->body) == "InvalidParameter.ValueExceeded");
        }
        // A correctly signed create with invalid UTF-8 in the name, then in an env value.
        auto bad_name = co_await must_call(client, "CreateContainerGroup",
                                           create_params("bad-\xff\xfe-name", V("sleep", "60")));
        CHECK(bad_name.status == 400);
        CHECK(bad_name.code() == "InvalidParameter");
        CHECK(bad_name.str("Message").find("ContainerGroupName") != std::string::npos);
        auto bad_env =
            co_await must_call(client, "CreateContainerGroup",
                               create_params("badenv", V("sleep", "60"),
                                             P("Container.1.EnvironmentVar.1.Key", "K",
                                               "Container.1.EnvironmentVar.1.Value", "\xc0\x80")));
        CHECK(bad_env.status == 400);
        CHECK(bad_env.str("Message").find("Container.1.EnvironmentVar.1.Value") !=
              std::string::npos);
        // Valid UTF-8 still works, and the server still serves on fresh connections.
        std::string id = co_await create_sandbox(
            client, "utf8-ok", V("sleep", "60"),
            P("Container.1.EnvironmentVar.1.Key", "GREETING", "Container.1.EnvironmentVar.1.Value",
              "\xe4\xbd\xa0\xe5\xa5\xbd"));
        CHECK(co_await wait_status(client, id, "Running") == "Running");
        auto deleted =
            co_await must_call(client, "DeleteContainerGroup", P("ContainerGroupId", id));
        CHECK(deleted.status == 200);
        auto after = co_await wait_until_empty(client);
        INFO(boost::json::serialize(after));
        CHECK(stat_number(after, "sandboxes", "") == 0);
        CHECK(stat_number(after, "processes", "") == 0);
    });
}

TEST_CASE("emulator hostile: a delete racing a streaming exec ends both, no orphan",
          "[emulator][hostile]") {
    Harness h;
    h.run([&]() -> asio::awaitable<void> {
        auto client = h.client();
        std::string id = co_await create_sandbox(client, "race", V("sleep", "600"));
        REQUIRE(co_await wait_status(client, id, "Running") == "Running");
        auto exec =
            co_await must_call(client, "ExecContainerCommand",
                               P("ContainerGroupId", id, "ContainerName", "main", "Command",
                                 eci::detail::json_array_string(
                                     V("/bin/sh", "-c", "while :; do echo tick; sleep 0.01; done")),
                                 "Stdin", "false"));
        REQUIRE(exec.status == 200);
        const std::string uri = exec.str("WebSocketUri");

        bool exec_done = false;
        std::size_t ticks = 0;
        int close_code = 0;
        asio::co_spawn(
            h.io,
            [&]() -> asio::awaitable<void> {
                auto transcript =
                    co_await run_exec_socket(h.io.get_executor(), uri, h.emulator->ready().ca_pem);
                if (transcript) {
                    ticks = transcript->stdout_data.size();
                    close_code = transcript->close_code;
                }
                exec_done = true;
            },
            asio::detached);
        co_await sleep_for(300ms);
        // Delete while the command streams, and exec once more while it terminates.
        auto deleted =
            co_await must_call(client, "DeleteContainerGroup", P("ContainerGroupId", id));
        CHECK(deleted.status == 200);
        auto late = co_await must_call(
            client, "ExecContainerCommand",
            P("ContainerGroupId", id, "ContainerName", "main", "Command",
              eci::detail::json_array_string(V("echo", "late")), "Sync", "true"));
        CHECK(late.status >= 400);
        CHECK_FALSE(late.code().empty());

        const auto until = std::chrono::steady_clock::now() + 10s;
        while (!exec_done && std::chrono::steady_clock::now() < until)
            co_await sleep_for(20ms);
        CHECK(exec_done);
        CHECK(ticks > 0);
        (void)close_code;
        auto after = co_await wait_until_empty(client);
        INFO(boost::json::serialize(after));
        CHECK(stat_number(after, "sandboxes", "") == 0);
        CHECK(stat_number(after, "processes", "") == 0);
    });
}

// Fuzz regression (eci-fuzz-emulator_request, crash-0ed0ac55...): an x-acs-date in year 4052
// overflowed the skew computation (seconds to nanoseconds: undefined behaviour, and a wrapped
// skew could pass the window). Now it is simply expired, as is a date before 1970.
TEST_CASE("emulator hostile: timestamps centuries away are expired, not an overflow",
          "[emulator][hostile][fuzz-regression]") {
    for (std::string date : {"4052-11-26T00:00:00Z", "9999-12-31T23:59:59Z", "2262-04-12T00:00:00Z",
                             "1000-01-01T00:00:00Z"}) {
        eci::emulator::IncomingRequest request;
        request.method = "POST";
        request.path = "/";
        request.query = P("RegionId", "cn-hangzhou", "ContainerGroupId", "eci-abc");
        request.params = request.query;
        request.headers = {
            {"host", "eci.cn-hangzhou.aliyuncs.com"},
            {"x-acs-action", "DeleteContainerGroup"},
            {"x-acs-version", "2018-08-08"},
            {"x-acs-date", date},
            {"x-acs-signature-nonce", "nonce-8"},
            {"x-acs-content-sha256",
             "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
            {"x-acs-accesskey-id", "LTAIfuzzkey0001"},
            {"authorization",
             "ACS3-HMAC-SHA256 Credential=LTAIfuzzkey0001,SignedHeaders=host;x-acs-accesskey-id;"
             "x-acs-action;x-acs-content-sha255;x-acs-date;x-acs-signature-nonce;x-acs-version,"
             "Signature=0a57a7ea5121584dde19904360bc94a3a3860c9ff9f137d819a24e6665d1bb85"}};
        eci::emulator::AuthConfig config;
        config.access_key_id = "LTAIfuzzkey0001";
        config.access_key_secret = "fuzz-secret-0001";
        eci::emulator::NonceCache nonces;
        auto outcome =
            eci::emulator::authenticate(request, config, nonces, std::chrono::system_clock::now(),
                                        eci::emulator::NonceCache::Clock::now());
        auto* error = std::get_if<eci::emulator::ApiError>(&outcome);
        INFO(date);
        REQUIRE(error != nullptr);
        CHECK(error->code == "InvalidTimeStamp.Expired");
    }
}
