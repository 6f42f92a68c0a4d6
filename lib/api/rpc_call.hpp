// SPDX-License-Identifier: Apache-2.0
// One OpenAPI action, end to end: sign, send, parse, map errors, retry what is safe.
#pragma once

#include "api/openapi_state.hpp"
#include "core/params.hpp"
#include "core/retry.hpp"

#include <boost/asio/awaitable.hpp>

#include <memory>
#include <string>
#include <string_view>

namespace eci::detail {

/// Reads a 2xx reply body into the caller's typed response (`response`, which the caller
/// owns and keeps alive for the call). Returns the reply's RequestId (a view into the response),
/// or the protocol error of an unreadable body.
struct ReplyReader {
    Result<std::string_view> (*read)(std::string_view body, void* response);
    void* response;
};

/// Calls `action` with `params` (business parameters, RegionId included), retrying under the
/// client's policy as `safety` allows, and reads the successful reply with `reader`. Errors
/// carry the service's Code, Message, RequestId and HTTP status; `dispatch` says whether the
/// request may have reached the service (not_sent / refused / unknown). Honours terminal
/// cancellation (ErrorKind::cancelled).
boost::asio::awaitable<Result<void>> rpc_call(std::shared_ptr<OpenApiClient::State> state,
                                              std::string action, Params params, RetrySafety safety,
                                              CallOptions options, ReplyReader reader);

/// Builds the signed HTTP request of one attempt with `signing` (a fresh date and nonce each
/// time; takes the nonce from, and caches the date text in, `state`).
HttpRequest build_signed_request(OpenApiClient::State& state, const SigningCredentials& signing,
                                 std::string_view action, const Params& params);

}  // namespace eci::detail
