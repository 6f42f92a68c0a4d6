// SPDX-License-Identifier: Apache-2.0
#include "cli/args.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <vector>

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

const OptionSpec* find_short(std::span<const OptionSpec> specs, char name) {
    auto found = std::find_if(specs.begin(), specs.end(),
                              [&](const OptionSpec& spec) { return spec.short_name == name; });
    return found == specs.end() ? nullptr : &*found;
}

Error unknown_option(std::span<const OptionSpec> specs, std::string_view name) {
    std::vector<std::string_view> names;
    for (const auto& spec : specs)
        names.push_back(spec.name);
    if (auto near = closest_match(name, names))
        return usage(fmt::format("unknown option '--{}' (did you mean '--{}'?)", name, *near));
    return usage(fmt::format("unknown option '--{}'", name));
}

// Optimal string alignment distance: insertions, deletions, substitutions and adjacent
// transpositions each cost one.
std::size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
    for (std::size_t i = 0; i <= a.size(); ++i)
        d[i][0] = i;
    for (std::size_t j = 0; j <= b.size(); ++j)
        d[0][j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        for (std::size_t j = 1; j <= b.size(); ++j) {
            const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
        }
    }
    return d[a.size()][b.size()];
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

std::optional<std::string_view> closest_match(std::string_view word,
                                              std::span<const std::string_view> candidates) {
    const std::size_t allowed = word.size() <= 4 ? 1 : word.size() <= 8 ? 2 : 3;
    std::optional<std::string_view> best;
    std::size_t best_distance = allowed + 1;
    for (auto candidate : candidates) {
        const std::size_t distance = edit_distance(word, candidate);
        if (distance < best_distance) {
            best = candidate;
            best_distance = distance;
        }
    }
    return best;
}

Result<ParsedArgs> parse_args(std::span<const std::string> args, std::span<const OptionSpec> specs,
                              PositionalMode mode, std::size_t positionals_before_rest) {
    ParsedArgs parsed;
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& arg = args[i];
        if (arg == "--") {
            parsed.has_separator = true;
            parsed.rest.assign(args.begin() + static_cast<std::ptrdiff_t>(i) + 1, args.end());
            break;
        }
        if (arg.size() < 2 || arg[0] != '-') {
            if (mode == PositionalMode::stop ||
                parsed.positionals.size() >= positionals_before_rest) {
                parsed.rest.assign(args.begin() + static_cast<std::ptrdiff_t>(i), args.end());
                break;
            }
            parsed.positionals.push_back(arg);
            continue;
        }
        std::string_view body = std::string_view(arg).substr(2);
        std::optional<std::string_view> inline_value;
        const OptionSpec* spec = nullptr;
        if (arg[1] != '-') {
            // `-x` alone (no bundling, no attached value): one option with a short name.
            spec = arg.size() == 2 ? find_short(specs, arg[1]) : nullptr;
            if (spec == nullptr)
                return usage(fmt::format("unknown option '{}' (options are spelled --name)",
                                         arg.substr(0, 2)));
            body = spec->name;
        } else {
            if (auto equals = body.find('='); equals != std::string_view::npos) {
                inline_value = body.substr(equals + 1);
                body = body.substr(0, equals);
            }
            spec = find_spec(specs, body);
            if (spec == nullptr)
                return unknown_option(specs, body);
        }
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
        std::string left = spec.short_name != 0
                               ? fmt::format("-{}, --{}", spec.short_name, spec.name)
                               : fmt::format("--{}", spec.name);
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
