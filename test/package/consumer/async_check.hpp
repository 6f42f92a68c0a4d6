// SPDX-License-Identifier: Apache-2.0
// The consumer's own shared library (eci_consumer_async): it links eci::sandbox, so building it
// proves the library links into a shared object (a position-independent archive, or the
// shared library itself).
#pragma once

#include <eci/config.hpp>

#if defined(_WIN32)
#define ECI_CONSUMER_API
#else
#define ECI_CONSUMER_API __attribute__((visibility("default")))
#endif

/// A client configuration whose endpoint refuses connections at once (127.0.0.1 port 1), so
/// every call ends in a network error and nothing leaves the machine.
ECI_CONSUMER_API eci::ClientConfig eci_consumer_refused_config();

/// Runs one AsyncEciSandbox call on an io_context against a refused loopback port; 0 when it
/// ends in the expected network error, non-zero (and a message on stderr) otherwise.
ECI_CONSUMER_API int eci_consumer_async_check();
