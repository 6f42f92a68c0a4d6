// SPDX-License-Identifier: Apache-2.0
#include "net/tls_context.hpp"

#include "net/tls_session_cache.hpp"

#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>

#include <fstream>

namespace eci::detail {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;

namespace {

// The system's trusted CAs, parsed once per process on first use (C++ guarantees the
// initialisation runs once, even with concurrent callers). SSL_CTX_set_default_verify_paths
// parses the whole bundle again for every context: ~250M instructions per client created.
// Never freed: it lives as long as the process and is only read after initialisation.
X509_STORE* system_ca_store() {
    static X509_STORE* const store = [] {
        X509_STORE* loaded = X509_STORE_new();
        // A system without a CA bundle still works with an explicit ca_file, so a failure
        // to load the defaults is not fatal: the handshake reports an untrusted certificate.
        if (loaded != nullptr && X509_STORE_set_default_paths(loaded) != 1)
            ERR_clear_error();
        return loaded;
    }();
    return store;
}

// A fresh store for one context, as SSL_CTX_set_default_verify_paths would build it: the
// system CAs (references to the shared parsed certificates, not copies) and the hashed CA
// directory (read lazily, per lookup). Each context gets its own store, so a client's
// ca_file never becomes trusted by another client.
X509_STORE* new_store_with_system_cas() {
    X509_STORE* store = X509_STORE_new();
    if (store == nullptr)
        return nullptr;
    if (X509_STORE* system = system_ca_store()) {
        STACK_OF(X509)* certificates = X509_STORE_get1_all_certs(system);
        for (int i = 0; certificates != nullptr && i < sk_X509_num(certificates); ++i)
            X509_STORE_add_cert(store, sk_X509_value(certificates, i));
        sk_X509_pop_free(certificates, X509_free);
    }
    if (X509_LOOKUP* directory = X509_STORE_add_lookup(store, X509_LOOKUP_hash_dir()))
        X509_LOOKUP_ctrl(directory, X509_L_ADD_DIR, nullptr, X509_FILETYPE_DEFAULT, nullptr);
    ERR_clear_error();
    return store;
}

}  // namespace

Result<std::shared_ptr<ssl::context>> make_client_tls_context(const TlsClientOptions& options) {
    auto context = std::make_shared<ssl::context>(ssl::context::tls_client);
    boost::system::error_code ec;
    // TLS 1.0 and 1.1 are deprecated (RFC 8996); compression invites CRIME.
    context->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                             ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                             ssl::context::no_tlsv1_1 | ssl::context::no_compression,
                         ec);
    if (!ec)
        SSL_CTX_set_min_proto_version(context->native_handle(), TLS1_2_VERSION);
    if (ec)
        return Error::make(ErrorKind::tls, fmt::format("TLS setup failed: {}", ec.message()));
    enable_tls_session_cache(context->native_handle());

    if (!options.verify_peer) {
        context->set_verify_mode(ssl::verify_none);
        return context;
    }
    context->set_verify_mode(ssl::verify_peer, ec);
    X509_STORE* store = new_store_with_system_cas();
    if (store == nullptr)
        return Error::make(ErrorKind::tls, "TLS setup failed: cannot allocate a CA store");
    SSL_CTX_set_cert_store(context->native_handle(), store);  // takes ownership
    if (!options.ca_file.empty()) {
        // Check readability first so the error says what is wrong with the file, not what
        // OpenSSL's parser thought of an absent one.
        if (!std::ifstream(options.ca_file).good())
            return Error::make(ErrorKind::invalid_argument,
                               fmt::format("cannot read CA file '{}'", options.ca_file));
        context->load_verify_file(options.ca_file, ec);
        if (ec)
            return Error::make(ErrorKind::invalid_argument,
                               fmt::format("CA file '{}' holds no usable PEM certificate: {}",
                                           options.ca_file, ec.message()));
    }
    return context;
}

namespace {

// asio's host_name_verification answers yes or no; OpenSSL then reports a generic "certificate
// verify failed". Recording the cause in the store context lets the error say "hostname
// mismatch".
class HostNameCheck {
  public:
    explicit HostNameCheck(std::string host) : check_(std::move(host)) {}
    bool operator()(bool preverified, ssl::verify_context& context) const {
        bool ok = check_(preverified, context);
        if (preverified && !ok)
            X509_STORE_CTX_set_error(context.native_handle(), X509_V_ERR_HOSTNAME_MISMATCH);
        return ok;
    }

  private:
    ssl::host_name_verification check_;
};

bool is_ip_literal(const std::string& host) {
    boost::system::error_code ec;
    (void)asio::ip::make_address(host, ec);
    return !ec;
}

}  // namespace

Result<void> prepare_tls_connection(TlsStream& stream, const std::string& host,
                                    std::string_view port, bool verify_peer) {
    // SSL_set_tlsext_host_name is a macro with a C cast (-Wold-style-cast): spelled out here.
    if (!is_ip_literal(host) &&
        SSL_ctrl(stream.native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                 const_cast<char*>(host.c_str())) != 1) {
        ERR_clear_error();
        return Error::make(ErrorKind::tls, fmt::format("cannot use '{}' as TLS server name", host));
    }
    if (verify_peer) {
        boost::system::error_code ec;
        stream.set_verify_callback(HostNameCheck(host), ec);
        if (ec)
            return Error::make(
                ErrorKind::tls,
                fmt::format("cannot set up host name verification: {}", ec.message()));
    }
    offer_tls_session(stream.native_handle(), host, port);
    return {};
}

Error tls_handshake_error(SSL* ssl, boost::system::error_code ec, const std::string& endpoint) {
    long verify_result = ssl != nullptr ? SSL_get_verify_result(ssl) : X509_V_OK;
    ERR_clear_error();
    if (verify_result == X509_V_ERR_HOSTNAME_MISMATCH ||
        verify_result == X509_V_ERR_IP_ADDRESS_MISMATCH)
        return Error::make(
            ErrorKind::tls,
            fmt::format("the TLS certificate of {} does not match the host name ({})", endpoint,
                        X509_verify_cert_error_string(verify_result)));
    if (verify_result != X509_V_OK)
        return Error::make(
            ErrorKind::tls,
            fmt::format("the TLS certificate of {} was not trusted ({}); if the server is "
                        "yours, set ECI_SANDBOX_CA_FILE (or TlsConfig::ca_file) to the CA that "
                        "signed it",
                        endpoint, X509_verify_cert_error_string(verify_result)));
    return Error::make(ErrorKind::tls,
                       fmt::format("TLS handshake with {} failed: {}", endpoint, ec.message()));
}

bool is_tls_error(boost::system::error_code ec) noexcept {
    return ec.category() == asio::error::get_ssl_category() ||
           ec.category() == ssl::error::get_stream_category();
}

}  // namespace eci::detail
