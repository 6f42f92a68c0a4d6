// SPDX-License-Identifier: Apache-2.0
// redact_secrets(): credentials quoted in server text are hidden, everything else kept.
#include "core/redact.hpp"

#include <catch2/catch.hpp>

#include <string>

using eci::detail::redact_secrets;

TEST_CASE("redact text: query, percent-encoded, header and JSON forms", "[redact]") {
    // V2's string to sign: the query percent-encoded once more.
    CHECK(redact_secrets("string to sign is:GET&%2F&AccessKeyId%3DLTAIabc%26SecurityToken%3D"
                         "CAIS%252Bsecret%26SignatureMethod%3DHMAC-SHA1") ==
          "string to sign is:GET&%2F&AccessKeyId%3DLTAIabc%26SecurityToken%3D<redacted>%26"
          "SignatureMethod%3DHMAC-SHA1");
    CHECK(redact_secrets("a=1&Signature=abc%2B&SecurityToken=tok&Action=X") ==
          "a=1&Signature=<redacted>&SecurityToken=<redacted>&Action=X");
    CHECK(redact_secrets("GET / HTTP/1.1\r\nHost: x\r\nProxy-Authorization: Basic dXNlcg==\r\n"
                         "Authorization: ACS3-HMAC-SHA256 Credential=k,Signature=s\r\n") ==
          "GET / HTTP/1.1\r\nHost: x\r\nProxy-Authorization: <redacted>\r\n"
          "Authorization: <redacted>\r\n");
    CHECK(redact_secrets(R"({"SecurityToken" : "tok", "Name":"web", "password":"p"})") ==
          R"({"SecurityToken" : "<redacted>", "Name":"web", "password":"<redacted>"})");
    CHECK(redact_secrets("x-acs-security-token: abc") == "x-acs-security-token: <redacted>");
}

TEST_CASE("redact text: URLs and echoed request lines lose their tokens", "[redact]") {
    CHECK(redact_secrets("see wss://eci-cn-hangzhou.aliyun.com/exec/?s=TOKEN now") ==
          "see wss://eci-cn-hangzhou.aliyun.com/exec/?s=<redacted> now");
    CHECK(redact_secrets("proxy http://user:pass@proxy:3128/ failed") ==
          "proxy http://<redacted>@proxy:3128/ failed");
    CHECK(redact_secrets("GET /exec/?s=TOKEN&Limit=5 HTTP/1.1") ==
          "GET /exec/?s=<redacted>&Limit=5 HTTP/1.1");
}

TEST_CASE("redact text: ordinary messages pass unchanged", "[redact]") {
    for (const std::string text :
         {"Specified signature is not matched with our calculation.",
          "The specified parameter Limit is not valid.", "NextToken=abc&ClientToken=x",
          "SignatureMethod=HMAC-SHA1&SignatureVersion=1.0&SignatureNonce=n", "token expired",
          "what? nothing", ""}) {
        CHECK(redact_secrets(text) == text);
    }
}
