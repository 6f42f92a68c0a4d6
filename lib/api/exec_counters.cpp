// SPDX-License-Identifier: Apache-2.0
#include "api/exec_counters.hpp"

#include "api/openapi_state.hpp"
#include "api/state_access.hpp"

namespace eci::detail {

void count_exec_websocket(const OpenApiClient& client, bool tls_resumed) noexcept {
    auto& stats = detail::StateAccess::state(client)->stats;
    ++stats.ws_connections;
    if (tls_resumed)
        ++stats.ws_tls_resumptions;
}

void count_exec_start_wait(const OpenApiClient& client) noexcept {
    ++detail::StateAccess::state(client)->stats.exec_start_waits;
}

}  // namespace eci::detail
