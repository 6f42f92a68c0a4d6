// SPDX-License-Identifier: Apache-2.0
// The emulator's certificate authority: a throw-away CA and a server certificate signed by
// it (PEM). The emulator serves HTTPS with them and writes the CA to a file for clients; the
// tests' TLS servers use it too (they link the emulator's library). The client library never
// makes certificates, so this lives here, not in lib/. No sockets: only OpenSSL 3's key and
// X.509 API.
#pragma once

#include <eci/result.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace eci::emulator {

/// What the generated server certificate is valid for.
struct CertificateOptions {
    /// DNS names put in the subjectAltName; the first (if any) is also the subject CN.
    std::vector<std::string> dns_names{"localhost"};
    /// IP addresses (IPv4 or IPv6 text) put in the subjectAltName.
    std::vector<std::string> ip_addresses{"127.0.0.1", "::1"};
    /// Both certificates are valid from one hour ago (clock skew) to this many days from now.
    int validity_days = 30;
    /// Subject common name of the CA (shows up in verification errors).
    std::string ca_common_name = "eci-sandbox test CA";
};

/// A CA certificate and a server certificate signed by it, with the server's private key.
/// All three are PEM text. The CA's private key is thrown away after signing.
struct GeneratedCertificates {
    std::string ca_certificate_pem;
    std::string server_certificate_pem;
    std::string server_private_key_pem;  ///< PKCS#8, unencrypted
};

/// Generates a self-signed CA (EC P-256, basicConstraints CA:TRUE) and a server certificate
/// (EC P-256, serverAuth, the given SANs) signed by it.
///
/// Errors: ErrorKind::invalid_argument for an unparsable IP address or an empty SAN list;
/// ErrorKind::service if OpenSSL fails otherwise (message carries OpenSSL's reason).
/// Thread safety: safe to call concurrently.
Result<GeneratedCertificates> generate_certificates(const CertificateOptions& options = {});

/// Writes `pem` to `path` (created or truncated) with permission bits 0644, so that other
/// processes (e.g. a client in a container) can read a CA certificate.
///
/// Errors: ErrorKind::invalid_argument naming the path when it cannot be written.
Result<void> write_pem_file(const std::string& path, std::string_view pem);

}  // namespace eci::emulator
