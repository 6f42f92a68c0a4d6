// SPDX-License-Identifier: Apache-2.0
// Server: the state behind an Emulator (listener, connections, auth, faults, sandboxes,
// exec tickets) and the coroutines that serve it. Everything runs on one strand, so no member
// needs a lock. Split over server.cpp (transport, routing), actions.cpp (the OpenAPI
// actions), lifecycle.cpp (sandbox state machine) and exec_socket.cpp (exec WebSocket).
#pragma once

#include "emulator/api_error.hpp"
#include "emulator/emulator.hpp"
#include "emulator/faults.hpp"
#include "emulator/nonce_cache.hpp"
#include "emulator/request.hpp"
#include "emulator/request_auth.hpp"
#include "emulator/runtime/runtime.hpp"
#include "emulator/sandbox_store.hpp"
#include "emulator/stats.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/strand.hpp>
#include <boost/json/value.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <variant>

namespace eci::emulator {

namespace asio = boost::asio;

/// What an action produced: a success body, or a refusal.
using ActionOutcome = std::variant<boost::json::value, ApiError>;

/// A pending exec WebSocket: what ExecContainerCommand granted.
struct ExecTicket {
    std::string container_group_id;
    std::string container_name;
    std::vector<std::string> command;
    bool stdin = true;
    bool tty = false;
    std::chrono::steady_clock::time_point expires;
};

class Server : public std::enable_shared_from_this<Server> {
  public:
    using Strand = asio::strand<asio::any_io_executor>;

    Server(asio::any_io_executor executor, EmulatorOptions options);
    ~Server();

    /// Generates credentials and certificates, binds the listener. Not on the strand yet.
    Result<void> open();
    /// Starts the accept loop and the housekeeping timer.
    void start();
    /// See Emulator::stop().
    asio::awaitable<void> stop();
    /// Synchronous last-resort cleanup (destructor path).
    void close_now();

    const ReadyInfo& ready() const noexcept { return ready_; }
    std::string stats_json() const;
    const Strand& strand() const noexcept { return strand_; }

    // ---- transport (server.cpp)
    asio::awaitable<void> accept_loop();
    /// One accepted connection's place under the connection limits; released on destruction.
    class ConnectionSlot;
    /// Whether a connection from `peer` fits under the limits; if so it now holds a slot.
    std::unique_ptr<ConnectionSlot> take_connection_slot(const asio::ip::address& peer);
    asio::awaitable<void> serve_connection(asio::ip::tcp::socket socket,
                                           std::unique_ptr<ConnectionSlot> slot);
    template <class Stream>
    asio::awaitable<void> serve_http(Stream stream, std::uint64_t connection_id);

    /// What to do with one API request.
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
    asio::awaitable<Reply> handle_request(IncomingRequest request);

    // ---- actions (actions.cpp)
    asio::awaitable<ActionOutcome> run_action(std::string action, IncomingRequest request,
                                              std::string request_id);
    ActionOutcome create_container_group(const IncomingRequest& request,
                                         const std::string& request_id);
    ActionOutcome describe_container_groups(const IncomingRequest& request,
                                            const std::string& request_id);
    asio::awaitable<ActionOutcome> delete_container_group(IncomingRequest request,
                                                          std::string request_id);
    ActionOutcome restart_container_group(const IncomingRequest& request,
                                          const std::string& request_id);
    asio::awaitable<ActionOutcome> exec_container_command(IncomingRequest request,
                                                          std::string request_id);
    ActionOutcome describe_container_log(const IncomingRequest& request,
                                         const std::string& request_id);

    std::optional<ApiError> check_region(const eci::detail::Params& params, bool required) const;
    void prune_exec_tickets();

