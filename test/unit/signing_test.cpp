// SPDX-License-Identifier: Apache-2.0
// Signing: every vector the official SDK produced (test/data/signatures.json), the examples
// from Alibaba's documentation, end-to-end signing with fixed date and nonce, and the
// emulator's verification path over a leniently encoded wire query.
#include "core/signing.hpp"
#include "core/crypto.hpp"
#include "core/encoding.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

using namespace eci::detail;

namespace {

const boost::json::value& vectors() {
    static const boost::json::value root = [] {
        std::ifstream file(ECI_TEST_DATA_DIR "/signatures.json", std::ios::binary);
        REQUIRE(file.good());
        std::stringstream text;
        text << file.rdbuf();
        return boost::json::parse(text.str());
    }();
    return root;
}

std::string str(const boost::json::value& value, std::string_view key) {
    return std::string(value.at(key).as_string());
}

// JSON object members as pairs, in the file's order.
std::vector<std::pair<std::string, std::string>> pairs(const boost::json::value& object) {
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& member : object.as_object()) {
        out.emplace_back(std::string(member.key()), std::string(member.value().as_string()));
    }
    return out;
}

std::string header_value(const Headers& headers, std::string_view name) {
    for (const auto& [key, value] : headers) {
        if (key == name)
            return value;
    }
    return {};
}

// What JavaScript's encodeURIComponent puts on the wire: strict encoding except that
// `! ' ( ) *` stay raw.
std::string node_style_query(const Params& params) {
    std::string strict = build_query(params);
    std::string out;
    for (std::size_t i = 0; i < strict.size(); ++i) {
        const std::string_view rest = std::string_view(strict).substr(i);
        char raw = 0;
        if (rest.starts_with("%21"))
            raw = '!';
        if (rest.starts_with("%27"))
            raw = '\'';
        if (rest.starts_with("%28"))
            raw = '(';
        if (rest.starts_with("%29"))
            raw = ')';
        if (rest.starts_with("%2A"))
            raw = '*';
        if (raw != 0) {
            out += raw;
            i += 2;
        } else {
            out += strict[i];
        }
    }
    return out;
}

}  // namespace

TEST_CASE("signing: every ACS3 vector of the official SDK reproduces", "[signing]") {
    const auto& list = vectors().at("acs3").as_array();
    REQUIRE(list.size() >= 30);
    for (const auto& vector : list) {
        const std::string action = str(vector, "action");
        INFO("action " << action << " date " << str(vector.at("headers"), "x-acs-date"));
        const Params query = pairs(vector.at("query"));
        const Headers headers = pairs(vector.at("headers"));
        const std::string secret = str(vector, "access_key_secret");

        const Acs3CanonicalHeaders canonical = acs3_canonical_headers(headers);
        const std::string string_to_sign = acs3_string_to_sign(
            acs3_canonical_request(str(vector, "method"), str(vector, "pathname"), query, canonical,
                                   str(vector, "payload_sha256")));
        const std::string authorization =
            acs3_authorization(str(vector, "access_key_id"), canonical.signed_names,
                               acs3_signature(secret, string_to_sign));
        CHECK(authorization == str(vector, "authorization"));
    }
}

TEST_CASE("signing: sign_acs3 with the vector's date and nonce sends the SDK's headers",
          "[signing]") {
    for (const auto& vector : vectors().at("acs3").as_array()) {
        const Params query = pairs(vector.at("query"));
        const Headers expected = pairs(vector.at("headers"));
        INFO("nonce " << header_value(expected, "x-acs-signature-nonce"));
        const std::string key_id = str(vector, "access_key_id");
        const std::string secret = str(vector, "access_key_secret");
        const std::string token = header_value(expected, "x-acs-security-token");
        const std::string host = header_value(expected, "host");
        const std::string version = header_value(expected, "x-acs-version");
        const std::string action = str(vector, "action");
        const std::string method = str(vector, "method");
        const std::string pathname = str(vector, "pathname");
        REQUIRE(str(vector, "payload_sha256") == empty_payload_sha256);  // vectors: empty body

        Acs3Request request;
        request.action = action;
        request.version = version;
        request.host = host;
        request.method = method;
        request.pathname = pathname;
        request.query = query;
        const Headers sent = sign_acs3(SigningKey{key_id, secret, token}, request,
                                       header_value(expected, "x-acs-date"),
                                       header_value(expected, "x-acs-signature-nonce"));

        CHECK(header_value(sent, "authorization") == str(vector, "authorization"));
        // Every header the SDK signed is sent with the same value; nothing else is signed.
        for (const auto& [name, value] : expected) {
            if (!acs3_is_signed_header(name))
                continue;
            CHECK(header_value(sent, name) == value);
        }
        CHECK(acs3_canonical_headers(sent).signed_names ==
              acs3_canonical_headers(expected).signed_names);
        CHECK(sent.back().first == "authorization");
    }
}

