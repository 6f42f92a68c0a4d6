// SPDX-License-Identifier: Apache-2.0
// The ClientStats counters the sandbox layer feeds (its exec WebSockets and exec start waits):
// a narrow door into the API client's counters, so lib/sandbox never reaches into
// api/openapi_state.hpp.
#pragma once

#include <eci/openapi_client.hpp>

namespace eci::detail {

/// Counts one connected exec WebSocket in `client`'s ClientStats::ws_connections, and in
/// ws_tls_resumptions when its TLS handshake resumed a session. Thread safety: on the
/// client's executor, as every counter.
void count_exec_websocket(const OpenApiClient& client, bool tls_resumed) noexcept;

/// Counts one exec start that waited for its slot (ClientStats::exec_start_waits).
void count_exec_start_wait(const OpenApiClient& client) noexcept;

}  // namespace eci::detail
