// SPDX-License-Identifier: Apache-2.0
// The emulator connection the crash helpers take on their command line, in this order:
// PORT CA_FILE KEY_ID KEY_SECRET REGION OWNER (argv[1] to argv[6]).
#pragma once

#include <eci/config.hpp>

#include <cstdint>
#include <cstdlib>

inline eci::ClientConfig emulator_client_config(char** argv) {
    eci::ClientConfig config;
    config.endpoint.scheme = "https";
    config.endpoint.host = "127.0.0.1";
    config.endpoint.port = static_cast<std::uint16_t>(std::atoi(argv[1]));
    config.tls.ca_file = argv[2];
    config.credentials.access_key_id = argv[3];
    config.credentials.access_key_secret = argv[4];
    config.region_id = argv[5];
    config.lease.owner = argv[6];
    return config;
}
