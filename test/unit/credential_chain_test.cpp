// SPDX-License-Identifier: Apache-2.0
// load_config()'s credential chain: explicit choice, environment AccessKey, the Alibaba Cloud
// CLI's profiles, the ECS RAM role; and the sans-io decisions of the RAM-role credentials.
#include <eci/config.hpp>

#include "core/ecs_metadata.hpp"
#include "core/time_format.hpp"
#include "support/scratch_dir.hpp"

#include <fmt/format.h>
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>

namespace {

using namespace std::chrono_literals;
using Environment = std::map<std::string, std::string>;

// The process environment is never read: only `environment`, no .env search.
eci::ConfigSources only(const Environment& environment) {
    eci::ConfigSources sources;
    sources.getenv = [environment](std::string_view name) -> std::optional<std::string> {
        auto found = environment.find(std::string(name));
        if (found == environment.end())
            return std::nullopt;
        return found->second;
    };
    sources.read_dotenv = false;
    return sources;
}

// A HOME with ~/.aliyun/config.json: current "work" (AK), "temp" (StsToken), "instance"
// (EcsRamRole, role eci-runner, region cn-shanghai).
std::string write_profiles(const eci::test::ScratchDir& scratch) {
    const auto home = scratch.dir / "home";
    std::filesystem::create_directories(home / ".aliyun");
    std::ofstream(home / ".aliyun" / "config.json") << R"({"current": "work", "profiles": [
        {"name": "work", "mode": "AK", "access_key_id": "LTAIprofilework", "access_key_secret": "profile-secret-Zq7", "region_id": "cn-beijing"},
        {"name": "temp", "mode": "StsToken", "access_key_id": "STS.profiletemp", "access_key_secret": "s2", "sts_token": "profile-token-Wk3"},
        {"name": "instance", "mode": "EcsRamRole", "ram_role_name": "eci-runner", "region_id": "cn-shanghai"},
        {"name": "arn", "mode": "RamRoleArn", "access_key_id": "LTAIarn", "access_key_secret": "arn-secret-Pp1"}]})";
    return home.string();
}

eci::ClientConfig loaded(const eci::ConfigOverrides& overrides, const Environment& environment) {
    auto config = eci::load_config(overrides, only(environment));
    if (!config)
        FAIL("load_config: " << config.error().to_string());
    return *config;
}

const Environment env_keys = {{"ALIBABA_CLOUD_ACCESS_KEY_ID", "LTAIenvironment1"},
                              {"ALIBABA_CLOUD_ACCESS_KEY_SECRET", "env-secret"}};

}  // namespace

TEST_CASE("credential chain: environment beats profile beats RAM role", "[unit][config]") {
    eci::test::ScratchDir scratch("eci-chain");
    const std::string home = write_profiles(scratch);

    // Everything present: the environment's AccessKey wins.
    Environment all = env_keys;
    all["HOME"] = home;
    all["ALIBABA_CLOUD_ECS_METADATA"] = "eci-runner";
    auto from_env = loaded({}, all);
    CHECK(from_env.credential_source == eci::CredentialSource::static_keys);
    CHECK(from_env.credentials.access_key_id == "LTAIenvironment1");
    CHECK(from_env.region_id == "cn-shanghai");  // the library's default, not the profile's

    // No AccessKey in the environment: the file's current profile, with its region.
    Environment no_keys = {{"HOME", home}, {"ALIBABA_CLOUD_ECS_METADATA", "eci-runner"}};
    auto from_profile = loaded({}, no_keys);
    CHECK(from_profile.credential_source == eci::CredentialSource::static_keys);
    CHECK(from_profile.credentials.access_key_id == "LTAIprofilework");
    CHECK(from_profile.credentials.access_key_secret == "profile-secret-Zq7");
    CHECK(from_profile.region_id == "cn-beijing");
    // ...unless a region is given.
    Environment with_region = no_keys;
    with_region["ALIBABA_CLOUD_REGION_ID"] = "cn-hangzhou";
    CHECK(loaded({}, with_region).region_id == "cn-hangzhou");
    // ALIBABA_CLOUD_PROFILE picks another profile of the file.
    Environment sts = no_keys;
    sts["ALIBABA_CLOUD_PROFILE"] = "temp";
    auto from_sts = loaded({}, sts);
    CHECK(from_sts.credentials.security_token == "profile-token-Wk3");

    // No file either: the RAM role named by ALIBABA_CLOUD_ECS_METADATA.
    Environment role_only = {{"HOME", (scratch.dir / "empty-home").string()},
                             {"ALIBABA_CLOUD_ECS_METADATA", "eci-runner"}};
    auto from_role = loaded({}, role_only);
    CHECK(from_role.credential_source == eci::CredentialSource::ecs_ram_role);
    CHECK(from_role.ecs_metadata.role_name == "eci-runner");
    CHECK(from_role.ecs_metadata.endpoint == "http://100.100.100.200");
    CHECK_FALSE(from_role.ecs_metadata.imdsv1_disabled);
    CHECK(fmt::format("{}", from_role)
              .find("{source: ecs_ram_role, role: eci-runner, metadata: http://100.100.100.200}") !=
          std::string::npos);

    // ...which ALIBABA_CLOUD_ECS_METADATA_DISABLED turns off: then no credentials at all.
    Environment disabled = role_only;
    disabled["ALIBABA_CLOUD_ECS_METADATA_DISABLED"] = "TRUE";
    auto none = eci::load_config({}, only(disabled));
    REQUIRE_FALSE(none.ok());
    CHECK(none.error().kind == eci::ErrorKind::auth);

    // Nothing at all: the auth error naming the variables, as before.
    auto nothing = eci::load_config({}, only({}));
    REQUIRE_FALSE(nothing.ok());
    CHECK(nothing.error().kind == eci::ErrorKind::auth);
}

