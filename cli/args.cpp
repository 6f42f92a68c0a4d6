// SPDX-License-Identifier: Apache-2.0
#include "cli/args.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>

namespace eci::cli {

namespace {

Error usage(std::string message) {
    return Error::make(ErrorKind::invalid_argument, std::move(message));
}

const OptionSpec* find_spec(std::span<const OptionSpec> specs, std::string_view name) {
    auto found = std::find_if(specs.begin(), specs.end(),
                              [&](const OptionSpec& spec) { return spec.name == name; });
    return found == specs.end() ? nullptr : &*found;
}

}  // namespace

bool ParsedArgs::has(std::string_view name) const {
    return values.find(name) != values.end() ||
           std::find(flags.begin(), flags.end(), name) != flags.end();
}

std::optional<std::string> ParsedArgs::value(std::string_view name) const {
    auto found = values.find(name);
    if (found == values.end() || found->second.empty())
        return std::nullopt;
    return found->second.back();
}

const std::vector<std::string>& ParsedArgs::all(std::string_view name) const {
    static const std::vector<std::string> none;
    auto found = values.find(name);
    return found == values.end() ? none : found->second;
}

Result<ParsedArgs> parse_args(std::span<const std::string> args, std::span<const OptionSpec> specs,
                              PositionalMode mode) {
    ParsedArgs parsed;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& arg = args[i];
        if (arg == "--") {
            parsed.has_separator = true;
            parsed.rest.assign(args.begin() + static_cast<std::ptrdiff_t>(i) + 1, args.end());
            break;
        }
        if (arg.size() < 2 || arg[0] != '-') {
            if (mode == PositionalMode::stop) {
                parsed.rest.assign(args.begin() + static_cast<std::ptrdiff_t>(i), args.end());
                break;
            }
            parsed.positionals.push_back(arg);
            continue;
        }
        if (arg[1] != '-')
            return usage(
                fmt::format("unknown option '{}' (options are spelled --name)", arg.substr(0, 2)));
        std::string_view body = std::string_view(arg).substr(2);
        std::optional<std::string_view> inline_value;
        if (auto equals = body.find('='); equals != std::string_view::npos) {
            inline_value = body.substr(equals + 1);
            body = body.substr(0, equals);
        }
        const OptionSpec* spec = find_spec(specs, body);
        if (spec == nullptr)
            return usage(fmt::format("unknown option '--{}'", body));
        if (!spec->repeatable && parsed.has(spec->name))
            return usage(fmt::format("option '--{}' given more than once", body));
        if (!spec->takes_value) {
            if (inline_value)
                return usage(fmt::format("option '--{}' takes no value", body));
            parsed.flags.emplace_back(spec->name);
            continue;
        }
        std::string value;
        if (inline_value) {
            value = std::string(*inline_value);
        } else if (i + 1 < args.size()) {
            value = args[++i];
        } else {
            return usage(fmt::format("option '--{}' needs a value ({})", body,
                                     spec->value_name.empty() ? "VALUE" : spec->value_name));
        }
        parsed.values[std::string(spec->name)].push_back(std::move(value));
    }
    return parsed;
}

std::string format_options(std::span<const OptionSpec> specs) {
    std::string out;
    for (const auto& spec : specs) {
        std::string left = fmt::format("--{}", spec.name);
        if (spec.takes_value)
            left += fmt::format(" {}", spec.value_name.empty() ? "VALUE" : spec.value_name);
        out += fmt::format("  {:<26} {}{}\n", left, spec.description,
                           spec.repeatable ? " (repeatable)" : "");
    }
    return out;
}

Result<std::pair<std::string, std::string>> parse_key_value(std::string_view what,
                                                            std::string_view text) {
    auto equals = text.find('=');
    if (equals == std::string_view::npos || equals == 0)
        return usage(fmt::format("{}: expected KEY=VALUE", what));
    return std::pair{std::string(text.substr(0, equals)), std::string(text.substr(equals + 1))};
}

Result<double> parse_number(std::string_view what, std::string_view text, double min, double max) {
    double value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc{} || end != text.data() + text.size() ||
        !std::isfinite(value) || value < min || value > max)
        return usage(fmt::format("{}: expected a number in [{}, {}]", what, min, max));
    return value;
}

Result<long long> parse_integer(std::string_view what, std::string_view text, long long min,
                                long long max) {
    long long value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc{} || end != text.data() + text.size() || value < min ||
        value > max)
        return usage(fmt::format("{}: expected a whole number in [{}, {}]", what, min, max));
    return value;
}

Result<std::pair<int, std::string>> parse_port(std::string_view what, std::string_view text) {
    std::string_view number = text;
    std::string protocol;
    if (auto slash = text.find('/'); slash != std::string_view::npos) {
        number = text.substr(0, slash);
        for (char c : text.substr(slash + 1))
            protocol += static_cast<char>(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c);
        if (protocol != "TCP" && protocol != "UDP")
            return usage(fmt::format("{}: the protocol must be TCP or UDP", what));
    }
    auto port = parse_integer(what, number, 1, 65535);
    if (!port)
        return std::move(port).error();
    return std::pair{static_cast<int>(*port), std::move(protocol)};
}

}  // namespace eci::cli
