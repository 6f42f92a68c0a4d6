// SPDX-License-Identifier: Apache-2.0
#include "cli/aliyun_profile.hpp"

#include <eci/config.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <fmt/format.h>

#include <fstream>
#include <sstream>

namespace eci::cli {

namespace json = boost::json;

namespace {

Error invalid(std::string message) {
    return Error::make(ErrorKind::invalid_argument, std::move(message));
}

std::string text_field(const json::object& object, std::string_view key) {
    auto found = object.find(key);
    if (found == object.end() || !found->value().is_string())
        return {};
    return std::string(found->value().get_string());
}

}  // namespace

Result<AliyunProfile> parse_aliyun_config(std::string_view text, std::string_view wanted) {
    std::error_code ec;
    json::value root = json::parse(text, ec);
    if (ec || !root.is_object())
        return invalid("the Alibaba Cloud CLI config is not a JSON object");
    const auto& object = root.get_object();
    std::string name(wanted);
    if (name.empty())
        name = text_field(object, "current");
    if (name.empty())
        name = "default";
    auto profiles = object.find("profiles");
    if (profiles == object.end() || !profiles->value().is_array())
        return invalid("the Alibaba Cloud CLI config has no \"profiles\" array");
    for (const auto& entry : profiles->value().get_array()) {
        if (!entry.is_object() || text_field(entry.get_object(), "name") != name)
            continue;
        const auto& profile = entry.get_object();
        const std::string mode = text_field(profile, "mode");
        AliyunProfile found;
        found.name = name;
        found.access_key_id = text_field(profile, "access_key_id");
        found.access_key_secret = text_field(profile, "access_key_secret");
        found.region_id = text_field(profile, "region_id");
        if (mode == "StsToken") {
            found.security_token = text_field(profile, "sts_token");
            if (found.security_token.empty())
                return invalid(fmt::format("profile '{}' (StsToken) has no sts_token", name));
        } else if (mode != "AK" && !mode.empty()) {
            return invalid(fmt::format(
                "profile '{}' uses mode {}, which eci-sandbox does not support (AK and StsToken "
                "are; see docs/configuration.md)",
                name, mode.size() <= 40 ? mode : std::string("(unreadable)")));
        }
        if (found.access_key_id.empty() || found.access_key_secret.empty())
            return invalid(
                fmt::format("profile '{}' lacks access_key_id or access_key_secret", name));
        return found;
    }
    return invalid(fmt::format("no profile '{}' in the Alibaba Cloud CLI config", name));
}

std::filesystem::path aliyun_config_path() {
    auto home = process_environment("HOME");
    if (!home)
        return {};
    return std::filesystem::path(*home) / ".aliyun" / "config.json";
}

Result<AliyunProfile> read_aliyun_profile(const std::filesystem::path& path,
                                          std::string_view wanted) {
    std::ifstream in(path, std::ios::binary);
    if (!in)
        return invalid(fmt::format("cannot read {}", path.string()));
    std::ostringstream text;
    text << in.rdbuf();
    auto parsed = parse_aliyun_config(text.str(), wanted);
    if (!parsed) {
        auto error = std::move(parsed).error();
        error.message = fmt::format("{}: {}", path.string(), error.message);
        return error;
    }
    return parsed;
}

}  // namespace eci::cli