    // ---- lifecycle (lifecycle.cpp)
    /// A new sandbox: Pending now, Running after start_delay; arms ActiveDeadlineSeconds.
    void launch(const std::shared_ptr<SandboxEntry>& entry);
    /// RestartContainerGroup: Restarting, then Running with fresh processes.
    void restart(const std::shared_ptr<SandboxEntry>& entry);
    /// DeleteContainerGroup: Terminating (every process killed at once; the caller waits
    /// for settle_processes()), then gone after terminate_delay (a phase when it is not 0).
    void remove(const std::shared_ptr<SandboxEntry>& entry);
    /// Moves the entry's processes to its `dying` list.
    static void take_processes(SandboxEntry& entry);
    /// Kills every process of the sandbox and forgets it at once (stop path).
    void remove_now(const std::shared_ptr<SandboxEntry>& entry);
    enum class Phase { starting, restarting, terminating };
    /// Each phase first waits for settle_processes().
    asio::awaitable<void> run_phase(std::shared_ptr<SandboxEntry> entry, std::uint64_t generation,
                                    Phase phase);
    /// Destroys the entry's `dying` processes (without blocking the server) and waits until
    /// no start of the entry is under way: then no process of the entry's past runs exists.
    asio::awaitable<void> settle_processes(std::shared_ptr<SandboxEntry> entry);
    asio::awaitable<void> watch_deadline(std::shared_ptr<SandboxEntry> entry);
    asio::awaitable<void> start_containers(std::shared_ptr<SandboxEntry> entry,
                                           std::uint64_t generation, bool restarted);
    /// Whether a sandbox of `cpu` vCPU exceeds --max-sandbox-cpu (it cannot be scheduled).
    bool over_cpu_stock(double cpu) const noexcept {
        return options_.max_sandbox_cpu > 0 && cpu > options_.max_sandbox_cpu;
    }
    /// Ends a sandbox that cannot be scheduled as the service does: ScheduleFailed, no
    /// container ever started, a Warning event `NoStock`.
    void fail_scheduling(SandboxEntry& entry);
    void on_main_exit(const std::string& id, std::size_t index, const MainExit& exit);
    void settle(SandboxEntry& entry);
    asio::awaitable<void> restart_container_later(std::shared_ptr<SandboxEntry> entry,
                                                  std::size_t index, std::uint64_t generation,
                                                  std::uint64_t run,
                                                  std::chrono::milliseconds delay);
    /// Kills the entry's processes without waiting (they keep their objects, stopped).
    void stop_processes(SandboxEntry& entry);
    std::size_t live_processes() const;
    /// Runs `command` in the container and returns stdout then stderr (Sync=true exec).
    asio::awaitable<std::variant<std::string, ApiError>> run_sync_exec(
        std::shared_ptr<SandboxEntry> entry, std::string container_name,
        std::vector<std::string> command);
    /// The recent output of the container's main process.
    std::string container_log(const SandboxEntry& entry, const std::string& container_name) const;
    /// The running runtime sandbox of a container, or null.
    std::shared_ptr<SandboxProcesses> container_processes(const SandboxEntry& entry,
                                                          std::string_view container_name) const;

    // ---- exec WebSocket (exec_socket.cpp)
    template <class Stream, class Request>
    asio::awaitable<void> serve_exec(Stream stream, Request request);

    // ---- helpers
    std::string new_request_id();
    std::string new_container_group_id();
    std::string host_id() const;
    std::string error_body(const std::string& request_id, const ApiError& error);
    std::string now_rfc3339() const;

    Strand strand_;
    EmulatorOptions options_;
    ReadyInfo ready_;
    asio::ip::tcp::acceptor acceptor_;
    std::optional<asio::ssl::context> ssl_;
    AuthConfig auth_;
    NonceCache nonces_;
    FaultInjector faults_;
    Stats stats_;
    SandboxStore store_;
    std::map<std::string, ExecTicket, std::less<>> exec_tickets_;
    std::map<std::uint64_t, std::function<void()>> connections_;  ///< id -> close it
    std::uint64_t next_connection_id_ = 1;
    std::size_t connection_limit_ = 0;  ///< max_connections, capped by RLIMIT_NOFILE (open())
    std::size_t open_connections_ = 0;  ///< accepted and not yet closed (slots held)
    std::map<asio::ip::address, std::size_t> connections_per_peer_;
    std::unique_ptr<Runtime> runtime_;
    std::mt19937_64 ids_;
    std::string default_v_switch_id_;
    std::string default_security_group_id_;
    std::string default_vpc_id_;
    std::uint32_t next_ip_index_ = 0;
    bool stopping_ = false;
    bool stopped_ = false;
    bool owns_state_dir_ = false;
};

}  // namespace eci::emulator
