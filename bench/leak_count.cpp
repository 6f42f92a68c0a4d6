// SPDX-License-Identifier: Apache-2.0
#include "leak_count.hpp"

#include <fmt/format.h>

namespace eci::bench {

boost::asio::awaitable<LeakCount> count_leaked(AsyncEciSandbox& client, std::string prefix) {
    LeakCount count;
    for (int attempt = 0; attempt < 5; ++attempt) {
        auto listed = co_await client.list_all();
        if (!listed.ok()) {
            count.detail = listed.error().to_string();
            continue;
        }
        count.leaked = 0;
        count.detail.clear();
        for (const auto& info : *listed) {
            if (info.name.rfind(prefix, 0) != 0)
                continue;
            ++count.leaked;
            if (count.detail.empty())
                count.detail = fmt::format("{} ({}, {})", info.sandbox_id, info.name, info.status);
        }
        break;
    }
    co_return count;
}

}  // namespace eci::bench
