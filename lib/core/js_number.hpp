// SPDX-License-Identifier: Apache-2.0
// Numbers as JavaScript writes them: how the official SDK puts a number into a request
// parameter, so the signed query is byte-identical to the SDK's.
#pragma once

#include <string>

namespace eci::detail {

/// A double as JavaScript's Number.prototype.toString() writes it: the shortest decimal
/// that reads back as the same double, in plain notation for 1e-6 <= |x| < 1e21 and
/// `d.ddde+N` / `d.ddde-N` otherwise; `NaN`, `Infinity`, `-Infinity`; -0 gives `0`.
std::string js_number_string(double number);

}  // namespace eci::detail
