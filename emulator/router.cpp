// SPDX-License-Identifier: Apache-2.0
#include "emulator/router.hpp"

#include "emulator/request_decode.hpp"

#include "core/service_error.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/serialize.hpp>

#include <fmt/format.h>

namespace eci::emulator {

namespace asio = boost::asio;

namespace {

constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);

Reply dropped_reply() {
    Reply reply;
    reply.drop_connection = true;
    return reply;
}

}  // namespace

Router::Router(Strand strand, const EmulatorOptions& options, Stats& stats, IdSource& ids,
               FaultInjector& faults, const bool& stopping,
               std::function<std::string()> stats_document)
    : strand_(std::move(strand)),
      options_(options),
      stats_(stats),
      ids_(ids),
      faults_(faults),
      stopping_(stopping),
      stats_document_(std::move(stats_document)) {}

void Router::add(std::string action, ActionHandler handler) {
    actions_.insert_or_assign(std::move(action), std::move(handler));
}

Reply Router::refuse(const ApiError& error) {
    return refuse(error, ids_.request_id());
}

Reply Router::refuse(const ApiError& error, const std::string& request_id) {
    ++stats_.api_errors[error.code];
    const std::string host_id = fmt::format("eci.{}.aliyuncs.com", options_.region_id);
    return Reply{static_cast<unsigned>(error.http_status),
                 boost::json::serialize(eci::detail::service_error_body(
                     request_id, host_id, error.code, error.message))};
}

asio::awaitable<Reply> Router::handle(std::string method, std::string target,
                                      eci::detail::Headers headers, std::string body,
                                      bool remote_is_loopback) {
    const std::string_view path = std::string_view(target).substr(0, target.find('?'));
    if (path == "/_emulator/stats") {
        if (!remote_is_loopback)
            co_return Reply{403, R"({"error":"stats are served to loopback clients only"})"};
        co_return Reply{200, stats_document_()};
    }
    auto decoded = decode_request(std::move(method), target, std::move(headers), std::move(body),
                                  remote_is_loopback);
    if (auto* refusal = std::get_if<ApiError>(&decoded))
        co_return refuse(*refusal);
    co_return co_await handle_call(std::get<IncomingRequest>(std::move(decoded)));
}

// One API call: method, authentication, faults, latency, the action.
asio::awaitable<Reply> Router::handle_call(IncomingRequest request) {
    std::string request_id = ids_.request_id();
    if (request.path != "/")
        co_return refuse(errors::invalid_action(request.path), request_id);
    if (request.method != "GET" && request.method != "POST")
        co_return refuse(errors::unsupported_method(), request_id);
    auto auth = authenticate(request, auth_, nonces_, std::chrono::system_clock::now(),
                             std::chrono::steady_clock::now());
    if (auto* error = std::get_if<ApiError>(&auth))
        co_return refuse(*error, request_id);
    auto call = std::get<AuthenticatedCall>(std::move(auth));
    ++stats_.api_calls[call.action];

    FaultKind fault =
        faults_.decide(call.action, call.access_key_id, std::chrono::steady_clock::now());
    if (fault != FaultKind::none)
        ++stats_.faults_injected[std::string(to_string(fault))];
    if (options_.faults.latency.count() > 0) {
        asio::steady_timer delay(strand_, options_.faults.latency);
        co_await delay.async_wait(tuple_awaitable);
        if (stopping_)
            co_return dropped_reply();
    }
    switch (fault) {
        case FaultKind::throttle:
        case FaultKind::qps_limit:
        case FaultKind::rate_limit:
            co_return refuse(errors::throttling_user(options_.faults.throttle_status), request_id);
        case FaultKind::unavailable:
            co_return refuse(errors::service_unavailable(), request_id);
        case FaultKind::reset_before:
            co_return dropped_reply();
        case FaultKind::none:
        case FaultKind::reset_after:
            break;
    }
    if (call.version != "2018-08-08")
        co_return refuse(errors::invalid_version(), request_id);

    ActionOutcome outcome = errors::invalid_action(call.action);
    if (auto handler = actions_.find(call.action); handler != actions_.end())
        outcome = co_await handler->second(std::move(request), request_id);
    if (fault == FaultKind::reset_after)
        co_return dropped_reply();
    if (auto* error = std::get_if<ApiError>(&outcome))
        co_return refuse(*error, request_id);
    co_return Reply{200, boost::json::serialize(std::get<boost::json::value>(outcome))};
}

}  // namespace eci::emulator
