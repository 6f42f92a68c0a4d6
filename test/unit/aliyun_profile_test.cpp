// SPDX-License-Identifier: Apache-2.0
// The reader of the official Alibaba Cloud CLI's ~/.aliyun/config.json profiles.
#include "core/aliyun_profile.hpp"

#include <catch2/catch.hpp>

#include <string>

namespace {

const std::string config = R"({
  "current": "work",
  "profiles": [
    {"name": "default", "mode": "AK", "access_key_id": "LTAIdefault", "access_key_secret": "s-default",
     "sts_token": "", "region_id": "cn-hangzhou", "output_format": "json"},
    {"name": "work", "mode": "AK", "access_key_id": "LTAIwork", "access_key_secret": "s-work",
     "region_id": "cn-beijing"},
    {"name": "temp", "mode": "StsToken", "access_key_id": "STS.id", "access_key_secret": "s-temp",
     "sts_token": "tok-123", "region_id": ""},
    {"name": "role", "mode": "RamRoleArn", "access_key_id": "LTAIrole", "access_key_secret": "s-role-Qx9",
     "ram_role_arn": "acs:ram::1:role/x"},
    {"name": "half", "mode": "AK", "access_key_id": "LTAIhalf"},
    {"name": "notoken", "mode": "StsToken", "access_key_id": "a", "access_key_secret": "b"},
    {"name": "instance", "mode": "EcsRamRole", "ram_role_name": "eci-runner", "region_id": "cn-shanghai"},
    {"name": "anyrole", "mode": "EcsRamRole"}
  ],
  "meta_path": ""
})";

std::string error_of(std::string_view text, std::string_view wanted) {
    auto parsed = eci::detail::parse_aliyun_config(text, wanted);
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.error().kind == eci::ErrorKind::invalid_argument);
    return parsed.error().message;
}

}  // namespace

TEST_CASE("aliyun profiles: the current profile, a named one, AK and StsToken modes", "[unit]") {
    auto current = eci::detail::parse_aliyun_config(config, "");
    REQUIRE(current.ok());
    CHECK(current->name == "work");
    CHECK(current->access_key_id == "LTAIwork");
    CHECK(current->access_key_secret == "s-work");
    CHECK(current->security_token.empty());
    CHECK(current->region_id == "cn-beijing");

    auto named = eci::detail::parse_aliyun_config(config, "default");
    REQUIRE(named.ok());
    CHECK(named->access_key_id == "LTAIdefault");

    auto sts = eci::detail::parse_aliyun_config(config, "temp");
    REQUIRE(sts.ok());
    CHECK(sts->security_token == "tok-123");
    CHECK(sts->region_id.empty());

    // No "current": the profile named default.
    auto fallback = eci::detail::parse_aliyun_config(
        R"({"profiles":[{"name":"default","mode":"AK","access_key_id":"i","access_key_secret":"s"}]})",
        "");
    REQUIRE(fallback.ok());
    CHECK(fallback->name == "default");
}

TEST_CASE("aliyun profiles: unsupported modes and broken files are clear errors without values",
          "[unit]") {
    const auto role = error_of(config, "role");
    CHECK(role.find("RamRoleArn") != std::string::npos);
    CHECK(role.find("not support") != std::string::npos);
    CHECK(role.find("s-role-Qx9") == std::string::npos);
    CHECK(error_of(config, "half").find("lacks") != std::string::npos);
    CHECK(error_of(config, "notoken").find("sts_token") != std::string::npos);
    CHECK(error_of(config, "nobody") == "no profile 'nobody' in the Alibaba Cloud CLI config");
    CHECK(error_of("{not json", "").find("not a JSON object") != std::string::npos);
    CHECK(error_of(R"({"current":"x"})", "").find("profiles") != std::string::npos);
    auto unreadable = eci::detail::read_aliyun_profile("/nonexistent/.aliyun/config.json", "");
    REQUIRE_FALSE(unreadable.ok());
    CHECK(unreadable.error().message.find("cannot read") != std::string::npos);
}

TEST_CASE("aliyun profiles: EcsRamRole profiles name the role and need no keys", "[unit]") {
    auto named = eci::detail::parse_aliyun_config(config, "instance");
    REQUIRE(named.ok());
    CHECK(named->uses_ecs_ram_role());
    CHECK(named->ram_role_name == "eci-runner");
    CHECK(named->region_id == "cn-shanghai");
    CHECK(named->access_key_id.empty());
    auto any = eci::detail::parse_aliyun_config(config, "anyrole");
    REQUIRE(any.ok());
    CHECK(any->uses_ecs_ram_role());
    CHECK(any->ram_role_name.empty());  // ask the metadata service
    auto ak = eci::detail::parse_aliyun_config(config, "work");
    REQUIRE(ak.ok());
    CHECK_FALSE(ak->uses_ecs_ram_role());
}
