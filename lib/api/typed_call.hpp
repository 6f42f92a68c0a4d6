// SPDX-License-Identifier: Apache-2.0
// One call of any action in the action table (core/actions.hpp), by its request type: the
// client's typed methods are this one line each, and a layer above (lib/sandbox) may call an
// action the public client does not spell out.
#pragma once

#include "api/openapi_state.hpp"
#include "core/actions.hpp"

#include <boost/asio/awaitable.hpp>

#include <memory>

namespace eci::detail {

/// Sends `request` as the action `Action<Request>` describes: its params (core/models_json.hpp,
/// RegionId from the client's configuration), a generated ClientToken when the action asks for
/// one and the request has none (kept by every retry), its name and retry safety; the reply is
/// read into the action's response type. Errors, cancellation and lifetimes as OpenApiClient's
/// methods (rpc_call). Defined and instantiated for every ECI_FOR_EACH_ACTION request in
/// lib/api/openapi_client.cpp.
template <class Request>
boost::asio::awaitable<Result<typename Action<Request>::Response>> typed_call(
    std::shared_ptr<OpenApiClient::State> state, Request request, CallOptions options);

}  // namespace eci::detail
