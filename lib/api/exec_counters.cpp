// SPDX-License-Identifier: Apache-2.0
#include "api/exec_counters.hpp"

#include "api/openapi_state.hpp"

namespace eci::detail {

void count_exec_websocket(const OpenApiClient& client, bool tls_resumed) noexcept {
    auto& stats = client.state()->stats;
    ++stats.ws_connections;
    if (tls_resumed)
        ++stats.ws_tls_resumptions;
}

void count_exec_start_wait(const OpenApiClient& client) noexcept {
    ++client.state()->stats.exec_start_waits;
}

}  // namespace eci::detail
