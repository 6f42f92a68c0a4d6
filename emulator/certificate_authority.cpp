// SPDX-License-Identifier: Apache-2.0
#include "emulator/certificate_authority.hpp"

#include <fmt/format.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace eci::emulator {
namespace {

struct OpenSslDeleter {
    void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
    void operator()(X509* cert) const { X509_free(cert); }
    void operator()(BIO* bio) const { BIO_free(bio); }
    void operator()(X509_EXTENSION* extension) const { X509_EXTENSION_free(extension); }
    void operator()(BIGNUM* number) const { BN_free(number); }
};
using KeyPtr = std::unique_ptr<EVP_PKEY, OpenSslDeleter>;
using CertPtr = std::unique_ptr<X509, OpenSslDeleter>;
using BioPtr = std::unique_ptr<BIO, OpenSslDeleter>;
using ExtensionPtr = std::unique_ptr<X509_EXTENSION, OpenSslDeleter>;
using BignumPtr = std::unique_ptr<BIGNUM, OpenSslDeleter>;

// The most recent OpenSSL error as text (and clears the queue so it does not leak into the
// next caller's diagnostics).
std::string openssl_reason() {
    unsigned long code = ERR_get_error();
    ERR_clear_error();
    if (code == 0)
        return "unknown OpenSSL error";
    char text[256];
    ERR_error_string_n(code, text, sizeof text);
    return text;
}

Error openssl_failure(std::string_view what) {
    return Error::make(ErrorKind::service, fmt::format("{} failed: {}", what, openssl_reason()));
}

KeyPtr make_p256_key() {
    return KeyPtr(EVP_EC_gen("P-256"));
}

bool set_random_serial(X509* cert) {
    // 16 random bytes, top bit cleared so the INTEGER stays positive (RFC 5280 4.1.2.2).
    unsigned char bytes[16];
    if (RAND_bytes(bytes, sizeof bytes) != 1)
        return false;
    bytes[0] &= 0x7f;
    BignumPtr number(BN_bin2bn(bytes, sizeof bytes, nullptr));
    return number && BN_to_ASN1_INTEGER(number.get(), X509_get_serialNumber(cert)) != nullptr;
}

bool set_common_name(X509_NAME* name, const std::string& common_name) {
    return X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                      reinterpret_cast<const unsigned char*>(common_name.c_str()),
                                      -1, -1, 0) == 1;
}

// Adds one v3 extension given in openssl.cnf syntax; `issuer` provides the key identifier
// for authorityKeyIdentifier (the certificate itself when self-signed).
bool add_extension(X509* cert, X509* issuer, int nid, const std::string& value) {
    X509V3_CTX context;
    X509V3_set_ctx_nodb(&context);
    X509V3_set_ctx(&context, issuer, cert, nullptr, nullptr, 0);
    ExtensionPtr extension(X509V3_EXT_conf_nid(nullptr, &context, nid, value.c_str()));
    return extension && X509_add_ext(cert, extension.get(), -1) == 1;
}

Result<CertPtr> make_certificate(EVP_PKEY* key, const std::string& common_name, int days) {
    CertPtr cert(X509_new());
    if (!cert || X509_set_version(cert.get(), 2) != 1 || !set_random_serial(cert.get()))
        return openssl_failure("creating a certificate");
    // One hour of slack for a peer whose clock is behind ours.
    if (!X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600) ||
        !X509_time_adj_ex(X509_getm_notAfter(cert.get()), days, 0, nullptr))
        return openssl_failure("setting the validity period");
    if (!set_common_name(X509_get_subject_name(cert.get()), common_name))
        return openssl_failure("setting the subject name");
    if (X509_set_pubkey(cert.get(), key) != 1)
        return openssl_failure("setting the public key");
    return cert;
}

Result<std::string> to_pem(X509* cert) {
    BioPtr bio(BIO_new(BIO_s_mem()));
    if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1)
        return openssl_failure("encoding a certificate");
    char* data = nullptr;
    long size = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(size));
}

Result<std::string> to_pem(EVP_PKEY* key) {
    BioPtr bio(BIO_new(BIO_s_mem()));
    if (!bio ||
        PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1)
        return openssl_failure("encoding a private key");
    char* data = nullptr;
    long size = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(size));
}

