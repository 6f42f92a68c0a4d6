// SPDX-License-Identifier: Apache-2.0
#include "core/crypto.hpp"

#include <catch2/catch.hpp>

#include <set>

using namespace eci::detail;

TEST_CASE("crypto: SHA-256 known answers", "[crypto]") {
    CHECK(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
          "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST_CASE("crypto: HMAC-SHA256 known answers (RFC 4231)", "[crypto]") {
    // Test case 2: key "Jefe".
    CHECK(hmac_sha256_hex("Jefe", "what do ya want for nothing?") ==
          "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    // Test case 6: a 131-byte key, longer than the block size, is hashed first.
    const std::string long_key(131, '\xaa');
    CHECK(hmac_sha256_hex(long_key, "Test Using Larger Than Block-Size Key - Hash Key First") ==
          "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
    // An empty key is a valid key, not "reuse the previous one".
    CHECK(hmac_sha256_hex("", "") ==
          "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

TEST_CASE("crypto: HMAC-SHA1 in Base64 known answers (RFC 2202)", "[crypto]") {
    // Test case 2: key "Jefe" gives effcdf6ae5eb2fa2d27416d5f184df9c259a7c79.
    CHECK(hmac_sha1_base64("Jefe", "what do ya want for nothing?") ==
          "7/zfauXrL6LSdBbV8YTfnCWafHk=");
    CHECK(hmac_sha1_base64("testsecret&", "") == hmac_sha1_base64("testsecret&", ""));
    CHECK(hmac_sha1_base64("a", "x") != hmac_sha1_base64("b", "x"));
}

TEST_CASE("crypto: random_hex gives fresh lower-case hex of the asked length", "[crypto]") {
    std::set<std::string> seen;
    for (int i = 0; i < 50; ++i) {
        const auto nonce = random_hex(16);
        REQUIRE(nonce.ok());
        CHECK(nonce->size() == 32);
        CHECK(nonce->find_first_not_of("0123456789abcdef") == std::string::npos);
        seen.insert(*nonce);
    }
    CHECK(seen.size() == 50);
    const auto none = random_hex(0);
    REQUIRE(none.ok());
    CHECK(none->empty());
    const auto too_many = random_hex(1024 * 1024);
    REQUIRE_FALSE(too_many.ok());
    CHECK(too_many.error().kind == eci::ErrorKind::invalid_argument);
}

TEST_CASE("crypto: constant_time_equal compares content and length", "[crypto]") {
    CHECK(constant_time_equal("", ""));
    CHECK(constant_time_equal("abc", "abc"));
    CHECK_FALSE(constant_time_equal("abc", "abd"));
    CHECK_FALSE(constant_time_equal("abc", "ab"));
    CHECK_FALSE(constant_time_equal("", "a"));
    CHECK_FALSE(constant_time_equal(std::string_view("a\0b", 3), std::string_view("a\0c", 3)));
}

TEST_CASE("crypto: HmacKey gives the one-shot MACs, repeatedly", "[crypto]") {
    const HmacKey sha256(HmacAlgorithm::sha256, "Jefe");
    const HmacKey sha1(HmacAlgorithm::sha1, "secret&");
    for (int round = 0; round < 3; ++round) {
        CHECK(sha256.hex("what do ya want for nothing?") ==
              "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
        CHECK(sha256.hex("other data") == hmac_sha256_hex("Jefe", "other data"));
        CHECK(sha1.base64("string to sign") == hmac_sha1_base64("secret&", "string to sign"));
    }
    // A key longer than the block size is hashed first, as HMAC() does.
    const std::string long_key(131, '\xaa');
    CHECK(HmacKey(HmacAlgorithm::sha256, long_key).hex("data") ==
          hmac_sha256_hex(long_key, "data"));
    HmacKey moved = HmacKey(HmacAlgorithm::sha256, "");
    moved = HmacKey(HmacAlgorithm::sha256, "Jefe");
    CHECK(moved.hex("x") == hmac_sha256_hex("Jefe", "x"));
}

TEST_CASE("crypto: NonceSource hands out distinct 32-hex nonces across refills", "[crypto]") {
    NonceSource source;
    std::set<std::string> seen;
    for (int i = 0; i < 200; ++i) {
        auto nonce = source.next();
        REQUIRE(nonce.ok());
        CHECK(nonce->size() == 32);
        CHECK(nonce->find_first_not_of("0123456789abcdef") == std::string::npos);
        seen.insert(*nonce);
    }
    CHECK(seen.size() == 200);
}
