// SPDX-License-Identifier: Apache-2.0
// How the parts of the emulator's server run: every part works on one strand (so no member
// of any part needs a lock), and a coroutine a part starts keeps the whole server alive
// while it runs (the parts are members of Server; a coroutine outlives the call that
// started it).
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/strand.hpp>

#include <functional>
#include <memory>

namespace eci::emulator {

using Strand = boost::asio::strand<boost::asio::any_io_executor>;

/// Returns a reference that keeps the server (and so the part that holds it) alive. Call it
/// first thing in a coroutine of a part, and hold the result until the coroutine ends.
using KeepAlive = std::function<std::shared_ptr<const void>()>;

}  // namespace eci::emulator
