// SPDX-License-Identifier: Apache-2.0
// Flattening a JSON request model into OpenAPI parameters, as the official SDK's flatMap does:
// the tests' oracle for the library's own parameter writer (core/models_json.cpp), and a
// fuzz target. No library path uses it, so it lives with the tests (issue 15, item 3).
#pragma once

#include "core/params.hpp"

#include <boost/json/fwd.hpp>

#include <string>

namespace eci::test {

/// Flattens `value` into parameters the way the official SDK (openapi-util flatMap) does:
/// - object members become `prefix.Member` (just `Member` when `prefix` is empty), in the
///   object's order;
/// - array elements become `prefix.1`, `prefix.2`, ... (1-based);
/// - nesting repeats, e.g. `Container.1.EnvironmentVar.2.Key`;
/// - strings are copied, booleans give `true`/`false`, numbers are written as JavaScript's
///   Number toString writes them (1.0 gives `1`, 0.5 gives `0.5`, 1e21 gives `1e+21`);
/// - null is skipped (an array index is still used up by it), and so are empty arrays and
///   objects.
/// A scalar at the top level gives one parameter named `prefix`.
detail::Params flatten_json(const boost::json::value& value, std::string prefix);

/// Appends what flatten_json would return to `out`.
void append_flattened_json(detail::Params& out, const boost::json::value& value,
                           const std::string& prefix);

}  // namespace eci::test
