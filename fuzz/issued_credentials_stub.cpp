// SPDX-License-Identifier: Apache-2.0
// The emulator_request fuzzer links request_auth.cpp, which accepts the metadata service's
// issued STS keys through IssuedCredentials::find. That class lives in
// emulator/metadata_service.cpp with the service's coroutines, which clang's sanitized fuzz
// build cannot assemble ("Cannot represent a difference across sections"). The fuzzer never
// sets AuthConfig::issued, so find is never called: this definition only satisfies the linker.
// Moving IssuedCredentials into a sans-io file of its own would make this stub unnecessary.
#include "emulator/metadata_service.hpp"

namespace eci::emulator {

std::optional<IssuedCredential> IssuedCredentials::find(std::string_view) const {
    return std::nullopt;
}

}  // namespace eci::emulator
