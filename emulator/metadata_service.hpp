// SPDX-License-Identifier: Apache-2.0
// The emulator's ECS instance metadata service: a plain-HTTP listener of its own that serves
// what the library's ECS RAM-role credentials need (IMDSv2 session tokens, the attached role,
// the role's STS credentials), and the store of the STS credentials it issued, which the API's
// authentication accepts until they expire (docs/emulator.md, "Metadata service").
#pragma once

#include "emulator/execution.hpp"
#include "emulator/options.hpp"

#include <eci/result.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace eci::emulator {

/// One set of STS credentials handed out for the role.
struct IssuedCredential {
    std::string access_key_id;                         ///< "STS.emu..."
    std::string access_key_secret;                     ///< never logged
    std::string security_token;                        ///< never logged
    std::chrono::system_clock::time_point expiration;  ///< whole seconds, as the service says
};

/// The STS credentials issued so far: the metadata listener adds, the API's authentication
/// looks up, both on the server's strand (so no lock).
class IssuedCredentials {
  public:
    /// New random credentials valid for `ttl` from `now` (the expiration rounded down to a
    /// whole second, as the service's Expiration text has no fraction).
    IssuedCredential issue(std::chrono::seconds ttl, std::chrono::system_clock::time_point now);
    /// The credentials with this id, expired or not; nullopt when never issued.
    std::optional<IssuedCredential> find(std::string_view access_key_id) const;

  private:
    std::map<std::string, IssuedCredential, std::less<>> by_id_;
};

/// Requests served, per kind (tests count fetches with them).
struct MetadataStats {
    std::uint64_t token_requests = 0;       ///< PUT /latest/api/token answered 200
    std::uint64_t role_list_requests = 0;   ///< GET .../security-credentials/ answered 200
    std::uint64_t credential_requests = 0;  ///< GET .../security-credentials/<role> answered 200
    std::uint64_t without_token = 0;        ///< GETs that carried no token (IMDSv1)
    std::uint64_t refused = 0;              ///< answered 4xx
};

/// Part of the emulator's Server (emulator/server.hpp): it runs on the server's strand, the
/// server opens and starts it with its own listener and closes it in its one teardown.
class MetadataService {
  public:
    /// Binds the listener (not accepting yet). Not on the strand yet.
    /// Errors: invalid_argument for a non-loopback address without `allow_remote`, or a
    /// failed bind (naming the address).
    static Result<std::unique_ptr<MetadataService>> open(Strand strand, MetadataOptions options,
                                                         bool allow_remote,
                                                         std::shared_ptr<IssuedCredentials> issued);

    /// Starts accepting (on the strand).
    void start();
    /// Closes the listener and every connection; their coroutines notice. Idempotent. On
    /// the strand, or while the io_context is not running.
    void close();

    /// "host:port" as bound (for http://).
    const std::string& endpoint() const noexcept;
    /// Any thread.
    MetadataStats stats() const noexcept;

    ~MetadataService();
    MetadataService(const MetadataService&) = delete;
    MetadataService& operator=(const MetadataService&) = delete;

    struct State;

  private:
    explicit MetadataService(std::shared_ptr<State> state);
    std::shared_ptr<State> state_;
};

}  // namespace eci::emulator
