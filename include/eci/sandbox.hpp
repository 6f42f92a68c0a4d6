// SPDX-License-Identifier: Apache-2.0
// The umbrella header: every public header of eci-sandbox.
#pragma once

#include <eci/async_sandbox.hpp>
#include <eci/blocking.hpp>
#include <eci/call_hook.hpp>
#include <eci/command.hpp>
#include <eci/config.hpp>
#include <eci/error.hpp>
#include <eci/interactive_exec.hpp>
#include <eci/latency_histogram.hpp>
#include <eci/logger.hpp>
#include <eci/models.hpp>
#include <eci/openapi_client.hpp>
#include <eci/reaper.hpp>
#include <eci/result.hpp>
#include <eci/sandbox_client.hpp>
#include <eci/sandbox_guard.hpp>
#include <eci/sandbox_pool.hpp>
#include <eci/sandbox_types.hpp>
#include <eci/shell_session.hpp>
#include <eci/text.hpp>
#include <eci/tmux.hpp>
#include <eci/tree_transfer.hpp>
#include <eci/version.hpp>
