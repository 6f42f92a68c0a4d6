// SPDX-License-Identifier: Apache-2.0
// AsyncEciSandbox::logs: a container's log through DescribeContainerLog, with the container
// name defaulting to the sandbox's first container as exec does.
#include <eci/async_sandbox.hpp>

#include "sandbox/exec_runner.hpp"
#include "sandbox/sandbox_state.hpp"

#include <fmt/format.h>

#include <optional>
#include <string>
#include <utility>

namespace eci {

namespace {

// The service's documented bounds, checked before any call: a bad value is the caller's
// mistake, not a service error after a round trip.
std::optional<Error> check_range(std::string_view name, const std::optional<int>& value, int min,
                                 int max) {
    if (!value || (*value >= min && *value <= max))
        return std::nullopt;
    return Error::make(ErrorKind::invalid_argument,
                       fmt::format("logs: {} must be in [{}, {}]", name, min, max));
}

}  // namespace

boost::asio::awaitable<Result<ContainerLog>> AsyncEciSandbox::logs(std::string sandbox_id,
                                                                   LogOptions options) {
    if (sandbox_id.empty())
        co_return Error::make(ErrorKind::invalid_argument, "logs: sandbox_id is required");
    for (auto problem : {check_range("tail", options.tail, 1, 2000),
                         check_range("since_seconds", options.since_seconds, 1, 1 << 30),
                         check_range("limit_bytes", options.limit_bytes, 1, 1048576)}) {
        if (problem)
            co_return std::move(*problem);
    }
    auto container = co_await detail::resolve_container_name(state_, sandbox_id,
                                                             std::move(options.container_name));
    if (!container.ok())
        co_return std::move(container).error();
    DescribeContainerLogRequest request;
    request.container_group_id = std::move(sandbox_id);
    request.container_name = std::move(container).value();
    request.tail = options.tail;
    request.since_seconds = options.since_seconds;
    request.limit_bytes = options.limit_bytes;
    if (options.timestamps)
        request.timestamps = true;
    if (options.previous)
        request.last_time = true;
    auto api = state_->api;  // a handle: the call needs a mutable one
    auto reply = co_await api.describe_container_log(std::move(request));
    if (!reply.ok())
        co_return std::move(reply).error();
    co_return ContainerLog{std::move(reply->container_name), std::move(reply->content),
                           std::move(reply->request_id)};
}

}  // namespace eci
