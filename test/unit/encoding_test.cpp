// SPDX-License-Identifier: Apache-2.0
#include "core/encoding.hpp"

#include <catch2/catch.hpp>

using namespace eci::detail;
using namespace std::string_literals;

TEST_CASE("encoding: percent_encode is strict RFC 3986 over UTF-8 bytes", "[encoding]") {
    CHECK(percent_encode("ABCXYZabcxyz0189-_.~") == "ABCXYZabcxyz0189-_.~");
    CHECK(percent_encode("!'()*") == "%21%27%28%29%2A");
    CHECK(percent_encode("a b+c") == "a%20b%2Bc");
    CHECK(percent_encode("/?#[]@&=:;,$") == "%2F%3F%23%5B%5D%40%26%3D%3A%3B%2C%24");
    CHECK(percent_encode("\"%") == "%22%25");
    CHECK(percent_encode("é") == "%C3%A9");
    CHECK(percent_encode("😀") == "%F0%9F%98%80");
    CHECK(percent_encode("\0\x7f\xff"s) == "%00%7F%FF");
    CHECK(percent_encode("") == "");
}

TEST_CASE("encoding: percent_decode reads both hex cases and leaves raw !'()* alone",
          "[encoding]") {
    CHECK(percent_decode("%21%27%28%29%2a%2A", false) == "!'()**");
    CHECK(percent_decode("!'()*~", false) == "!'()*~");
    CHECK(percent_decode("%F0%9F%98%80", false) == "😀");
    CHECK(percent_decode("%00", false) == "\0"s);
    CHECK(percent_decode("a+b", false) == "a+b");
    CHECK(percent_decode("a+b", true) == "a b");
    CHECK(percent_decode("a%2Bb", true) == "a+b");
    CHECK(percent_decode("", false) == "");
}

TEST_CASE("encoding: percent_decode refuses a malformed escape", "[encoding]") {
    for (const char* bad : {"%", "%2", "abc%", "abc%4", "%G1", "%1G", "%%", "% 1", "ok%zz"}) {
        INFO(bad);
        CHECK_FALSE(percent_decode(bad, false).has_value());
        CHECK_FALSE(percent_decode(bad, true).has_value());
    }
}

TEST_CASE("encoding: parse_query decodes a Node SDK wire query in wire order", "[encoding]") {
    // encodeURIComponent leaves ! ' ( ) * raw and encodes the rest.
    const auto params = parse_query(
        "RegionId=cn-hangzhou&Command=%5B%22sh%22%2C%22-c%22%2C%22echo%20(hi)!%20it's%20*%22%5D"
        "&Empty=&Flag&Eq=a%3Db=c",
        false);
    REQUIRE(params);
    const Params expected = {{"RegionId", "cn-hangzhou"},
                             {"Command", R"(["sh","-c","echo (hi)! it's *"])"},
                             {"Empty", ""},
                             {"Flag", ""},
                             {"Eq", "a=b=c"}};
    CHECK(*params == expected);
    CHECK(find_param(*params, "Flag") == "");
    CHECK_FALSE(find_param(*params, "flag").has_value());
}

TEST_CASE("encoding: parse_query handles form bodies, empty fields and bad escapes", "[encoding]") {
    const auto form = parse_query("Name=hello+world&Value=a%2Bb%20c", true);
    REQUIRE(form);
    CHECK(*form == Params{{"Name", "hello world"}, {"Value", "a+b c"}});
    const auto query = parse_query("Name=hello+world", false);
    REQUIRE(query);
    CHECK(*query == Params{{"Name", "hello+world"}});

    const auto sparse = parse_query("&a=1&&b=2&", false);
    REQUIRE(sparse);
    CHECK(*sparse == Params{{"a", "1"}, {"b", "2"}});
    const auto empty = parse_query("", false);
    REQUIRE(empty);
    CHECK(empty->empty());

    CHECK_FALSE(parse_query("a=1&b=%ZZ", false).has_value());
    CHECK_FALSE(parse_query("a%2=1", true).has_value());
}

TEST_CASE("encoding: canonical_query sorts by byte order, build_query keeps wire order",
          "[encoding]") {
    const Params params = {{"b", "2"}, {"a", "x y"}, {"B", "*"}, {"a", ""}, {"Tag.1.Key", "~!"}};
    CHECK(canonical_query(params) == "B=%2A&Tag.1.Key=~%21&a=x%20y&a=&b=2");
    CHECK(build_query(params) == "b=2&a=x%20y&B=%2A&a=&Tag.1.Key=~%21");
    CHECK(canonical_query(Params{}) == "");
    CHECK(build_query(Params{}) == "");
    // build_query output parses back to the same parameters.
    const Params tricky = {{"k y", "a+b&c=d"}, {"u", "😀"}, {"e", ""}};
    CHECK(parse_query(build_query(tricky), false) == tricky);
    CHECK(parse_query(build_query(tricky), true) == tricky);
}

TEST_CASE("encoding: set_param replaces the first value or appends", "[encoding]") {
    Params params = {{"a", "1"}, {"b", "2"}, {"a", "3"}};
    set_param(params, "a", "9");
    set_param(params, "c", "4");
    CHECK(params == Params{{"a", "9"}, {"b", "2"}, {"a", "3"}, {"c", "4"}});
    CHECK(has_param(params, "c"));
    CHECK_FALSE(has_param(params, "d"));
}

TEST_CASE("encoding: base64 matches RFC 4648 and refuses non-canonical input", "[encoding]") {
    const std::vector<std::pair<std::string, std::string>> rfc = {{"", ""},
                                                                  {"f", "Zg=="},
                                                                  {"fo", "Zm8="},
                                                                  {"foo", "Zm9v"},
                                                                  {"foob", "Zm9vYg=="},
                                                                  {"fooba", "Zm9vYmE="},
                                                                  {"foobar", "Zm9vYmFy"}};
    for (const auto& [plain, encoded] : rfc) {
        CHECK(base64_encode(plain) == encoded);
        CHECK(base64_decode(encoded) == plain);
    }
    std::string all_bytes;
    for (int i = 0; i < 256; ++i)
        all_bytes += static_cast<char>(i);
    CHECK(base64_decode(base64_encode(all_bytes)) == all_bytes);
    CHECK(base64_encode("\xfb\xff") == "+/8=");

    for (const char* bad :
         {"Zg=", "Zg", "Z===", "Zh==", "Zm9=", "Zm9v!A==", "Zg==Zg==", "====", "Zm 9"}) {
        INFO(bad);
        CHECK_FALSE(base64_decode(bad).has_value());
    }
}

TEST_CASE("encoding: json_array_string writes what JSON.stringify writes", "[encoding]") {
    CHECK(json_array_string({"eci-1", "eci-2"}) == R"(["eci-1","eci-2"])");
    CHECK(json_array_string({}) == "[]");
    CHECK(json_array_string({""}) == R"([""])");
    CHECK(json_array_string({"say \"hi\"", "a\\b", "/path"}) == R"(["say \"hi\"","a\\b","/path"])");
    CHECK(json_array_string({"l1\nl2\tx\r", std::string("\x01\x1f", 2)}) ==
          R"(["l1\nl2\tx\r","\u0001\u001f"])");
    CHECK(json_array_string({"é😀"}) == "[\"é😀\"]");
}