TEST_CASE("signing: the emulator's ACS3 verification accepts every SDK vector", "[signing]") {
    for (const auto& vector : vectors().at("acs3").as_array()) {
        const Params query = pairs(vector.at("query"));
        Headers headers = pairs(vector.at("headers"));
        headers.emplace_back("Authorization", str(vector, "authorization"));
        const auto parsed = parse_acs3_authorization(header_value(headers, "Authorization"));
        REQUIRE(parsed);
        CHECK(parsed->credential == str(vector, "access_key_id"));
        CHECK(acs3_unsigned_headers(headers, parsed->signed_headers).empty());

        // The query arrives as the SDK writes it and is decoded before verifying.
        const auto wire = parse_query(node_style_query(query), false);
        REQUIRE(wire);
        CHECK(*wire == query);
        const ExpectedSignature expected = acs3_expected_signature(
            str(vector, "access_key_secret"), str(vector, "method"), str(vector, "pathname"), *wire,
            headers, parsed->signed_headers, str(vector, "payload_sha256"));
        CHECK(constant_time_equal(expected.signature, parsed->signature));
        CHECK(expected.string_to_sign.starts_with("ACS3-HMAC-SHA256\n"));
        CHECK(expected.string_to_sign.size() == 17 + 64);

        const ExpectedSignature wrong_secret = acs3_expected_signature(
            "not-the-secret", str(vector, "method"), str(vector, "pathname"), *wire, headers,
            parsed->signed_headers, str(vector, "payload_sha256"));
        CHECK_FALSE(constant_time_equal(wrong_secret.signature, parsed->signature));
    }
}

TEST_CASE("signing: the documented ACS3 example gives its hashed request and signature",
          "[signing]") {
    const auto& example = vectors().at("documented_examples").at("acs3");
    const Params query = pairs(example.at("query"));
    const Headers headers = pairs(example.at("headers"));
    const std::string canonical_request = acs3_canonical_request(
        str(example, "method"), str(example, "pathname"), query, acs3_canonical_headers(headers),
        header_value(headers, "x-acs-content-sha256"));
    CHECK(sha256_hex(canonical_request) == str(example, "hashed_canonical_request"));
    CHECK(canonical_request ==
          "POST\n/\nImageId=win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd&RegionId=cn-"
          "shanghai\nhost:ecs.cn-shanghai.aliyuncs.com\nx-acs-action:RunInstances\nx-acs-content-"
          "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\nx-acs-date:"
          "2023-10-26T10:22:32Z\nx-acs-signature-nonce:3156853299f313e23d1673dc12e1703d\nx-acs-"
          "version:2014-05-26\n\nhost;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-"
          "signature-nonce;x-acs-version\n"
          "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK(acs3_signature(str(example, "access_key_secret"),
                         acs3_string_to_sign(canonical_request)) == str(example, "signature"));
}

