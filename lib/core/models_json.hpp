// SPDX-License-Identifier: Apache-2.0
// The one mapping between the typed models (include/eci/models.hpp) and the service's wire
// forms: JSON bodies (PascalCase names) for responses, flattened query parameters for
// requests. Used both ways: the client builds params and parses bodies, the emulator parses
// params and builds bodies. Sans-io; docs/models.md has the name table.
#pragma once

#include "core/params.hpp"

#include <eci/models.hpp>
#include <eci/result.hpp>

#include <boost/json/value.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace eci::detail {

// ---------------------------------------------------------------------------------------
// JSON -> models. Lenient as the SDK is: a missing or null field keeps its default, unknown
// fields are ignored, any JSON number fills a float field, and an integer field accepts a
// float with no fractional part. A field of the wrong type fails the whole parse with
// ErrorKind::protocol whose message names the field by path, e.g.
// "ContainerGroups[0].Containers[1].Cpu".
//
// T is one of: Tag, EnvironmentVar, ContainerPort, ContainerState, Container, Event,
// ContainerGroup, and the *Response types of models.hpp (other types do not link).
//
// One implementation serves both entry points: parse_reply reads the JSON text in one pass
// straight into T (no JSON tree; what the client does with every reply), and from_json
// takes an already parsed value (serialized, then read the same way: tests and fuzzing).
// A duplicate member: the last one wins, and a null one resets the field to its default.
// Names "Commands" and "Command" of a Container both fill `commands`; "Commands" wins.
template <class T>
Result<T> from_json(const boost::json::value& value);

/// Parses a reply body into T with the rules above, refusing nesting deeper than
/// max_json_depth (core/service_error.hpp); the size is bounded by the transport. Errors:
/// ErrorKind::protocol: not JSON or truncated, too deep, or not an object (the message holds
/// a sanitized excerpt of the body), or a field of the wrong type (the message names it;
/// `request_id` is the body's RequestId when it came before that field).
/// Thread safety: pure function.
template <class T>
Result<T> parse_reply(std::string_view body);

// ---------------------------------------------------------------------------------------
// Models -> JSON, with the service's names. Every field is written (the service does the
// same), except ExecContainerCommandResponse::sync_response, which only appears when set.
// Floats with no fractional part are written as integers ("Cpu":2, not 2E0).
//
// T is one of the types from_json takes.
template <class T>
boost::json::value to_json(const T& model);

// ---------------------------------------------------------------------------------------
// Requests -> params, flattened as the official SDK sends them: `RegionId` first (when not
// empty), then the fields in declaration order; lists 1-based (`Container.1.Command.2`);
// ID lists and the exec command as one JSON-array string; booleans `true`/`false`; floats
// as JavaScript prints them (1.0 -> "1"). Unset optionals, empty strings and empty lists
// are not sent, except an EnvironmentVar value, which is sent even when empty, and the
// exec Command, which is required and always sent. Floats go through js_number_string
// (core/js_number.hpp), the one JavaScript-compatible formatter.
//
// T is one of the *Request types of models.hpp (core/actions.hpp: ECI_FOR_EACH_ACTION).
template <class T>
Params to_params(const T& request, std::string_view region_id);

// Params -> request (the emulator's side). Unknown params (RegionId, signing params,
// features this library does not model) are ignored; when a name repeats the first wins.
// List items are taken in index order; gaps are allowed. Errors: ErrorKind::invalid_argument
// with http_status 400 and the service's Code and Message text: MissingParameter for an
// absent or empty required param, InvalidParameter for a malformed value (bad boolean,
// number, index or JSON array), each naming the parameter. Limits (counts, lengths, name
// syntax) are the emulator's business, not checked here.
//
// T is one of the *Request types of models.hpp (core/actions.hpp: ECI_FOR_EACH_ACTION).
// The names and encodings of all four directions come from one table per model
// (core/wire_model.hpp, core/actions.hpp).
template <class T>
Result<T> from_params(const Params& params);

/// The `RegionId` param. Errors: MissingParameter when absent or empty.
Result<std::string> region_id_from_params(const Params& params);

/// `["a","b"]`: the JSON-array string form of ContainerGroupIds and exec's Command.
std::string to_json_array_string(const std::vector<std::string>& items);

/// Parses a JSON array of strings. Errors: InvalidParameter naming `param_name` when `text`
/// is not a JSON array or holds a non-string.
Result<std::vector<std::string>> parse_json_array_string(std::string_view text,
                                                         std::string_view param_name);

}  // namespace eci::detail
