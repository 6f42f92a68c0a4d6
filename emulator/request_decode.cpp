// SPDX-License-Identifier: Apache-2.0
#include "emulator/request_decode.hpp"

#include "core/encoding.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

namespace eci::emulator {

namespace {

bool starts_with_icase(std::string_view text, std::string_view prefix) {
    return text.size() >= prefix.size() &&
           std::equal(prefix.begin(), prefix.end(), text.begin(), [](char a, char b) {
               return std::tolower(static_cast<unsigned char>(a)) ==
                      std::tolower(static_cast<unsigned char>(b));
           });
}

// A parameter name fit to quote in an error: valid UTF-8 (checked by the caller), short.
std::string quotable(std::string_view name) {
    constexpr std::size_t max_quoted = 64;
    if (name.size() <= max_quoted)
        return std::string(name);
    // Cut at a character boundary so the message stays valid UTF-8.
    std::size_t cut = max_quoted;
    while (cut > 0 && (static_cast<unsigned char>(name[cut]) & 0xC0) == 0x80)
        --cut;
    return std::string(name.substr(0, cut)) + "...";
}

}  // namespace

bool is_valid_utf8(std::string_view text) noexcept {
    const auto* p = reinterpret_cast<const unsigned char*>(text.data());
    const auto* end = p + text.size();
    while (p < end) {
        const unsigned char lead = *p;
        if (lead < 0x80) {
            ++p;
            continue;
        }
        std::size_t length = 0;
        unsigned char low = 0x80, high = 0xBF;  // the range of the second byte
        if (lead >= 0xC2 && lead <= 0xDF) {
            length = 2;
        } else if (lead >= 0xE0 && lead <= 0xEF) {
            length = 3;
            if (lead == 0xE0)
                low = 0xA0;  // no overlong forms
            if (lead == 0xED)
                high = 0x9F;  // no surrogates
        } else if (lead >= 0xF0 && lead <= 0xF4) {
            length = 4;
            if (lead == 0xF0)
                low = 0x90;  // no overlong forms
            if (lead == 0xF4)
                high = 0x8F;  // nothing above U+10FFFF
        } else {
            return false;
        }
        if (static_cast<std::size_t>(end - p) < length)
            return false;
        if (p[1] < low || p[1] > high)
            return false;
        for (std::size_t i = 2; i < length; ++i)
            if ((p[i] & 0xC0) != 0x80)
                return false;
        p += length;
    }
    return true;
}

std::variant<IncomingRequest, ApiError> decode_request(std::string method, std::string_view target,
                                                       eci::detail::Headers headers,
                                                       std::string body, bool remote_is_loopback) {
    const auto malformed = [] {
        return errors::invalid_parameter_message(
            "The request has a malformed percent-encoding in its query or body.");
    };
    IncomingRequest incoming;
    incoming.method = std::move(method);
    const auto question = target.find('?');
    incoming.path = std::string(target.substr(0, question));
    if (incoming.path.empty())
        incoming.path = "/";
    incoming.headers = std::move(headers);
    incoming.body = std::move(body);
    incoming.remote_is_loopback = remote_is_loopback;

    // Counted before parsing, so a body of a million `&` never becomes a million strings.
    const auto separators = [](std::string_view text) {
        return static_cast<std::size_t>(std::count(text.begin(), text.end(), '&'));
    };
    if (question != std::string_view::npos) {
        if (separators(target.substr(question + 1)) >= max_request_params)
            return errors::value_exceeded("the number of parameters", max_request_params);
        // `+` in the query is a space, as in a form body. The official Python SDKs write the
        // query with urlencode (quote_plus: a space as `+`) while signing the value strictly
        // encoded (`%20`), and the real gateway accepts them, so it must decode `+` so too. A
        // literal plus arrives as `%2B` from every SDK family (docs/emulator.md, "Fidelity").
        auto query = eci::detail::parse_query(target.substr(question + 1), true);
        if (!query)
            return malformed();
        incoming.query = std::move(*query);
    }
    if (incoming.query.size() > max_request_params)
        return errors::value_exceeded("the number of parameters", max_request_params);
    incoming.params = incoming.query;
    const auto content_type = incoming.header("content-type");
    if (content_type && starts_with_icase(*content_type, "application/x-www-form-urlencoded")) {
        if (incoming.params.size() + separators(incoming.body) >= max_request_params)
            return errors::value_exceeded("the number of parameters", max_request_params);
        auto form = eci::detail::parse_query(incoming.body, true);
        if (!form)
            return malformed();
        if (incoming.params.size() + form->size() > max_request_params)
            return errors::value_exceeded("the number of parameters", max_request_params);
        incoming.params.insert(incoming.params.end(), std::make_move_iterator(form->begin()),
                               std::make_move_iterator(form->end()));
    }
    for (const auto& [name, value] : incoming.params) {
        if (!is_valid_utf8(name))
            return errors::invalid_parameter_message(
                "A parameter name of the request is not valid UTF-8.");
        if (!is_valid_utf8(value))
            return errors::invalid_parameter_message(
                fmt::format("The value of parameter \"{}\" is not valid UTF-8.", quotable(name)));
    }
    return incoming;
}

}  // namespace eci::emulator
