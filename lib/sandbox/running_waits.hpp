// SPDX-License-Identifier: Apache-2.0
// The client's shared wait for Running: every sandbox of one AsyncEciSandbox that is waiting
// is polled by DescribeContainerGroups calls of up to 20 ids, each sandbox on its own backoff
// (core/poll_batch.hpp). 1000 waiters polling alone cost the service about 200 calls a second
// against a DescribeContainerGroups limit of about 33 (2000 a minute); batched, a tenth.
#pragma once

#include <eci/async_sandbox.hpp>
#include <eci/result.hpp>

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <memory>
#include <string>

namespace eci::detail {

struct RunningWaits;

/// Waits until `sandbox_id` is Running (its info), reaches a terminal status (a service error
/// naming it and the reason), is not found, a describe fails after its retries, `timeout`
/// passes (a timeout error with the last status seen) or the caller cancels (cancelled).
boost::asio::awaitable<Result<SandboxInfo>> wait_running_shared(
    std::shared_ptr<AsyncEciSandbox::State> state, std::string sandbox_id,
    std::chrono::milliseconds timeout);

}  // namespace eci::detail