TEST_CASE("credential chain: explicit choices beat the chain", "[unit][config]") {
    eci::test::ScratchDir scratch("eci-chain");
    const std::string home = write_profiles(scratch);
    Environment environment = env_keys;
    environment["HOME"] = home;

    // A named profile beats the environment's AccessKey.
    eci::ConfigOverrides profile;
    profile.profile = "temp";
    auto named = loaded(profile, environment);
    CHECK(named.credentials.access_key_id == "STS.profiletemp");
    CHECK(named.credentials.security_token == "profile-token-Wk3");

    // An EcsRamRole profile: the RAM role, its name and region; the endpoint overridable.
    profile.profile = "instance";
    Environment with_endpoint = environment;
    with_endpoint["ECI_ECS_METADATA_ENDPOINT"] = "http://127.0.0.1:8099";
    with_endpoint["ALIBABA_CLOUD_IMDSV1_DISABLED"] = "true";
    auto instance = loaded(profile, with_endpoint);
    CHECK(instance.credential_source == eci::CredentialSource::ecs_ram_role);
    CHECK(instance.ecs_metadata.role_name == "eci-runner");
    CHECK(instance.ecs_metadata.endpoint == "http://127.0.0.1:8099");
    CHECK(instance.ecs_metadata.imdsv1_disabled);
    CHECK(instance.region_id == "cn-shanghai");

    // ECI_CREDENTIALS=ecs_ram_role beats the environment's AccessKey; no role = ask.
    Environment chosen = environment;
    chosen["ECI_CREDENTIALS"] = "ecs_ram_role";
    auto role = loaded({}, chosen);
    CHECK(role.credential_source == eci::CredentialSource::ecs_ram_role);
    CHECK(role.ecs_metadata.role_name.empty());
    eci::ConfigOverrides by_override;
    by_override.credential_source = eci::CredentialSource::ecs_ram_role;
    by_override.ram_role_name = "other-role";
    by_override.ecs_metadata_endpoint = "127.0.0.1:8100";
    auto overridden = loaded(by_override, environment);
    CHECK(overridden.ecs_metadata.role_name == "other-role");
    CHECK(overridden.ecs_metadata.endpoint == "127.0.0.1:8100");

    // Bad values are clear errors that quote no secret.
    chosen["ECI_CREDENTIALS"] = "magic";
    auto bad_choice = eci::load_config({}, only(chosen));
    REQUIRE_FALSE(bad_choice.ok());
    CHECK(bad_choice.error().message.find("ECI_CREDENTIALS") != std::string::npos);
    Environment https_endpoint = environment;
    https_endpoint["ECI_CREDENTIALS"] = "ecs_ram_role";
    https_endpoint["ECI_ECS_METADATA_ENDPOINT"] = "https://100.100.100.200";
    auto tls = eci::load_config({}, only(https_endpoint));
    REQUIRE_FALSE(tls.ok());
    CHECK(tls.error().message.find("plain http://") != std::string::npos);
    profile.profile = "arn";
    auto unsupported = eci::load_config(profile, only(environment));
    REQUIRE_FALSE(unsupported.ok());
    CHECK(unsupported.error().message.find("RamRoleArn") != std::string::npos);
    CHECK(unsupported.error().message.find("arn-secret-Pp1") == std::string::npos);
    Environment role_disabled = environment;
    role_disabled["ALIBABA_CLOUD_ECS_METADATA_DISABLED"] = "true";
    profile.profile = "instance";
    auto refused = eci::load_config(profile, only(role_disabled));
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().kind == eci::ErrorKind::auth);
}

