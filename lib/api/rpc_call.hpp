// One OpenAPI action, end to end: sign, send, parse, map errors, retry what is safe.
#pragma once

#include "api/openapi_state.hpp"
#include "core/params.hpp"
#include "core/retry.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/json/value.hpp>

#include <memory>
#include <string>

namespace eci::detail {

/// A successful reply: the parsed JSON body and its RequestId.
struct RpcReply {
    boost::json::value body;
    std::string request_id;
};

/// Calls `action` with `params` (business parameters, RegionId included), retrying under the
/// client's policy as `safety` allows. Errors carry the service's Code, Message, RequestId and
/// HTTP status; `dispatch` says whether the request may have reached the service
/// (not_sent / refused / unknown). Honours terminal cancellation (ErrorKind::cancelled).
boost::asio::awaitable<Result<RpcReply>> rpc_call(std::shared_ptr<OpenApiClient::State> state,
                                                  std::string action, Params params,
                                                  RetrySafety safety, CallOptions options);

/// Builds the signed HTTP request of one attempt (a fresh date and nonce each time; takes
/// the nonce from, and caches the date text in, `state`).
HttpRequest build_signed_request(OpenApiClient::State& state, std::string_view action,
                                 const Params& params);

}  // namespace eci::detail
