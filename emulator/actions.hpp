// SPDX-License-Identifier: Apache-2.0
// ActionHandlers: the OpenAPI actions the emulator serves (CreateContainerGroup,
// DescribeContainerGroups, DeleteContainerGroup, RestartContainerGroup, ExecContainerCommand,
// DescribeContainerLog). Each validates its parameters as the service does, reads or
// changes the store, asks the lifecycle or the exec gateway for the rest and builds its
// response from the typed models (lib/core/models_json).
#pragma once

#include "emulator/emulator.hpp"
#include "emulator/exec_gateway.hpp"
#include "emulator/ids.hpp"
#include "emulator/lifecycle.hpp"
#include "emulator/options.hpp"
#include "emulator/router.hpp"
#include "emulator/sandbox_store.hpp"

#include "core/params.hpp"

#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace eci::emulator {

class ActionHandlers {
  public:
    /// `ready` gives the endpoint the exec URLs name (known once the server listens).
    ActionHandlers(const EmulatorOptions& options, const ReadyInfo& ready, SandboxStore& store,
                   IdSource& ids, Lifecycle& lifecycle, ExecGateway& exec);

    /// Draws the default VSwitch, security group and VPC ids new sandboxes get.
    void choose_network_defaults();

    /// Registers every action with `router`.
    void add_routes(Router& router);

  private:
    using Awaitable = boost::asio::awaitable<ActionOutcome>;
    using AsyncHandler = Awaitable (ActionHandlers::*)(IncomingRequest, std::string);
    using SyncHandler = ActionOutcome (ActionHandlers::*)(const IncomingRequest&,
                                                          const std::string&);
    /// Runs an action that never waits as the router's awaitable handler.
    static Awaitable run_sync(ActionHandlers* self, SyncHandler handler, IncomingRequest request,
                              std::string request_id);

    ActionOutcome create_container_group(const IncomingRequest& request,
                                         const std::string& request_id);
    ActionOutcome describe_container_groups(const IncomingRequest& request,
                                            const std::string& request_id);
    Awaitable delete_container_group(IncomingRequest request, std::string request_id);
    ActionOutcome restart_container_group(const IncomingRequest& request,
                                          const std::string& request_id);
    Awaitable exec_container_command(IncomingRequest request, std::string request_id);
    ActionOutcome describe_container_log(const IncomingRequest& request,
                                         const std::string& request_id);

    std::optional<ApiError> check_region(const eci::detail::Params& params, bool required) const;
    std::string new_container_group_id();

    const EmulatorOptions& options_;
    const ReadyInfo& ready_;
    SandboxStore& store_;
    IdSource& ids_;
    Lifecycle& lifecycle_;
    ExecGateway& exec_;
    std::string default_v_switch_id_;
    std::string default_security_group_id_;
    std::string default_vpc_id_;
    std::uint32_t next_ip_index_ = 0;
};

}  // namespace eci::emulator
