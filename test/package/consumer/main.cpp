// SPDX-License-Identifier: Apache-2.0
// Built against eci-sandbox the ways docs/getting-started.md gives (find_package, pkg-config,
// FetchContent, the .deb): the umbrella header gives the whole API, the target or .pc file
// brings the separate-compilation definitions, and real calls run through the library's
// compiled Asio/Beast/OpenSSL (a refused loopback connection, so nothing leaves the machine),
// blocking here and async in the consumer's own shared library (async_check.cpp).
#include "async_check.hpp"

#include <eci/sandbox.hpp>
#include <eci/version.hpp>

#ifndef BOOST_ASIO_SEPARATE_COMPILATION
#error "eci::sandbox must export BOOST_ASIO_SEPARATE_COMPILATION"
#endif
#ifndef BOOST_BEAST_SEPARATE_COMPILATION
#error "eci::sandbox must export BOOST_BEAST_SEPARATE_COMPILATION"
#endif

#include <fmt/core.h>

#include <string>

int main() {
    if (eci::version() != eci::version_string) {
        fmt::print(stderr, "header version {} but library version {}\n", eci::version_string,
                   eci::version());
        return 1;
    }
    const eci::ClientConfig config = eci_consumer_refused_config();

    auto client = eci::EciSandbox::from_config(config);
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
    if (int rc = eci_consumer_async_check(); rc != 0) {
        fmt::print(stderr, "the async check failed ({})\n", rc);
        return 1;
    }
    fmt::print("eci-sandbox {}: {}, async ok\n", eci::version(), eci::to_string(info.error().kind));
    return 0;
}
