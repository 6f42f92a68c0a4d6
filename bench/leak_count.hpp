// SPDX-License-Identifier: Apache-2.0
// What a benchmark left behind: its own sandboxes (by name prefix) still listed at the end.
#pragma once

#include <eci/sandbox_client.hpp>

#include <boost/asio/awaitable.hpp>

#include <string>

namespace eci::bench {

struct LeakCount {
    int leaked = -1;     ///< sandboxes whose name starts with the prefix; -1 = no listing worked
    std::string detail;  ///< the first one left (id, name, status), or the last listing error
};

/// Lists every sandbox (up to 5 tries: the listing may run under the bench's own faults) and
/// counts those named `prefix`*.
boost::asio::awaitable<LeakCount> count_leaked(AsyncEciSandbox& client, std::string prefix);

}  // namespace eci::bench
