// SPDX-License-Identifier: Apache-2.0
// eci::emulator::Emulator: the ECI OpenAPI emulator as a library object. Tests, the demo and
// `eci-emulator` start it on an executor, read where it listens from ready(), and stop it.
#pragma once

#include "emulator/metadata_service.hpp"
#include "emulator/options.hpp"

#include <eci/result.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <memory>
#include <string>

namespace eci::emulator {

/// Where and how a started emulator serves, and the credentials it accepts.
struct ReadyInfo {
    std::string endpoint;  ///< "127.0.0.1:PORT" (host as bound, port as assigned)
    std::string scheme;    ///< "https" or "http"
    std::string ca_file;   ///< path of the CA PEM; empty when TLS is off
    std::string ca_pem;    ///< the CA certificate itself; empty when TLS is off
    std::string region_id;
    std::string access_key_id;
    std::string access_key_secret;
    std::string security_token;  ///< as configured; empty = none required
    /// "namespaces" (isolated sandboxes) or "none" (degraded mode: sandboxes contain
    /// nothing, see isolation_warning).
    std::string isolation;
    std::string isolation_warning;  ///< why isolation is "none"; empty when isolated
    std::string sandbox_network;    ///< "none" (private, loopback only) or "host"
    /// How Cpu, Memory and the pids limit are enforced ("cgroup v1 (pids, memory, cpu)",
    /// "cgroup v2 (...)") or "none".
    std::string limits;
    /// "on": each sandbox has its own user namespace, its root is host uid/gid
    /// userns_base + 65536 x n; "off": root in a sandbox is the host's root (degraded mode,
    /// --sandbox-userns off, or the kernel refused: then userns_warning says why).
    std::string userns;
    std::uint32_t userns_base = 0;  ///< 0 when userns is "off"
    std::string userns_warning;     ///< isolated without user namespaces: why
    std::uint16_t port = 0;
    /// "127.0.0.1:PORT" of the metadata service (http://); empty when it is off.
    std::string metadata_endpoint;

    /// The single JSON line `eci-emulator` prints when ready (without the newline):
    /// {"endpoint","scheme","ca_file","region_id","access_key_id","access_key_secret",
    ///  "isolation","sandbox_network","limits","userns"[,"userns_base"][,"userns_warning"]
    ///  [,"isolation_warning"][,"metadata_endpoint"]}.
    std::string to_json_line() const;
};

class Server;

class Emulator {
  public:
    /// Binds the listener, generates the TLS CA (writing it to the state dir) and starts
    /// serving on a strand of `executor`; returns once the port is bound, so ready() is valid
    /// immediately. The caller runs the executor's io_context.
    /// Errors: invalid_argument for a non-loopback listen address without allow_remote, a
    /// state dir that cannot be written, or a failed bind; tls if certificates cannot be
    /// generated.
    /// Thread safety: call from any thread; the emulator's own work runs on its strand.
    static Result<std::unique_ptr<Emulator>> start(boost::asio::any_io_executor executor,
                                                   EmulatorOptions options);

    /// Stops serving: closes the listener and every connection, deletes every sandbox
    /// (killing all its processes) and removes a temp state dir it created. Idempotent.
    /// Completes when all that is done. Cancellation: not supported (it is short).
    boost::asio::awaitable<void> stop();

    /// Connection details. Thread safety: immutable after start.
    const ReadyInfo& ready() const noexcept;

    /// The metadata service's counters (all zero when it is off). Thread safety: any thread.
    MetadataStats metadata_stats() const noexcept;

    /// The /_emulator/stats JSON document, for tests and tools. Call from the strand or
    /// while the io_context is not running.
    std::string stats_json() const;

    /// Destroy after stop() completed, or after the io_context stopped running: a running
    /// emulator that is destroyed only closes what it can synchronously.
    ~Emulator();
    Emulator(const Emulator&) = delete;
    Emulator& operator=(const Emulator&) = delete;

  private:
    explicit Emulator(std::shared_ptr<Server> server);
    std::shared_ptr<Server> server_;
};

}  // namespace eci::emulator
