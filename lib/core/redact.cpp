// SPDX-License-Identifier: Apache-2.0
#include "core/redact.hpp"

#include <algorithm>
#include <array>
#include <cctype>

namespace eci::detail {
namespace {

bool iequals(std::string_view a, std::string_view b) noexcept {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

constexpr std::array<std::string_view, 8> loggable_headers = {
    "host",          "content-type", "content-length",   "x-acs-action",
    "x-acs-version", "x-acs-date",   "x-acs-request-id", "user-agent",
};

// Parameters of the actions we call whose values are identifiers, flags or sizes. Commands,
// environment variables, tags and anything else a user may fill with a secret stay hidden.
constexpr std::array<std::string_view, 28> loggable_query_parameters = {
    "Action",
    "Version",
    "Format",
    "RegionId",
    "Timestamp",
    "SignatureMethod",
    "SignatureVersion",
    "SignatureType",
    "ClientToken",
    "ContainerGroupId",
    "ContainerGroupIds",
    "ContainerGroupName",
    "ContainerName",
    "ZoneId",
    "VSwitchId",
    "SecurityGroupId",
    "Limit",
    "MaxResults",
    "NextToken",
    "Status",
    "Force",
    "Sync",
    "TTY",
    "Stdin",
    "Cpu",
    "Memory",
    "InstanceType",
    "RestartPolicy",
};

// `Container.<n>.<field>` for the harmless fields of a container definition.
bool is_loggable_container_field(std::string_view name) noexcept {
    constexpr std::string_view prefix = "Container.";
    if (!name.starts_with(prefix))
        return false;
    name.remove_prefix(prefix.size());
    std::size_t digits = 0;
    while (digits < name.size() && std::isdigit(static_cast<unsigned char>(name[digits])))
        ++digits;
    if (digits == 0 || digits >= name.size() || name[digits] != '.')
        return false;
    const std::string_view field = name.substr(digits + 1);
    return field == "Image" || field == "Name" || field == "Cpu" || field == "Memory" ||
           field == "ImagePullPolicy";
}

}  // namespace

std::string mask_access_key_id(std::string_view access_key_id) {
    if (access_key_id.empty())
        return "<none>";
    if (access_key_id.size() < 10)
        return "****";
    std::string out(access_key_id.substr(0, 4));
    out += "****";
    out += access_key_id.substr(access_key_id.size() - 3);
    return out;
}

bool is_loggable_header(std::string_view name) noexcept {
    return std::any_of(loggable_headers.begin(), loggable_headers.end(),
                       [&](std::string_view allowed) { return iequals(name, allowed); });
}

std::string_view loggable_header_value(std::string_view name, std::string_view value) noexcept {
    return is_loggable_header(name) ? value : redacted_text;
}

void append_redacted_header(std::string& out, std::string_view name, std::string_view value) {
    if (!out.empty())
        out += "; ";
    out += name;
    out += ": ";
    out += loggable_header_value(name, value);
}

bool is_loggable_query_parameter(std::string_view name) noexcept {
    return std::find(loggable_query_parameters.begin(), loggable_query_parameters.end(), name) !=
               loggable_query_parameters.end() ||
           is_loggable_container_field(name);
}

std::string redact_query(std::string_view query) {
    if (query.starts_with('?'))
        query.remove_prefix(1);
    std::string out;
    while (!query.empty()) {
        const std::size_t amp = query.find('&');
        const std::string_view pair = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
        if (!out.empty())
            out += '&';
        const std::size_t eq = pair.find('=');
        const std::string_view name = pair.substr(0, eq);
        out += name;
        if (eq == std::string_view::npos)
            continue;
        const std::string_view value = pair.substr(eq + 1);
        out += '=';
        if (name == "AccessKeyId") {
            out += mask_access_key_id(value);
        } else if (is_loggable_query_parameter(name)) {
            out += value;
        } else {
            out += redacted_text;
        }
    }
    return out;
}

std::string redact_url(std::string_view url) {
    if (const std::size_t hash = url.find('#'); hash != std::string_view::npos) {
        url = url.substr(0, hash);  // fragments are never needed in a log and may hold tokens
    }
    const std::size_t question = url.find('?');
    std::string_view head = url.substr(0, question);
    std::string out;
    // Hide user info: the part of the authority before the last '@'.
    const std::size_t scheme_end = head.find("://");
    const std::size_t authority_begin = scheme_end == std::string_view::npos ? 0 : scheme_end + 3;
    const std::size_t authority_end = head.find('/', authority_begin);
    const std::string_view authority =
        head.substr(authority_begin, authority_end - authority_begin);
    if (const std::size_t at = authority.rfind('@'); at != std::string_view::npos) {
        out += head.substr(0, authority_begin);
        out += redacted_text;
        out += head.substr(authority_begin + at);
    } else {
        out += head;
    }
    if (question != std::string_view::npos) {
        out += '?';
        out += redact_query(url.substr(question + 1));
    }
    return out;
}

}  // namespace eci::detail
