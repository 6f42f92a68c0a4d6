// SPDX-License-Identifier: Apache-2.0
// Generated certificates form a chain OpenSSL accepts, for the names they claim.
#include "emulator/certificate_authority.hpp"

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include <sys/stat.h>
#include <unistd.h>

using eci::emulator::CertificateOptions;
using eci::emulator::generate_certificates;

namespace {

struct X509Deleter {
    void operator()(X509* cert) const { X509_free(cert); }
};
using X509Ptr = std::unique_ptr<X509, X509Deleter>;

X509Ptr parse(const std::string& pem) {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(
        BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), &BIO_free);
    return X509Ptr(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
}

// X509_verify_cert of `server` against a store holding only `ca`; the verify error code.
int verify(X509* ca, X509* server, const char* host) {
    std::unique_ptr<X509_STORE, decltype(&X509_STORE_free)> store(X509_STORE_new(),
                                                                  &X509_STORE_free);
    X509_STORE_add_cert(store.get(), ca);
    std::unique_ptr<X509_STORE_CTX, decltype(&X509_STORE_CTX_free)> context(X509_STORE_CTX_new(),
                                                                            &X509_STORE_CTX_free);
    X509_STORE_CTX_init(context.get(), store.get(), server, nullptr);
    X509_VERIFY_PARAM_set_purpose(X509_STORE_CTX_get0_param(context.get()),
                                  X509_PURPOSE_SSL_SERVER);
    if (host != nullptr)
        X509_VERIFY_PARAM_set1_host(X509_STORE_CTX_get0_param(context.get()), host, 0);
    int ok = X509_verify_cert(context.get());
    return ok == 1 ? X509_V_OK : X509_STORE_CTX_get_error(context.get());
}

}  // namespace

TEST_CASE("certificates: the server certificate verifies against the generated CA",
          "[certificates]") {
    auto generated = generate_certificates();
    REQUIRE(generated.ok());
    auto ca = parse(generated->ca_certificate_pem);
    auto server = parse(generated->server_certificate_pem);
    REQUIRE(ca);
    REQUIRE(server);
    CHECK(verify(ca.get(), server.get(), "localhost") == X509_V_OK);
    CHECK(verify(ca.get(), server.get(), "example.com") == X509_V_ERR_HOSTNAME_MISMATCH);
    CHECK(generated->server_private_key_pem.find("BEGIN PRIVATE KEY") != std::string::npos);

    // Another run's CA does not vouch for this server.
    auto other = generate_certificates();
    REQUIRE(other.ok());
    auto other_ca = parse(other->ca_certificate_pem);
    CHECK(verify(other_ca.get(), server.get(), nullptr) != X509_V_OK);
}

TEST_CASE("certificates: the requested SANs are present and nothing else matches",
          "[certificates]") {
    CertificateOptions options;
    options.dns_names = {"localhost", "eci.test"};
    options.ip_addresses = {"127.0.0.1", "::1"};
    auto generated = generate_certificates(options);
    REQUIRE(generated.ok());
    auto server = parse(generated->server_certificate_pem);
    REQUIRE(server);
    CHECK(X509_check_host(server.get(), "localhost", 0, 0, nullptr) == 1);
    CHECK(X509_check_host(server.get(), "eci.test", 0, 0, nullptr) == 1);
    CHECK(X509_check_host(server.get(), "other.test", 0, 0, nullptr) == 0);
    CHECK(X509_check_ip_asc(server.get(), "127.0.0.1", 0) == 1);
    CHECK(X509_check_ip_asc(server.get(), "::1", 0) == 1);
    CHECK(X509_check_ip_asc(server.get(), "10.0.0.1", 0) == 0);
    // Valid now (notBefore is an hour back for clock skew).
    CHECK(X509_cmp_current_time(X509_get0_notBefore(server.get())) < 0);
    CHECK(X509_cmp_current_time(X509_get0_notAfter(server.get())) > 0);
}

TEST_CASE("certificates: a bad IP address or an empty name list is refused", "[certificates]") {
    CertificateOptions bad_ip;
    bad_ip.ip_addresses = {"not-an-ip"};
    auto result = generate_certificates(bad_ip);
    REQUIRE_FALSE(result.ok());
    CHECK(result.error().kind == eci::ErrorKind::invalid_argument);
    CHECK(result.error().message.find("not-an-ip") != std::string::npos);

    CertificateOptions empty;
    empty.dns_names.clear();
    empty.ip_addresses.clear();
    CHECK(generate_certificates(empty).error().kind == eci::ErrorKind::invalid_argument);
}

TEST_CASE("certificates: write_pem_file writes a world-readable file", "[certificates]") {
    auto path = (std::filesystem::temp_directory_path() /
                 ("eci-certificates-test-" + std::to_string(::getpid()) + ".pem"))
                    .string();
    ::mode_t previous = ::umask(077);  // must not narrow the mode of a CA file
    auto written = eci::emulator::write_pem_file(path, "PEM TEXT\n");
    ::umask(previous);
    REQUIRE(written.ok());
    struct ::stat info {};
    REQUIRE(::stat(path.c_str(), &info) == 0);
    CHECK((info.st_mode & 0777) == 0644);
    std::ifstream in(path);
    std::stringstream content;
    content << in.rdbuf();
    CHECK(content.str() == "PEM TEXT\n");
    std::filesystem::remove(path);

    auto refused = eci::emulator::write_pem_file("/nonexistent-dir/ca.pem", "x");
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().kind == eci::ErrorKind::invalid_argument);
    CHECK(refused.error().message.find("/nonexistent-dir/ca.pem") != std::string::npos);
}
