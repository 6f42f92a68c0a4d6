// SPDX-License-Identifier: Apache-2.0
// Server: the state behind an Emulator, put together from its parts, each with its own
// state: Transport (listener, TLS, HTTP sessions), Router (request -> action handler),
// ActionHandlers (the OpenAPI actions), Lifecycle (the sandbox state machine over the
// runtime) and ExecGateway (exec tickets and WebSockets). The Server opens them (credentials,
// state dir, runtime, certificates, listener), starts them and tears them down through one
// path. Everything runs on one strand, so no part needs a lock.
#pragma once

#include "emulator/actions.hpp"
#include "emulator/connection_registry.hpp"
#include "emulator/emulator.hpp"
#include "emulator/exec_gateway.hpp"
#include "emulator/execution.hpp"
#include "emulator/faults.hpp"
#include "emulator/ids.hpp"
#include "emulator/lifecycle.hpp"
#include "emulator/metadata_service.hpp"
#include "emulator/router.hpp"
#include "emulator/sandbox_store.hpp"
#include "emulator/stats.hpp"
#include "emulator/transport.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <memory>
#include <string>

namespace eci::emulator {

class Server : public std::enable_shared_from_this<Server> {
  public:
    Server(boost::asio::any_io_executor executor, EmulatorOptions options);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    /// Generates credentials and certificates, binds the listener. Not on the strand yet.
    Result<void> open();
    /// Starts the accept loop.
    void start();
    /// See Emulator::stop(). The same teardown as close_now().
    boost::asio::awaitable<void> stop();
    /// Synchronous last-resort cleanup (destructor path). The same teardown as stop().
    void close_now();

    const ReadyInfo& ready() const noexcept { return ready_; }
    std::string stats_json() const;
    /// The metadata service's counters; all zero when it is off. Any thread.
    MetadataStats metadata_stats() const noexcept;
    const Strand& strand() const noexcept { return strand_; }

  private:
    /// The one teardown: closes the listener and every connection, forgets every exec
    /// ticket, deletes every sandbox (killing all its processes), shuts the runtime down and
    /// removes a temp state dir it created. Idempotent.
    void teardown();
    /// Makes the state dir (a temp one when none is configured).
    Result<void> open_state_dir();
    /// Creates the runtime and says in ready_ how it isolates and limits sandboxes.
    Result<void> open_runtime();
    /// Generates the certificates, writes the CA file and switches the transport to TLS.
    Result<void> open_tls();
    /// Binds the metadata service's own listener (when enabled) and says where in ready_.
    Result<void> open_metadata();

    Strand strand_;
    EmulatorOptions options_;
    bool stopping_ = false;
    bool stopped_ = false;
    bool owns_state_dir_ = false;
    ReadyInfo ready_;
    Stats stats_;
    IdSource ids_;
    FaultInjector faults_;
    SandboxStore store_;
    ConnectionRegistry connections_;
    Lifecycle lifecycle_;
    ExecGateway exec_;
    ActionHandlers actions_;
    Router router_;
    Transport transport_;
    /// The STS credentials the metadata service issued, which the Router accepts.
    std::shared_ptr<IssuedCredentials> issued_;
    std::unique_ptr<MetadataService> metadata_;  ///< null when --metadata-listen is off
};

}  // namespace eci::emulator
