// SPDX-License-Identifier: Apache-2.0
// The shared state behind eci::OpenApiClient: configuration, the pooled HTTP client, the
// shared throttle gate and the counters. One per client; copies of the client share it.
#pragma once

#include <eci/openapi_client.hpp>

#include "api/credentials_provider.hpp"
#include "async/async_semaphore.hpp"
#include "core/crypto.hpp"
#include "core/rate_limiter.hpp"
#include "core/retry.hpp"
#include "core/signing.hpp"
#include "net/http_client.hpp"

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <random>
#include <string>

namespace eci {

struct OpenApiClient::State {
    State(boost::asio::any_io_executor executor_in, ClientConfig config_in, Logger logger_in,
          detail::HttpClient http_in, std::shared_ptr<detail::CredentialsProvider> credentials_in);

    boost::asio::any_io_executor executor;
    ClientConfig config;
    Logger logger;
    detail::HttpClient http;
    detail::RetryPolicy retry_policy;
    detail::ThrottleGate throttle_gate;
    detail::RateLimiter rate_limiter;   ///< client-side pacing per action (RateLimitConfig)
    detail::AsyncSemaphore call_slots;  ///< RateLimitConfig::max_concurrent calls in flight
    std::string host_header;            ///< host[:port] exactly as signed and sent
    std::mt19937_64 random;             ///< jitter only; nonces come from the OS CSPRNG
    ClientStats stats;                  ///< the API counters (transport counters live in `http`)
    /// The credentials each attempt signs with (with their MAC key): the configured keys, or
    /// the ECS RAM role's, refreshed before they expire.
    std::shared_ptr<detail::CredentialsProvider> credentials;
    detail::NonceSource nonces;           ///< SignatureNonce per attempt
    detail::Acs3Scratch signing_scratch;  ///< ACS3 signing buffers, reused per attempt
    /// The last x-acs-date/Timestamp rendered and the second it stands for: calls within one
    /// second reuse the text.
    std::chrono::system_clock::time_point date_second{};
    std::string date_text;
};

namespace detail {

/// Maps the public configuration onto the transport's options.
HttpClientOptions http_options_for(const ClientConfig& config);

}  // namespace detail
}  // namespace eci
