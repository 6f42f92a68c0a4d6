// SPDX-License-Identifier: Apache-2.0
// Built against an installed eci-sandbox: the umbrella header gives the whole API, the
// exported target brings the separate-compilation definitions, and a real call runs through
// the library's compiled Asio/Beast/OpenSSL (a refused loopback connection, so nothing leaves
// the machine).
#include <eci/sandbox.hpp>
#include <eci/version.hpp>

#ifndef BOOST_ASIO_SEPARATE_COMPILATION
#error "eci::sandbox must export BOOST_ASIO_SEPARATE_COMPILATION"
#endif
#ifndef BOOST_BEAST_SEPARATE_COMPILATION
#error "eci::sandbox must export BOOST_BEAST_SEPARATE_COMPILATION"
#endif

#include <fmt/core.h>

#include <chrono>
#include <string>

int main() {
    if (eci::version() != eci::version_string) {
        fmt::print(stderr, "header version {} but library version {}\n", eci::version_string,
                   eci::version());
        return 1;
    }
    eci::ClientConfig config;
    config.credentials.access_key_id = "LTAIconsumer0000";
    config.credentials.access_key_secret = "consumer-secret";
    config.region_id = "cn-hangzhou";
    config.endpoint.scheme = "http";
    config.endpoint.host = "127.0.0.1";
    config.endpoint.port = 1;  // nothing listens on port 1: connect is refused at once
    config.retry.enabled = false;
    config.timeouts.connect = std::chrono::seconds(5);

    auto client = eci::EciSandbox::create(config);
    if (!client) {
        fmt::print(stderr, "create failed: {}\n", client.error().to_string());
        return 1;
    }
    auto info = client->get_sandbox("eci-consumer-none");
    if (info.ok() || info.error().kind != eci::ErrorKind::network) {
        fmt::print(stderr, "expected a network error, got {}\n",
                   info.ok() ? std::string("success") : info.error().to_string());
        return 1;
    }
    fmt::print("eci-sandbox {}: {}\n", eci::version(), eci::to_string(info.error().kind));
    return 0;
}
