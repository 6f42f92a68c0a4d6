// SPDX-License-Identifier: Apache-2.0
#include "core/signing.hpp"

#include "core/crypto.hpp"
#include "core/encoding.hpp"

#include <algorithm>
#include <array>

namespace eci::detail {

namespace {

constexpr std::string_view whitespace = " \t\r\n\f\v";

char ascii_lower(char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

std::string to_lower(std::string_view text) {
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(), ascii_lower);
    return out;
}

std::string_view trim(std::string_view text) {
    const std::size_t first = text.find_first_not_of(whitespace);
    if (first == std::string_view::npos)
        return {};
    const std::size_t last = text.find_last_not_of(whitespace);
    return text.substr(first, last - first + 1);
}

struct HeaderLine {
    std::string name;  // lower-cased
    std::string value;
};

// Sorted by name, values of a repeated name joined by ',' in send order.
Acs3CanonicalHeaders render(std::vector<HeaderLine> lines) {
    std::stable_sort(lines.begin(), lines.end(),
                     [](const HeaderLine& a, const HeaderLine& b) { return a.name < b.name; });
    Acs3CanonicalHeaders out;
    for (std::size_t i = 0; i < lines.size();) {
        std::string value = lines[i].value;
        std::size_t j = i + 1;
        for (; j < lines.size() && lines[j].name == lines[i].name; ++j) {
            value += ',';
            value += lines[j].value;
        }
        if (!out.signed_names.empty())
            out.signed_names += ';';
        out.signed_names += lines[i].name;
        out.lines += lines[i].name;
        out.lines += ':';
        out.lines += value;
        out.lines += '\n';
        i = j;
    }
    return out;
}

std::vector<std::string> unique_lower_names(std::span<const std::string> names) {
    std::vector<std::string> out;
    out.reserve(names.size());
    for (const std::string& name : names)
        out.push_back(to_lower(name));
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

}  // namespace

bool acs3_is_signed_header(std::string_view name) {
    const std::string lower = to_lower(name);
    return lower == "host" || lower == "content-type" || lower.starts_with("x-acs-");
}

Acs3CanonicalHeaders acs3_canonical_headers(const Headers& headers) {
    std::vector<HeaderLine> lines;
    for (const auto& [name, value] : headers) {
        if (acs3_is_signed_header(name)) {
            lines.push_back({to_lower(name), std::string(trim(value))});
        }
    }
    return render(std::move(lines));
}

Acs3CanonicalHeaders acs3_canonical_headers(const Headers& headers,
                                            std::span<const std::string> names) {
    const std::vector<std::string> wanted = unique_lower_names(names);
    std::vector<HeaderLine> lines;
    std::vector<bool> seen(wanted.size(), false);
    for (const auto& [name, value] : headers) {
        std::string lower = to_lower(name);
        const auto it = std::lower_bound(wanted.begin(), wanted.end(), lower);
        if (it == wanted.end() || *it != lower)
            continue;
        seen[static_cast<std::size_t>(it - wanted.begin())] = true;
        lines.push_back({std::move(lower), std::string(trim(value))});
    }
    for (std::size_t i = 0; i < wanted.size(); ++i) {
        if (!seen[i])
            lines.push_back({wanted[i], std::string()});
    }
    return render(std::move(lines));
}

std::string acs3_canonical_request(std::string_view method, std::string_view pathname,
                                   std::span<const Param> query,
                                   const Acs3CanonicalHeaders& headers,
                                   std::string_view payload_sha256) {
    std::string out;
    out += method;
    out += '\n';
    out += pathname.empty() ? std::string_view("/") : pathname;
    out += '\n';
    out += canonical_query(query);
    out += '\n';
    out += headers.lines;  // ends with '\n', so an empty line follows: that is the format
    out += '\n';
    out += headers.signed_names;
    out += '\n';
    out += payload_sha256;
    return out;
}

std::string acs3_string_to_sign(std::string_view canonical_request) {
    std::string out(acs3_algorithm);
    out += '\n';
    out += sha256_hex(canonical_request);
    return out;
}

std::string acs3_signature(std::string_view access_key_secret, std::string_view string_to_sign) {
    return hmac_sha256_hex(access_key_secret, string_to_sign);
}

std::string acs3_authorization(std::string_view access_key_id, std::string_view signed_names,
                               std::string_view signature) {
    std::string out(acs3_algorithm);
    out += " Credential=";
    out += access_key_id;
    out += ",SignedHeaders=";
    out += signed_names;
    out += ",Signature=";
    out += signature;
    return out;
}

std::optional<Acs3Authorization> parse_acs3_authorization(std::string_view value) {
    value = trim(value);
    if (!value.starts_with(acs3_algorithm))
        return std::nullopt;
    value.remove_prefix(acs3_algorithm.size());
    if (value.empty() || (value.front() != ' ' && value.front() != '\t'))
        return std::nullopt;

    std::optional<std::string> credential;
    std::optional<std::string> signed_headers;
    std::optional<std::string> signature;
    while (!value.empty()) {
        const std::size_t comma = value.find(',');
        const std::string_view field = trim(value.substr(0, comma));
        value = comma == std::string_view::npos ? std::string_view() : value.substr(comma + 1);
        const std::size_t eq = field.find('=');
        if (eq == std::string_view::npos || eq == 0)
            return std::nullopt;
        const std::string_view key = field.substr(0, eq);
        const std::string_view content = field.substr(eq + 1);
        std::optional<std::string>* slot = nullptr;
        if (key == "Credential")
            slot = &credential;
        if (key == "SignedHeaders")
            slot = &signed_headers;
        if (key == "Signature")
            slot = &signature;
        if (slot == nullptr)
            continue;  // a field this version does not know
        if (slot->has_value() || content.empty())
            return std::nullopt;
        slot->emplace(content);
    }
    if (!credential || !signed_headers || !signature)
        return std::nullopt;

    Acs3Authorization out;
    out.credential = std::move(*credential);
    out.signature = std::move(*signature);
    std::string_view names = *signed_headers;
    while (true) {
        const std::size_t semicolon = names.find(';');
        const std::string_view name = names.substr(0, semicolon);
        if (name.empty())
            return std::nullopt;
        out.signed_headers.push_back(to_lower(name));
        if (semicolon == std::string_view::npos)
            break;
        names.remove_prefix(semicolon + 1);
    }
    return out;
}

namespace {

// Every sign_acs3 overload: `secret_mac` is the prepared key, or null to key the MAC here.
// The signer knows its header names (lower-case, fixed) and so their canonical order: the
// canonical request is written straight into `scratch` with no case folding, sorting or
// temporary strings (what acs3_canonical_headers does for arbitrary received headers).
Headers sign_acs3_with(const SigningKey& key, const HmacKey* secret_mac, const Acs3Request& request,
                       std::string_view date, std::string_view nonce, Acs3Scratch& scratch) {
    std::string body_sha256;
    if (!request.body.empty())
        body_sha256 = sha256_hex(request.body);
    const std::string_view payload_sha256 =
        request.body.empty() ? empty_payload_sha256 : std::string_view(body_sha256);
    const bool has_token = !key.security_token.empty();

    struct Line {
        std::string_view name;
        std::string_view value;
    };
    std::array<Line, 9> lines{};  // sorted by name (byte order)
    std::size_t count = 0;
    if (!request.content_type.empty())
        lines[count++] = {"content-type", request.content_type};
    lines[count++] = {"host", request.host};
    if (has_token)
        lines[count++] = {"x-acs-accesskey-id", key.access_key_id};
    lines[count++] = {"x-acs-action", request.action};
    lines[count++] = {"x-acs-content-sha256", payload_sha256};
    lines[count++] = {"x-acs-date", date};
    if (has_token)
        lines[count++] = {"x-acs-security-token", key.security_token};
    lines[count++] = {"x-acs-signature-nonce", nonce};
    lines[count++] = {"x-acs-version", request.version};

    std::string& signed_names = scratch.signed_names;
    signed_names.clear();
    for (std::size_t i = 0; i < count; ++i) {
        if (i > 0)
            signed_names += ';';
        signed_names += lines[i].name;
    }

    std::string& canonical = scratch.canonical_request;
    canonical.clear();
    canonical += request.method;
    canonical += '\n';
    canonical += request.pathname.empty() ? std::string_view("/") : request.pathname;
    canonical += '\n';
    append_canonical_query(canonical, request.query);
    canonical += '\n';
    for (std::size_t i = 0; i < count; ++i) {
        canonical += lines[i].name;
        canonical += ':';
        canonical += trim(lines[i].value);
        canonical += '\n';
    }
    canonical += '\n';
    canonical += signed_names;
    canonical += '\n';
    canonical += payload_sha256;

    std::string& string_to_sign = scratch.string_to_sign;
    string_to_sign.assign(acs3_algorithm);
    string_to_sign += '\n';
    append_sha256_hex(string_to_sign, canonical);
    const std::string signature = secret_mac != nullptr
                                      ? secret_mac->hex(string_to_sign)
                                      : acs3_signature(key.access_key_secret, string_to_sign);

    Headers headers;
    // The signed headers, authorization, and room for the transport's accept and user-agent
    // (see sign_acs3): the list is never reallocated.
    headers.reserve(count + 3);
    headers.emplace_back("host", request.host);
    headers.emplace_back("x-acs-action", request.action);
    headers.emplace_back("x-acs-version", request.version);
    headers.emplace_back("x-acs-date", date);
    headers.emplace_back("x-acs-signature-nonce", nonce);
    headers.emplace_back("x-acs-content-sha256", payload_sha256);
    if (has_token) {
        headers.emplace_back("x-acs-security-token", key.security_token);
        headers.emplace_back("x-acs-accesskey-id", key.access_key_id);
    }
    if (!request.content_type.empty())
        headers.emplace_back("content-type", request.content_type);
    headers.emplace_back("authorization",
                         acs3_authorization(key.access_key_id, signed_names, signature));
    return headers;
}

}  // namespace

Headers sign_acs3(const SigningKey& key, const Acs3Request& request, std::string_view date,
                  std::string_view nonce) {
    Acs3Scratch scratch;
    return sign_acs3_with(key, nullptr, request, date, nonce, scratch);
}

Headers sign_acs3(const SigningKey& key, const HmacKey& secret_mac, const Acs3Request& request,
                  std::string_view date, std::string_view nonce) {
    Acs3Scratch scratch;
    return sign_acs3_with(key, &secret_mac, request, date, nonce, scratch);
}

Headers sign_acs3(const SigningKey& key, const HmacKey& secret_mac, const Acs3Request& request,
                  std::string_view date, std::string_view nonce, Acs3Scratch& scratch) {
    return sign_acs3_with(key, &secret_mac, request, date, nonce, scratch);
}

ExpectedSignature acs3_expected_signature(std::string_view access_key_secret,
                                          std::string_view method, std::string_view pathname,
                                          const Params& query, const Headers& headers,
                                          std::span<const std::string> signed_names,
                                          std::string_view payload_sha256) {
    const Acs3CanonicalHeaders canonical = acs3_canonical_headers(headers, signed_names);
    ExpectedSignature out;
    out.string_to_sign = acs3_string_to_sign(
        acs3_canonical_request(method, pathname, query, canonical, payload_sha256));
    out.signature = acs3_signature(access_key_secret, out.string_to_sign);
    return out;
}

std::vector<std::string> acs3_unsigned_headers(const Headers& headers,
                                               std::span<const std::string> signed_names) {
    const std::vector<std::string> signed_set = unique_lower_names(signed_names);
    std::vector<std::string> out;
    for (const auto& header : headers) {
        if (!acs3_is_signed_header(header.first))
            continue;
        std::string lower = to_lower(header.first);
        if (!std::binary_search(signed_set.begin(), signed_set.end(), lower)) {
            out.push_back(std::move(lower));
        }
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

std::string rpc_string_to_sign(std::string_view method, const Params& params) {
    Params signed_params;
    signed_params.reserve(params.size());
    for (const Param& param : params) {
        if (param.first != "Signature")
            signed_params.push_back(param);
    }
    std::string out(method);
    out += "&%2F&";
    append_percent_encoded(out, canonical_query(signed_params));
    return out;
}

std::string rpc_signing_key(std::string_view access_key_secret) {
    std::string key(access_key_secret);
    key += '&';
    return key;
}

std::string rpc_signature(std::string_view access_key_secret, std::string_view string_to_sign) {
    return hmac_sha1_base64(rpc_signing_key(access_key_secret), string_to_sign);
}

namespace {

// Both sign_rpc overloads: `secret_mac` is the prepared key, or null to key the MAC here.
Params sign_rpc_with(const SigningKey& key, const HmacKey* secret_mac, const RpcRequest& request,
                     std::string_view timestamp, std::string_view nonce) {
    Params params;
    params.reserve(request.params.size() + 11);
    params.emplace_back("Action", request.action);
    params.emplace_back("Format", "JSON");
    params.emplace_back("Version", request.version);
    params.emplace_back("Timestamp", timestamp);
    params.emplace_back("SignatureNonce", nonce);
    params.emplace_back("SignatureMethod", "HMAC-SHA1");
    params.emplace_back("SignatureVersion", "1.0");
    params.emplace_back("AccessKeyId", key.access_key_id);
    params.insert(params.end(), request.params.begin(), request.params.end());
    if (!key.security_token.empty())
        params.emplace_back("SecurityToken", key.security_token);
    const std::string string_to_sign = rpc_string_to_sign(request.method, params);
    std::string signature = secret_mac != nullptr
                                ? secret_mac->base64(string_to_sign)
                                : rpc_signature(key.access_key_secret, string_to_sign);
    params.emplace_back("Signature", std::move(signature));
    return params;
}

}  // namespace

Params sign_rpc(const SigningKey& key, const RpcRequest& request, std::string_view timestamp,
                std::string_view nonce) {
    return sign_rpc_with(key, nullptr, request, timestamp, nonce);
}

Params sign_rpc(const SigningKey& key, const HmacKey& secret_mac, const RpcRequest& request,
                std::string_view timestamp, std::string_view nonce) {
    return sign_rpc_with(key, &secret_mac, request, timestamp, nonce);
}

ExpectedSignature rpc_expected_signature(std::string_view access_key_secret,
                                         std::string_view method, const Params& params) {
    ExpectedSignature out;
    out.string_to_sign = rpc_string_to_sign(method, params);
    out.signature = rpc_signature(access_key_secret, out.string_to_sign);
    return out;
}

}  // namespace eci::detail
