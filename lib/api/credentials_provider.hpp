// SPDX-License-Identifier: Apache-2.0
// CredentialsProvider: what the signed client asks before each attempt for the credentials to
// sign with. Static keys are handed out as configured; an ECS RAM role's STS credentials are
// fetched from the instance metadata service, cached, and refreshed before they expire, with
// one fetch in flight shared by every caller (docs/configuration.md, "ECS RAM role"). The
// decisions (parse, schedule) are lib/core/ecs_metadata's; this carries them out.
#pragma once

#include <eci/config.hpp>
#include <eci/logger.hpp>
#include <eci/result.hpp>

#include "core/crypto.hpp"
#include "core/ecs_metadata.hpp"
#include "net/http_client.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace eci::detail {

/// Credentials and the MAC keyed by their secret for the configured signature version.
/// Immutable once made: an attempt keeps its copy while a refresh replaces the provider's.
struct SigningCredentials {
    SigningCredentials(Credentials credentials_in, SignatureVersion version);
    Credentials credentials;
    HmacKey mac;
};

class CredentialsProvider {
  public:
    /// Builds the provider of `config.credential_source`. Errors: invalid_argument for a bad
    /// metadata endpoint. Nothing is fetched until the first get().
    static Result<std::shared_ptr<CredentialsProvider>> create(
        boost::asio::any_io_executor executor, const ClientConfig& config, Logger logger);

    /// The credentials to sign the next attempt with: the cached ones while fresh; otherwise
    /// a fetch (one at a time: concurrent callers wait for the one in flight and share its
    /// outcome). Credentials near their expiry are used if their refresh fails (a warning is
    /// logged), expired ones never.
    /// Errors (dispatch not_sent; messages never hold a secret or token): network or timeout
    /// when the metadata service cannot be reached within EcsMetadataConfig::timeout per
    /// request; auth when it has no role or refuses; protocol for an unreadable answer;
    /// cancelled. Cancellation: terminal, of the awaiting coroutine (a fetch it started is
    /// abandoned; waiters then start their own).
    /// Thread safety: as the client, one thread (or strand).
    boost::asio::awaitable<Result<std::shared_ptr<const SigningCredentials>>> get();

    /// The cached credentials when they need no fetch at `now` (always for static keys),
    /// else null: the caller then awaits get(). Spares a coroutine frame per attempt.
    std::shared_ptr<const SigningCredentials> fresh(
        std::chrono::steady_clock::time_point now) const {
        return credential_action(current_ != nullptr, schedule_, now) == CredentialAction::use
                   ? current_
                   : nullptr;
    }

    /// Successful fetches of RAM-role credentials so far (0 for static keys).
    std::uint64_t fetches() const noexcept { return fetches_; }

    CredentialsProvider(boost::asio::any_io_executor executor, const ClientConfig& config,
                        Logger logger, std::optional<HttpClient> http, std::string display);

  private:
    boost::asio::awaitable<Result<RoleCredentials>> fetch();
    boost::asio::awaitable<Result<HttpResponse>> exchange(HttpRequest request);
    Error failure(ErrorKind kind, std::string what) const;

    SignatureVersion signature_version_;
    EcsMetadataConfig metadata_;
    Logger logger_;
    std::optional<HttpClient> http_;  ///< to the metadata service; none for static keys
    std::string display_;             ///< "http://host:port" of the metadata service
    std::string role_;                ///< the configured or discovered role name
    std::shared_ptr<const SigningCredentials> current_;
    CredentialSchedule schedule_{};
    bool fetching_ = false;
    std::uint64_t generation_ = 0;  ///< fetches finished (either way)
    std::optional<Error> last_error_;
    boost::asio::steady_timer fetch_done_;  ///< waiters wait on it; cancelled when a fetch ends
    std::uint64_t fetches_ = 0;
};

}  // namespace eci::detail