TEST_CASE("signing: every RPC vector of the official SDK reproduces, also via sign_rpc",
          "[signing]") {
    const auto& list = vectors().at("rpc").as_array();
    REQUIRE(list.size() >= 30);
    const std::vector<std::string> common = {
        "Action",          "Format",           "Version",     "Timestamp",    "SignatureNonce",
        "SignatureMethod", "SignatureVersion", "AccessKeyId", "SecurityToken"};
    for (const auto& vector : list) {
        const Params params = pairs(vector.at("params"));
        const std::string secret = str(vector, "access_key_secret");
        const std::string method = str(vector, "method");
        INFO("nonce " << *find_param(params, "SignatureNonce"));

        CHECK(rpc_signature(secret, rpc_string_to_sign(method, params)) ==
              str(vector, "signature"));
        const ExpectedSignature expected = rpc_expected_signature(secret, method, params);
        CHECK(constant_time_equal(expected.signature, str(vector, "signature")));

        // End to end: the business parameters through sign_rpc with the same nonce and time.
        Params business;
        for (const Param& param : params) {
            if (std::find(common.begin(), common.end(), param.first) == common.end()) {
                business.push_back(param);
            }
        }
        const std::string key_id(*find_param(params, "AccessKeyId"));
        const std::string token(find_param(params, "SecurityToken").value_or(""));
        const std::string action = str(vector, "action");
        RpcRequest request;
        request.action = action;
        request.version = "2018-08-08";
        request.method = method;
        request.params = business;
        Params sent =
            sign_rpc(SigningKey{key_id, secret, token}, request, *find_param(params, "Timestamp"),
                     *find_param(params, "SignatureNonce"));
        REQUIRE(sent.back().first == "Signature");
        CHECK(sent.back().second == str(vector, "signature"));
        sent.pop_back();
        CHECK(sent == params);  // same parameters, in the SDK's order

        // The server side: Signature travels with the other parameters and is left out.
        const auto wire =
            parse_query(build_query(sign_rpc(SigningKey{key_id, secret, token}, request,
                                             *find_param(params, "Timestamp"),
                                             *find_param(params, "SignatureNonce"))),
                        false);
        REQUIRE(wire);
        CHECK(rpc_expected_signature(secret, method, *wire).signature ==
              *find_param(*wire, "Signature"));
    }
}

TEST_CASE("signing: the documented RPC example gives its string to sign and signature",
          "[signing]") {
    const auto& example = vectors().at("documented_examples").at("rpc");
    const Params params = pairs(example.at("params"));
    const std::string string_to_sign = rpc_string_to_sign(str(example, "method"), params);
    CHECK(string_to_sign ==
          "GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeRegions%26Format%3DXML%26"
          "SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf%26"
          "SignatureVersion%3D1.0%26Timestamp%3D2016-02-23T12%253A46%253A24Z%26"
          "Version%3D2014-05-26");
    CHECK(rpc_signature(str(example, "access_key_secret"), string_to_sign) ==
          str(example, "signature"));
}

