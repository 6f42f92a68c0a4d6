// SPDX-License-Identifier: Apache-2.0
// ExecGateway: the exec WebSocket side of the emulator. ExecContainerCommand grants a
// single-use ticket here; the WebSocket upgrade of `/exec/?s=TOKEN` redeems it, runs the
// granted command in the container and relays its streams (exec_gateway.cpp says how).
#pragma once

#include "emulator/connection_registry.hpp"
#include "emulator/exec_tickets.hpp"
#include "emulator/execution.hpp"
#include "emulator/faults.hpp"
#include "emulator/lifecycle.hpp"
#include "emulator/options.hpp"
#include "emulator/sandbox_store.hpp"
#include "emulator/stats.hpp"

#include <boost/asio/awaitable.hpp>

#include <cstddef>
#include <optional>
#include <string>

namespace eci::emulator {

class ExecGateway {
  public:
    ExecGateway(Strand strand, const EmulatorOptions& options, SandboxStore& store,
                Lifecycle& lifecycle, FaultInjector& faults, Stats& stats,
                ConnectionRegistry& connections, KeepAlive keep_alive);

    /// Grants an exec WebSocket for `ticket` (its `expires` is set here, exec_url_ttl from
    /// now) and returns the token of its URL; nullopt when no token could be made.
    std::optional<std::string> grant(ExecTicket ticket);

    /// Serves one WebSocket upgrade request on `stream` (already read, HTTP or TLS): refuses
    /// an unknown, used or expired URL with a plain HTTP error, otherwise runs the command
    /// and relays it until it ends. Instantiated for Beast's tcp_stream and its TLS stream
    /// with an http::request<http::string_body>.
    template <class Stream, class Request>
    boost::asio::awaitable<void> serve(Stream stream, Request request);

    /// Forgets every granted ticket (the server's teardown).
    void clear_tickets() noexcept { tickets_.clear(); }
    std::size_t pending_tickets() const noexcept { return tickets_.size(); }

  private:
    Strand strand_;
    const EmulatorOptions& options_;
    SandboxStore& store_;
    Lifecycle& lifecycle_;
    FaultInjector& faults_;
    Stats& stats_;
    ConnectionRegistry& connections_;
    KeepAlive keep_alive_;
    ExecTickets tickets_;
};

}  // namespace eci::emulator