Result<std::string> subject_alt_names(const CertificateOptions& options) {
    std::string names;
    auto append = [&names](std::string_view type, const std::string& value) {
        if (!names.empty())
            names += ',';
        names += fmt::format("{}:{}", type, value);
    };
    for (const auto& dns : options.dns_names)
        append("DNS", dns);
    for (const auto& ip : options.ip_addresses) {
        ASN1_OCTET_STRING* parsed = a2i_IPADDRESS(ip.c_str());
        ASN1_OCTET_STRING_free(parsed);
        if (parsed == nullptr)
            return Error::make(ErrorKind::invalid_argument,
                               fmt::format("'{}' is not an IP address", ip));
        append("IP", ip);
    }
    if (names.empty())
        return Error::make(ErrorKind::invalid_argument,
                           "a server certificate needs at least one DNS name or IP address");
    return names;
}

}  // namespace

Result<GeneratedCertificates> generate_certificates(const CertificateOptions& options) {
    auto alt_names = subject_alt_names(options);
    if (!alt_names)
        return std::move(alt_names).error();
    ERR_clear_error();

    // The CA: self-signed, allowed to sign server certificates and nothing below them.
    KeyPtr ca_key = make_p256_key();
    if (!ca_key)
        return openssl_failure("generating the CA key");
    auto ca = make_certificate(ca_key.get(), options.ca_common_name, options.validity_days);
    if (!ca)
        return std::move(ca).error();
    X509* ca_cert = ca->get();
    if (X509_set_issuer_name(ca_cert, X509_get_subject_name(ca_cert)) != 1 ||
        !add_extension(ca_cert, ca_cert, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") ||
        !add_extension(ca_cert, ca_cert, NID_key_usage, "critical,keyCertSign,cRLSign") ||
        !add_extension(ca_cert, ca_cert, NID_subject_key_identifier, "hash") ||
        !add_extension(ca_cert, ca_cert, NID_authority_key_identifier, "keyid:always"))
        return openssl_failure("adding the CA extensions");
    if (X509_sign(ca_cert, ca_key.get(), EVP_sha256()) == 0)
        return openssl_failure("signing the CA certificate");

    // The server certificate, signed by the CA.
    KeyPtr server_key = make_p256_key();
    if (!server_key)
        return openssl_failure("generating the server key");
    const std::string server_name =
        options.dns_names.empty() ? options.ip_addresses.front() : options.dns_names.front();
    auto server = make_certificate(server_key.get(), server_name, options.validity_days);
    if (!server)
        return std::move(server).error();
    X509* server_cert = server->get();
    if (X509_set_issuer_name(server_cert, X509_get_subject_name(ca_cert)) != 1 ||
        !add_extension(server_cert, ca_cert, NID_basic_constraints, "critical,CA:FALSE") ||
        !add_extension(server_cert, ca_cert, NID_key_usage, "critical,digitalSignature") ||
        !add_extension(server_cert, ca_cert, NID_ext_key_usage, "serverAuth") ||
        !add_extension(server_cert, ca_cert, NID_subject_key_identifier, "hash") ||
        !add_extension(server_cert, ca_cert, NID_authority_key_identifier, "keyid:always") ||
        !add_extension(server_cert, ca_cert, NID_subject_alt_name, *alt_names))
        return openssl_failure("adding the server certificate extensions");
    if (X509_sign(server_cert, ca_key.get(), EVP_sha256()) == 0)
        return openssl_failure("signing the server certificate");

    GeneratedCertificates result;
    auto ca_pem = to_pem(ca_cert);
    auto server_pem = to_pem(server_cert);
    auto key_pem = to_pem(server_key.get());
    if (!ca_pem)
        return std::move(ca_pem).error();
    if (!server_pem)
        return std::move(server_pem).error();
    if (!key_pem)
        return std::move(key_pem).error();
    result.ca_certificate_pem = std::move(*ca_pem);
    result.server_certificate_pem = std::move(*server_pem);
    result.server_private_key_pem = std::move(*key_pem);
    return result;
}

Result<void> write_pem_file(const std::string& path, std::string_view pem) {
    auto failure = [&path](int error_number) {
        return Error::make(
            ErrorKind::invalid_argument,
            fmt::format("cannot write PEM file '{}': {}", path, std::strerror(error_number)));
    };
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return failure(errno);
    // The umask may have narrowed the mode given to open(); a CA file must be world-readable.
    if (::fchmod(fd, 0644) != 0) {
        int error_number = errno;
        ::close(fd);
        return failure(error_number);
    }
    std::size_t written = 0;
    while (written < pem.size()) {
        ssize_t n = ::write(fd, pem.data() + written, pem.size() - written);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            int error_number = errno;
            ::close(fd);
            return failure(error_number);
        }
        written += static_cast<std::size_t>(n);
    }
    if (::close(fd) != 0)
        return failure(errno);
    return {};
}

}  // namespace eci::emulator
