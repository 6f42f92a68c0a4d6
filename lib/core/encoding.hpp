// SPDX-License-Identifier: Apache-2.0
// Percent-encoding, query strings, Base64 and JSON array strings: the text forms a request is
// built from and parsed back into. Pure functions; thread-safe; no allocation beyond results.
#pragma once

#include "core/params.hpp"

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace eci::detail {

/// Strict RFC 3986 percent-encoding of the bytes of `text` (UTF-8 for non-ASCII): only
/// `A-Z a-z 0-9 - _ . ~` stay literal, everything else becomes `%XX` with upper-case hex.
/// Space gives `%20` (never `+`), and `! ' ( ) *` are encoded too. This is the encoding both
/// signatures are computed over (Alibaba's `percentEncode`).
std::string percent_encode(std::string_view text);

/// Appends `percent_encode(text)` to `out`.
void append_percent_encoded(std::string& out, std::string_view text);

/// Decodes `%XX` escapes (either hex case) and, when `plus_is_space`, turns `+` into a space
/// (x-www-form-urlencoded bodies). Any other byte is copied as is, so a lenient encoder's raw
/// `! ' ( ) *` decode to themselves. The result is raw bytes (not checked for UTF-8).
/// Returns nullopt when a `%` is not followed by two hex digits.
std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space);

/// Parses `a=1&b=2` (a URL query without the `?`, or an x-www-form-urlencoded body) into
/// decoded parameters in wire order. A field without `=` has an empty value; empty fields
/// (`a=1&&b=2`, a trailing `&`) are skipped. Returns nullopt if any name or value holds a
/// malformed `%` escape.
std::optional<Params> parse_query(std::string_view query, bool plus_is_space);

/// The canonical query both signatures use: parameters sorted by name (byte order; equal
/// names keep their relative order), each written `enc(name)=enc(value)` (an empty value
/// gives `name=`), joined by `&`. Empty `params` give an empty string.
std::string canonical_query(std::span<const Param> params);

/// canonical_query appended to `out` (no allocation beyond `out`'s growth for up to 32
/// parameters).
void append_canonical_query(std::string& out, std::span<const Param> params);

/// The query for the wire: `enc(name)=enc(value)` joined by `&` in the given order, with
/// the same strict encoding as `percent_encode`.
std::string build_query(std::span<const Param> params);

/// Appends build_query(params) to `out`.
void append_query(std::string& out, std::span<const Param> params);

/// Standard Base64 (RFC 4648 §4, `+/`, with `=` padding) of the bytes of `data`.
std::string base64_encode(std::string_view data);

/// Decodes standard padded Base64. Returns nullopt on a character outside the alphabet, a
/// length that is not a multiple of 4, misplaced padding, or non-zero bits in the padding.
std::optional<std::string> base64_decode(std::string_view text);

/// A JSON array of strings, compact, as JavaScript's JSON.stringify writes it:
/// `["eci-1","eci-2"]`. Quotes, backslashes and control characters are escaped; other bytes
/// (UTF-8) are copied. Used for list parameters such as ContainerGroupIds and Command.
std::string json_array_string(const std::vector<std::string>& items);

}  // namespace eci::detail
