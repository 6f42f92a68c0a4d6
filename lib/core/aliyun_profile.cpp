// SPDX-License-Identifier: Apache-2.0
#include "core/aliyun_profile.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include <fmt/format.h>

#include <fstream>
#include <sstream>

namespace eci::detail {

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
        AliyunProfile found;
        found.name = name;
        found.mode = text_field(profile, "mode");
        if (found.mode.empty())
            found.mode = "AK";  // what `aliyun configure` writes when no mode is given
        found.region_id = text_field(profile, "region_id");
        if (found.mode == "EcsRamRole") {
            // The keys come from the instance's metadata service when a call needs them.
            found.ram_role_name = text_field(profile, "ram_role_name");
            return found;
        }
        found.access_key_id = text_field(profile, "access_key_id");
        found.access_key_secret = text_field(profile, "access_key_secret");
        if (found.mode == "StsToken") {
            found.security_token = text_field(profile, "sts_token");
            if (found.security_token.empty())
                return invalid(fmt::format("profile '{}' (StsToken) has no sts_token", name));
        } else if (found.mode != "AK") {
            return invalid(fmt::format(
                "profile '{}' uses mode {}, which eci-sandbox does not support (AK, StsToken and "
                "EcsRamRole are; see docs/configuration.md)",
                name, found.mode.size() <= 40 ? found.mode : std::string("(unreadable)")));
        }
        if (found.access_key_id.empty() || found.access_key_secret.empty())
            return invalid(
                fmt::format("profile '{}' lacks access_key_id or access_key_secret", name));
        return found;
    }
    return invalid(fmt::format("no profile '{}' in the Alibaba Cloud CLI config", name));
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

}  // namespace eci::detail