TEST_CASE("signing: an ACS3 query with !'()* and UTF-8 sent raw still verifies", "[signing]") {
    const Params query = {{"RegionId", "cn-hangzhou"},
                          {"Command", R"(["sh","-c","echo (hi)! it's *me* ~ a+b 😀"])"},
                          {"Empty", ""},
                          {"Container.1.Name", "box"}};
    Acs3Request request;
    request.action = "ExecContainerCommand";
    request.version = "2018-08-08";
    request.host = "eci.cn-hangzhou.aliyuncs.com";
    request.query = query;
    const Headers sent = sign_acs3(SigningKey{"LTAIid", "secret/+=", "STS-token"}, request,
                                   "2026-01-02T03:04:05Z", "00112233445566778899aabbccddeeff");

    const std::string wire_query = node_style_query(query);
    CHECK(wire_query.find("(hi)!") != std::string::npos);
    CHECK(wire_query.find("*me*") != std::string::npos);
    CHECK(wire_query.find("it's") != std::string::npos);

    const auto decoded = parse_query(wire_query, false);
    REQUIRE(decoded);
    CHECK(*decoded == query);
    const auto authorization = parse_acs3_authorization(header_value(sent, "authorization"));
    REQUIRE(authorization);
    CHECK(authorization->signed_headers ==
          std::vector<std::string>{"host", "x-acs-accesskey-id", "x-acs-action",
                                   "x-acs-content-sha256", "x-acs-date", "x-acs-security-token",
                                   "x-acs-signature-nonce", "x-acs-version"});
    CHECK(acs3_unsigned_headers(sent, authorization->signed_headers).empty());
    const ExpectedSignature expected =
        acs3_expected_signature("secret/+=", "POST", "/", *decoded, sent,
                                authorization->signed_headers, empty_payload_sha256);
    CHECK(constant_time_equal(expected.signature, authorization->signature));

    // The trap: the wire text is not the canonical encoding, so a verifier that signs the
    // raw wire string instead of decoding and re-encoding it computes another signature.
    CHECK(wire_query != build_query(query));
    CHECK(canonical_query(*decoded).find(
              "%28hi%29%21%20it%27s%20%2Ame%2A%20~%20a%2Bb%20%F0%9F%98%80") != std::string::npos);

    // A changed value, header or method breaks it.
    Params tampered = *decoded;
    tampered[0].second = "cn-shanghai";
    CHECK(acs3_expected_signature("secret/+=", "POST", "/", tampered, sent,
                                  authorization->signed_headers, empty_payload_sha256)
              .signature != authorization->signature);
    Headers other_token = sent;
    for (auto& header : other_token) {
        if (header.first == "x-acs-security-token")
            header.second = "another";
    }
    CHECK(acs3_expected_signature("secret/+=", "POST", "/", *decoded, other_token,
                                  authorization->signed_headers, empty_payload_sha256)
              .signature != authorization->signature);
    CHECK(acs3_expected_signature("secret/+=", "GET", "/", *decoded, sent,
                                  authorization->signed_headers, empty_payload_sha256)
              .signature != authorization->signature);
}

TEST_CASE("signing: sign_acs3 signs a body's hash and its content-type", "[signing]") {
    const std::string body = "RegionId=cn-hangzhou&Limit=20";
    Acs3Request request;
    request.action = "DescribeContainerGroups";
    request.version = "2018-08-08";
    request.host = "eci.cn-hangzhou.aliyuncs.com";
    request.body = body;
    request.content_type = "application/x-www-form-urlencoded";
    const Headers sent =
        sign_acs3(SigningKey{"id", "secret", ""}, request, "2026-01-02T03:04:05Z", "nonce-1");
    CHECK(header_value(sent, "x-acs-content-sha256") == sha256_hex(body));
    CHECK(header_value(sent, "x-acs-security-token").empty());
    CHECK(header_value(sent, "x-acs-accesskey-id").empty());
    const auto authorization = parse_acs3_authorization(header_value(sent, "authorization"));
    REQUIRE(authorization);
    CHECK(authorization->signed_headers ==
          std::vector<std::string>{"content-type", "host", "x-acs-action", "x-acs-content-sha256",
                                   "x-acs-date", "x-acs-signature-nonce", "x-acs-version"});
    CHECK(acs3_expected_signature("secret", "POST", "/", {}, sent, authorization->signed_headers,
                                  sha256_hex(body))
              .signature == authorization->signature);
    CHECK(acs3_expected_signature("secret", "POST", "/", {}, sent, authorization->signed_headers,
                                  empty_payload_sha256)
              .signature != authorization->signature);
}

TEST_CASE("signing: canonical headers lower-case, trim, sort and join repeated names",
          "[signing]") {
    const Headers headers = {{"X-Acs-Date", "  2026-01-01T00:00:00Z\t"},
                             {"Host", "example.com"},
                             {"User-Agent", "unsigned"},
                             {"x-acs-extra", "b"},
                             {"Content-Type", "application/json"},
                             {"X-ACS-EXTRA", "a"}};
    const Acs3CanonicalHeaders canonical = acs3_canonical_headers(headers);
    CHECK(canonical.signed_names == "content-type;host;x-acs-date;x-acs-extra");
    CHECK(canonical.lines ==
          "content-type:application/json\nhost:example.com\nx-acs-date:2026-01-01T00:00:00Z\n"
          "x-acs-extra:b,a\n");

    // An explicit list (verification) takes exactly those names; a missing one is empty.
    const std::vector<std::string> names = {"HOST", "x-acs-missing", "host"};
    const Acs3CanonicalHeaders listed = acs3_canonical_headers(headers, names);
    CHECK(listed.signed_names == "host;x-acs-missing");
    CHECK(listed.lines == "host:example.com\nx-acs-missing:\n");

    const std::vector<std::string> signed_names = {"host", "x-acs-date"};
    CHECK(acs3_unsigned_headers(headers, signed_names) ==
          std::vector<std::string>{"content-type", "x-acs-extra"});
}

TEST_CASE("signing: parse_acs3_authorization accepts the SDK's form and refuses broken ones",
          "[signing]") {
    const auto parsed = parse_acs3_authorization(
        "ACS3-HMAC-SHA256 Credential=LTAI,SignedHeaders=host;X-Acs-Date,Signature=abc");
    REQUIRE(parsed);
    CHECK(parsed->credential == "LTAI");
    CHECK(parsed->signed_headers == std::vector<std::string>{"host", "x-acs-date"});
    CHECK(parsed->signature == "abc");

    const auto spaced = parse_acs3_authorization(
        "ACS3-HMAC-SHA256 Signature=abc, Credential=LTAI, SignedHeaders=host, Extra=1");
    REQUIRE(spaced);
    CHECK(spaced->credential == "LTAI");
    CHECK(spaced->signed_headers == std::vector<std::string>{"host"});

    CHECK_FALSE(parse_acs3_authorization(""));
    CHECK_FALSE(
        parse_acs3_authorization("ACS3-HMAC-SHA1 Credential=a,SignedHeaders=host,"
                                 "Signature=b"));
    CHECK_FALSE(
        parse_acs3_authorization("ACS3-HMAC-SHA256Credential=a,SignedHeaders=host,"
                                 "Signature=b"));
    CHECK_FALSE(parse_acs3_authorization("ACS3-HMAC-SHA256 Credential=a,SignedHeaders=host"));
    CHECK_FALSE(
        parse_acs3_authorization("ACS3-HMAC-SHA256 Credential=,SignedHeaders=host,Signature=b"));
    CHECK_FALSE(parse_acs3_authorization(
        "ACS3-HMAC-SHA256 Credential=a,SignedHeaders=host;;x-acs-date,Signature=b"));
    CHECK_FALSE(parse_acs3_authorization(
        "ACS3-HMAC-SHA256 Credential=a,Credential=c,SignedHeaders=host,Signature=b"));
    CHECK_FALSE(
        parse_acs3_authorization("ACS3-HMAC-SHA256 Credential=a,host,Signature=b,SignedHeaders=h"));
}

TEST_CASE("signing: RPC verification ignores Signature and catches a changed parameter",
          "[signing]") {
    Params params = {{"Action", "DescribeContainerGroups"},
                     {"RegionId", "cn-hangzhou"},
                     {"Tag.1.Value", "it's (ok)*"}};
    const ExpectedSignature base = rpc_expected_signature("secret", "POST", params);
    params.emplace_back("Signature", base.signature);
    CHECK(rpc_expected_signature("secret", "POST", params).signature == base.signature);
    CHECK(base.string_to_sign.starts_with("POST&%2F&Action%3DDescribeContainerGroups%26"));
    // Values are encoded twice: ' becomes %27 in the canonical query, then %2527.
    CHECK(base.string_to_sign.find("it%2527s%2520%2528ok%2529%252A") != std::string::npos);
    params[1].second = "cn-shanghai";
    CHECK(rpc_expected_signature("secret", "POST", params).signature != base.signature);
    CHECK(rpc_expected_signature("secret", "GET", params).signature != base.signature);
}

TEST_CASE("signing: the prepared-key overloads sign exactly as the plain ones", "[signing]") {
    const Params query{{"RegionId", "cn-hangzhou"}, {"ContainerGroupIds", R"(["eci-1"])"}};
    Acs3Request request;
    request.action = "DescribeContainerGroups";
    request.version = "2018-08-08";
    request.host = "eci.cn-hangzhou.aliyuncs.com";
    request.query = query;
    for (const std::string_view token : {std::string_view(), std::string_view("STS-token")}) {
        const SigningKey key{"LTAIid", "secret/+=", token};
        const HmacKey acs3_mac(HmacAlgorithm::sha256, key.access_key_secret);
        CHECK(sign_acs3(key, acs3_mac, request, "2026-01-02T03:04:05Z", "nonce-1") ==
              sign_acs3(key, request, "2026-01-02T03:04:05Z", "nonce-1"));
        const HmacKey rpc_mac(HmacAlgorithm::sha1, rpc_signing_key(key.access_key_secret));
        const RpcRequest rpc{"DescribeContainerGroups", "2018-08-08", "POST", query};
        CHECK(sign_rpc(key, rpc_mac, rpc, "2026-01-02T03:04:05Z", "nonce-2") ==
              sign_rpc(key, rpc, "2026-01-02T03:04:05Z", "nonce-2"));
    }
}
