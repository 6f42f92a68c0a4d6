// SPDX-License-Identifier: Apache-2.0
// Allow-lists that decide what of a request may be logged: header values, query parameters,
// URLs and access key ids. Anything not known to be harmless is replaced by "<redacted>".
#pragma once

#include <string>
#include <string_view>

namespace eci::detail {

/// What a hidden value is replaced by.
inline constexpr std::string_view redacted_text = "<redacted>";

/// An access key id with its middle hidden: the first 4 and the last 3 characters around
/// "****" (`LTAI****mwn`); ids shorter than 10 characters become "****"; empty: "<none>".
std::string mask_access_key_id(std::string_view access_key_id);

/// Whether a header's value may be logged (case-insensitive): host, content-type,
/// content-length, x-acs-action, x-acs-version, x-acs-date, x-acs-request-id, user-agent.
bool is_loggable_header(std::string_view name) noexcept;

/// `value` when the header is loggable, else "<redacted>".
std::string_view loggable_header_value(std::string_view name, std::string_view value) noexcept;

/// Appends `name: value` (value through the allow-list) to `out`, separated by "; ".
void append_redacted_header(std::string& out, std::string_view name, std::string_view value);

/// All headers as one log line, `Name: value; Name: <redacted>; ...`, in their order.
/// `Headers` is any range whose elements are pair-like (`.first`, `.second` convertible to
/// std::string_view) or Beast-field-like (`.name_string()`, `.value()` with data()/size()).
template <class Headers>
std::string redact_headers(const Headers& headers) {
    std::string out;
    for (const auto& field : headers) {
        if constexpr (requires {
                          field.name_string();
                          field.value();
                      }) {
            const auto name = field.name_string();
            const auto value = field.value();
            append_redacted_header(out, std::string_view(name.data(), name.size()),
                                   std::string_view(value.data(), value.size()));
        } else {
            append_redacted_header(out, std::string_view(field.first),
                                   std::string_view(field.second));
        }
    }
    return out;
}

/// Whether a query parameter's value may be logged as is. Known harmless parameters (Action,
/// Version, RegionId, Timestamp, ContainerGroupId(s), NextToken, Limit, ClientToken, ...)
/// pass; everything else (Signature, SecurityToken, SignatureNonce, commands, environment
/// variables, ...) is hidden.
bool is_loggable_query_parameter(std::string_view name) noexcept;

/// A query string (`a=1&b=2`, with or without a leading `?`) with every value outside the
/// allow-list replaced by "<redacted>" and AccessKeyId masked. Names and order are kept;
/// values are left percent-encoded as they were.
std::string redact_query(std::string_view query);

/// A URL with user info and fragment hidden and its query through redact_query(), e.g. the
/// exec WebSocket URI whose query carries a session token.
std::string redact_url(std::string_view url);

/// Free text from a server or proxy (an error message, a refused upgrade's body, an echoed
/// request) with every credential it may quote replaced by "<redacted>", before the text
/// reaches an eci::Error or a log line. A server that echoes our request can quote our
/// secrets: the V2 string to sign carries `SecurityToken%3D...`, an echoed URL the exec
/// token, an echoed request `Proxy-Authorization: Basic ...`. Hidden (core/redact_text.cpp):
/// - every http(s)/ws(s) URL, through redact_url(), and the query of a path without a scheme
///   (`GET /exec/?s=... HTTP/1.1`) through redact_query();
/// - the value after `NAME=`, `NAME%3D` (percent-encoded, as in a string to sign), `NAME: `
///   (a header: to the end of the line) or `"NAME":"` (JSON) when NAME names a secret: it
///   contains token, signature, secret, password, passwd, credential, authorization, cookie
///   (case-insensitive), except the harmless NextToken, ClientToken,
///   SignatureMethod, SignatureVersion, SignatureType and SignatureNonce.
/// Everything else is kept as it was.
std::string redact_secrets(std::string_view text);

}  // namespace eci::detail
