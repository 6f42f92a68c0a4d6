// SPDX-License-Identifier: Apache-2.0
#include <eci/call_hook.hpp>

namespace eci {

std::string_view to_string(CallPhase phase) noexcept {
    switch (phase) {
        case CallPhase::start:
            return "start";
        case CallPhase::end:
            return "end";
        case CallPhase::error:
            return "error";
    }
    return "unknown";
}

}  // namespace eci
