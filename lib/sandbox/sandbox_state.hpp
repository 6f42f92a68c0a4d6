// SPDX-License-Identifier: Apache-2.0
// The shared state behind eci::AsyncEciSandbox: the OpenAPI client, the TLS context and
// options of exec WebSockets, and the container names learned per sandbox.
#pragma once

#include <eci/async_sandbox.hpp>

#include "async/async_semaphore.hpp"
#include "net/exec_websocket.hpp"

#include <boost/asio/ssl/context.hpp>

#include <map>
#include <memory>
#include <string>

namespace eci {

namespace detail {
struct RunningWaits;
}

struct AsyncEciSandbox::State {
    OpenApiClient api;
    std::shared_ptr<boost::asio::ssl::context> ws_tls;  ///< for wss:// exec URLs
    detail::ExecWebSocketOptions ws_options;            ///< proxy and limits
    Logger logger;
    /// sandbox id -> container name, learned by describe calls; touched only on the
    /// client's executor.
    std::map<std::string, std::string, std::less<>> container_names;
    /// RateLimitConfig::max_concurrent_exec_starts (see detail::start_exec).
    std::unique_ptr<detail::AsyncSemaphore> exec_starts;
    /// The shared wait for Running (sandbox/running_waits.hpp), made by its first waiter.
    std::shared_ptr<detail::RunningWaits> running_waits;
};

}  // namespace eci