TEST_CASE("credential chain: load_config reads ALIBABA_CLOUD_CONFIG_FILE", "[unit][config]") {
    eci::test::ScratchDir scratch("eci-chain");
    const std::string home = write_profiles(scratch);
    const auto elsewhere = scratch.dir / "elsewhere.json";
    std::filesystem::copy_file(std::filesystem::path(home) / ".aliyun" / "config.json", elsewhere);
    auto config = loaded({}, {{"ALIBABA_CLOUD_CONFIG_FILE", elsewhere.string()},
                              {"ALIBABA_CLOUD_PROFILE", "instance"}});
    CHECK(config.credential_source == eci::CredentialSource::ecs_ram_role);
    // A broken file is an error, not a silent skip to the next source.
    std::ofstream(elsewhere) << "{not json";
    auto broken = eci::load_config({}, only({{"ALIBABA_CLOUD_CONFIG_FILE", elsewhere.string()}}));
    REQUIRE_FALSE(broken.ok());
    CHECK(broken.error().message.find("not a JSON object") != std::string::npos);
}

TEST_CASE("ecs metadata: the role's credentials are parsed, garbage is a clear error", "[unit]") {
    const std::string good = R"({"AccessKeyId":"STS.id1","AccessKeySecret":"sec-Qw8",
        "SecurityToken":"tok-Rt5","Expiration":"2026-12-06T08:00:00Z","Code":"Success",
        "LastUpdated":"2026-12-06T02:00:00Z"})";
    auto parsed = eci::detail::parse_role_credentials(good);
    REQUIRE(parsed.ok());
    CHECK(parsed->credentials.access_key_id == "STS.id1");
    CHECK(parsed->credentials.access_key_secret == "sec-Qw8");
    CHECK(parsed->credentials.security_token == "tok-Rt5");
    CHECK(eci::detail::format_utc_timestamp(parsed->expiration) == "2026-12-06T08:00:00Z");

    for (const std::string& bad :
         {std::string("<html>"), std::string(R"({"Code":"Success"})"),
          std::string(R"({"Code":"Success","AccessKeyId":"a","AccessKeySecret":"sec-Qw8",)"
                      R"("SecurityToken":"tok-Rt5","Expiration":"tomorrow"})"),
          std::string(R"({"Code":"Failed","AccessKeySecret":"sec-Qw8"})")}) {
        auto error = eci::detail::parse_role_credentials(bad);
        REQUIRE_FALSE(error.ok());
        CHECK(error.error().message.find("sec-Qw8") == std::string::npos);
        CHECK(error.error().message.find("tok-Rt5") == std::string::npos);
    }
    CHECK(eci::detail::parse_role_credentials(R"({"Code":"Failed"})").error().kind ==
          eci::ErrorKind::auth);

    CHECK(*eci::detail::parse_role_list("\n eci-runner\nother\n") == "eci-runner");
    CHECK(eci::detail::parse_role_list("").error().kind == eci::ErrorKind::auth);
    CHECK(eci::detail::parse_role_list("../../etc").error().kind == eci::ErrorKind::protocol);
}

TEST_CASE("ecs metadata: credentials are refreshed before they expire", "[unit]") {
    using eci::detail::CredentialAction;
    const auto wall = std::chrono::system_clock::now();
    const std::chrono::steady_clock::time_point steady{};

    // Six hours: refreshed 15 minutes before the end (the official libraries' window).
    auto six_hours = eci::detail::schedule_refresh(wall, steady, wall + 6h);
    CHECK(six_hours.expires_at == steady + 6h);
    CHECK(six_hours.refresh_at == steady + 6h - 15min);
    // One hour: 15% (9 minutes).
    CHECK(eci::detail::schedule_refresh(wall, steady, wall + 1h).refresh_at == steady + 51min);
    // Ten seconds: at least 5 s of margin, but never more than half the lifetime.
    CHECK(eci::detail::schedule_refresh(wall, steady, wall + 10s).refresh_at == steady + 5s);
    CHECK(eci::detail::schedule_refresh(wall, steady, wall + 4s).refresh_at == steady + 2s);
    // Already expired: refresh at once.
    auto expired = eci::detail::schedule_refresh(wall, steady, wall - 1s);
    CHECK(expired.expires_at == steady);

    CHECK(eci::detail::credential_action(true, six_hours, steady + 1h) == CredentialAction::use);
    CHECK(eci::detail::credential_action(true, six_hours, steady + 6h - 10min) ==
          CredentialAction::refresh);
    CHECK(eci::detail::credential_action(true, six_hours, steady + 6h) ==
          CredentialAction::must_refresh);
    CHECK(eci::detail::credential_action(false, six_hours, steady) ==
          CredentialAction::must_refresh);
}

TEST_CASE("ecs metadata: the endpoint is plain http", "[unit]") {
    auto bare = eci::detail::parse_metadata_endpoint("100.100.100.200");
    REQUIRE(bare.ok());
    CHECK(bare->host == "100.100.100.200");
    CHECK(bare->port == 80);
    auto with_port = eci::detail::parse_metadata_endpoint("http://[::1]:8099/");
    REQUIRE(with_port.ok());
    CHECK(with_port->host == "::1");
    CHECK(with_port->port == 8099);
    CHECK_FALSE(eci::detail::parse_metadata_endpoint("https://100.100.100.200").ok());
    CHECK_FALSE(eci::detail::parse_metadata_endpoint("http://host/path").ok());
}
