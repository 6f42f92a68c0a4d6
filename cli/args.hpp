// SPDX-License-Identifier: Apache-2.0
// The command-line parser of `eci-sandbox`: long options (`--name VALUE`, `--name=VALUE`,
// flags, repeatable options), positionals and everything after `--`, checked against a
// table of the options a command accepts. Hand-rolled so the CLI needs no new dependency.
#pragma once

#include <eci/result.hpp>

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace eci::cli {

/// One option a command accepts, spelled `--name` on the command line.
struct OptionSpec {
    std::string_view name;         ///< without the leading `--`, e.g. "image"
    bool takes_value = false;      ///< `--name VALUE` / `--name=VALUE`; false: a flag
    bool repeatable = false;       ///< may be given more than once (values are kept in order)
    std::string_view value_name;   ///< for the help text, e.g. "K=V"
    std::string_view description;  ///< one line for the help text
    char short_name = 0;           ///< `-x` spelling as well (0: none), e.g. 'h' for help
};

/// What a command line said.
struct ParsedArgs {
    /// Options with values, in the order given (one entry per occurrence).
    std::map<std::string, std::vector<std::string>, std::less<>> values;
    /// Flags that were given.
    std::vector<std::string> flags;
    /// Arguments that are not options, in order.
    std::vector<std::string> positionals;
    /// Everything after the first `--` (or, in stop-at-positional mode, from the first
    /// positional on), untouched.
    std::vector<std::string> rest;
    bool has_separator = false;  ///< a `--` was seen

    /// Whether the flag or option `name` was given.
    bool has(std::string_view name) const;
    /// The (last) value of option `name`, or nullopt.
    std::optional<std::string> value(std::string_view name) const;
    /// Every value of a repeatable option `name` (empty when absent).
    const std::vector<std::string>& all(std::string_view name) const;
};

/// How parse_args treats the first positional.
enum class PositionalMode {
    collect,  ///< positionals are collected, options may follow them
    stop,     ///< the first positional and everything after it go to `rest` unparsed
};

/// Parses `args` (without the program or command name) against `specs`.
///
/// `--name=VALUE` and `--name VALUE` are both accepted for options that take a value (the
/// value may start with `-`); `-x` for an option whose spec has that short name (`-x VALUE`
/// when it takes one); `-` alone is a positional; `--` ends option parsing.
/// `positionals_before_rest` (collect mode): once that many positionals were collected, the
/// next positional and everything after it go to `rest` unparsed, as `docker exec ID CMD
/// ARGS...` takes the options after CMD as CMD's own.
/// Errors: ErrorKind::invalid_argument for an unknown option (with a "did you mean" when one
/// is close), an unknown short option, a missing value, a value given to a flag, or a
/// non-repeatable option given twice. The message names the option, never a value (a value
/// could be a secret pasted by mistake).
/// Thread safety: a pure function.
Result<ParsedArgs> parse_args(std::span<const std::string> args, std::span<const OptionSpec> specs,
                              PositionalMode mode = PositionalMode::collect,
                              std::size_t positionals_before_rest = SIZE_MAX);

/// The candidate closest to a mistyped `word` (edit distance, a transposition counting as
/// one edit), when it is close enough to be what was meant: at most 1 edit for words of up
/// to 4 characters, 2 up to 8, 3 beyond. nullopt otherwise.
std::optional<std::string_view> closest_match(std::string_view word,
                                              std::span<const std::string_view> candidates);

/// The options part of a help text: one line per option, `  --name VALUE   description`.
std::string format_options(std::span<const OptionSpec> specs);

/// Splits `K=V` at the first `=`. Errors: invalid_argument (no `=` or an empty key); the
/// message names `what` (e.g. "--env").
Result<std::pair<std::string, std::string>> parse_key_value(std::string_view what,
                                                            std::string_view text);

/// A finite decimal number in [min, max]. Errors: invalid_argument naming `what`.
Result<double> parse_number(std::string_view what, std::string_view text, double min, double max);

/// A whole number in [min, max]. Errors: invalid_argument naming `what`.
Result<long long> parse_integer(std::string_view what, std::string_view text, long long min,
                                long long max);

/// A container port: `N` or `N/TCP` or `N/UDP` (protocol case-insensitive, stored upper-case;
/// none given = empty, which the service takes as TCP). Errors: invalid_argument.
Result<std::pair<int, std::string>> parse_port(std::string_view what, std::string_view text);

}  // namespace eci::cli
