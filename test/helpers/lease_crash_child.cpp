// SPDX-License-Identifier: Apache-2.0
// A process that creates sandboxes against an emulator and then waits to be killed: the
// leases integration test SIGKILLs it and checks that reap() finds exactly its sandboxes.
//
// Usage: eci-lease-crash-child PORT CA_FILE KEY_ID KEY_SECRET REGION OWNER COUNT OTHER_OWNER
// Creates COUNT sandboxes owned by OWNER and one owned by OTHER_OWNER (through a caller tag),
// all with a one-hour lease; prints each id as "OWNER ID" on a line, then "ready", and
// sleeps until killed. Exits 2 on a usage or create error.
#include "emulator_client_args.hpp"

#include <eci/sandbox.hpp>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

int main(int argc, char** argv) {
    if (argc != 9) {
        std::fprintf(stderr, "usage: %s PORT CA KEY_ID SECRET REGION OWNER COUNT OTHER\n", argv[0]);
        return 2;
    }
    auto config = emulator_client_config(argv);
    const int count = std::atoi(argv[7]);
    const std::string other_owner = argv[8];

    auto client = eci::EciSandbox::from_config(config);
    if (!client) {
        std::fprintf(stderr, "client: %s\n", client.error().to_string().c_str());
        return 2;
    }
    for (int i = 0; i <= count; ++i) {
        eci::CreateOptions options;
        options.image = "registry.example/ubuntu:22.04";
        options.lease = std::chrono::hours(1);
        std::string owner = config.lease.owner;
        if (i == count) {
            owner = other_owner;
            options.tags.push_back({std::string(eci::lease_tags::owner), owner});
        }
        auto created = client->create(options);
        if (!created) {
            std::fprintf(stderr, "create: %s\n", created.error().to_string().c_str());
            return 2;
        }
        std::printf("%s %s\n", owner.c_str(), created->id().c_str());
    }
    std::printf("ready\n");
    std::fflush(stdout);
    for (;;)
        ::pause();
}
