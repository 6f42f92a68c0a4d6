// SPDX-License-Identifier: Apache-2.0
// Router: one HTTP request that is not a WebSocket upgrade -> the reply. It serves
// /_emulator/stats, decodes the request, authenticates it, applies the injected faults and
// latency, checks the API version and hands the call to the handler registered for its
// action name. It knows no action itself (ActionHandlers registers them).
#pragma once

#include "emulator/api_error.hpp"
#include "emulator/execution.hpp"
#include "emulator/faults.hpp"
#include "emulator/ids.hpp"
#include "emulator/nonce_cache.hpp"
#include "emulator/options.hpp"
#include "emulator/request.hpp"
#include "emulator/request_auth.hpp"
#include "emulator/stats.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/json/value.hpp>

#include <functional>
#include <map>
#include <string>
#include <variant>

namespace eci::emulator {

/// What an action produced: a success body, or a refusal.
using ActionOutcome = std::variant<boost::json::value, ApiError>;

/// Carries out one authenticated call of an action. Parameters by value: the awaitable runs
/// after the caller's frame moved on.
using ActionHandler =
    std::function<boost::asio::awaitable<ActionOutcome>(IncomingRequest, std::string request_id)>;

/// What to send back for one HTTP request.
struct Reply {
    // A user-provided constructor: GCC 12 miscompiles prvalue aggregates whose default
    // member initializers hold string literals when they are created in a coroutine.
    Reply(unsigned status_code = 200, std::string reply_body = {})
        : status(status_code), body(std::move(reply_body)) {}
    unsigned status = 200;
    std::string body;
    std::string content_type = "application/json;charset=utf-8";
    bool drop_connection = false;  ///< fault: close without replying
};

class Router {
  public:
    /// `stopping` is the server's flag; `stats_document` makes the /_emulator/stats body.
    Router(Strand strand, const EmulatorOptions& options, Stats& stats, IdSource& ids,
           FaultInjector& faults, const bool& stopping,
           std::function<std::string()> stats_document);

    /// The credentials calls must be signed with (set once they are known).
    void set_credentials(AuthConfig auth) { auth_ = std::move(auth); }

    /// Serves `action` with `handler` from now on.
    void add(std::string action, ActionHandler handler);

    /// The reply to one request as the HTTP parser read it.
    boost::asio::awaitable<Reply> handle(std::string method, std::string target,
                                         eci::detail::Headers headers, std::string body,
                                         bool remote_is_loopback);

    /// The reply refusing a request before it could be handled (e.g. too large), counted in
    /// the stats like any refusal.
    Reply refuse(const ApiError& error);

  private:
    boost::asio::awaitable<Reply> handle_call(IncomingRequest request);
    Reply refuse(const ApiError& error, const std::string& request_id);

    Strand strand_;
    const EmulatorOptions& options_;
    Stats& stats_;
    IdSource& ids_;
    FaultInjector& faults_;
    const bool& stopping_;
    std::function<std::string()> stats_document_;
    AuthConfig auth_;
    NonceCache nonces_;
    std::map<std::string, ActionHandler, std::less<>> actions_;
};

}  // namespace eci::emulator
