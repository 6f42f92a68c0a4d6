// SPDX-License-Identifier: Apache-2.0
#include "core/crypto.hpp"

#include "core/encoding.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include <array>
#include <climits>
#include <memory>
#include <new>
#include <utility>
#include <vector>

namespace eci::detail {

namespace {

constexpr std::string_view lower_hex = "0123456789abcdef";

void append_hex(std::string& out, const unsigned char* data, std::size_t size) {
    const std::size_t start = out.size();
    out.resize(start + size * 2);
    char* hex = out.data() + start;
    for (std::size_t i = 0; i < size; ++i) {
        hex[2 * i] = lower_hex[data[i] >> 4];
        hex[2 * i + 1] = lower_hex[data[i] & 0x0F];
    }
}

std::string to_hex(const unsigned char* data, std::size_t size) {
    std::string out;
    append_hex(out, data, size);
    return out;
}

const unsigned char* bytes(std::string_view text) {
    // An empty view may hold a null pointer; OpenSSL wants a valid one even for 0 bytes
    // (HMAC with a null key means "reuse the previous key", not "empty key").
    static constexpr unsigned char empty[1] = {0};
    return text.empty() ? empty : reinterpret_cast<const unsigned char*>(text.data());
}

// SHA-256 fetched once: EVP_sha256() makes every EVP_Digest look the algorithm up again
// (OpenSSL 3's implicit fetch, with its locks and property matching).
const EVP_MD* fetched_sha256() {
    static EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    return md != nullptr ? md : EVP_sha256();
}

std::array<unsigned char, EVP_MAX_MD_SIZE> digest(const EVP_MD* md, std::string_view data,
                                                  unsigned int& size) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
    size = 0;
    // Only an allocation failure inside OpenSSL makes a digest fail.
    if (EVP_Digest(bytes(data), data.size(), out.data(), &size, md, nullptr) != 1) {
        throw std::bad_alloc();
    }
    return out;
}

// One-shot HMAC (not deprecated in OpenSSL 3, unlike HMAC_CTX).
std::array<unsigned char, EVP_MAX_MD_SIZE> hmac(const EVP_MD* md, std::string_view key,
                                                std::string_view data, unsigned int& size) {
    if (key.size() > static_cast<std::size_t>(INT_MAX)) {
        // HMAC replaces a key longer than the block size by its digest (RFC 2104 §2), so
        // doing it here gives the same MAC without passing OpenSSL an int that overflows.
        unsigned int key_size = 0;
        const auto hashed = digest(md, key, key_size);
        return hmac(md, std::string_view(reinterpret_cast<const char*>(hashed.data()), key_size),
                    data, size);
    }
    std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
    size = 0;
    if (HMAC(md, bytes(key), static_cast<int>(key.size()), bytes(data), data.size(), out.data(),
             &size) == nullptr) {
        throw std::bad_alloc();  // as in digest(): only an allocation failure gets here
    }
    return out;
}

}  // namespace

std::string sha256_hex(std::string_view data) {
    std::string out;
    append_sha256_hex(out, data);
    return out;
}

Sha256::Sha256() : context_(EVP_MD_CTX_new()) {
    if (context_ == nullptr ||
        EVP_DigestInit_ex(static_cast<EVP_MD_CTX*>(context_), fetched_sha256(), nullptr) != 1) {
        EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(context_));
        throw std::bad_alloc();
    }
}

Sha256::Sha256(Sha256&& other) noexcept : context_(std::exchange(other.context_, nullptr)) {}

Sha256& Sha256::operator=(Sha256&& other) noexcept {
    if (this != &other) {
        EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(context_));
        context_ = std::exchange(other.context_, nullptr);
    }
    return *this;
}

Sha256::~Sha256() {
    EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(context_));
}

void Sha256::update(std::string_view data) {
    if (EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(context_), bytes(data), data.size()) != 1)
        throw std::bad_alloc();
}

std::string Sha256::finish_hex() {
    auto* context = static_cast<EVP_MD_CTX*>(context_);
    std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
    unsigned int size = 0;
    if (EVP_DigestFinal_ex(context, out.data(), &size) != 1 ||
        EVP_DigestInit_ex(context, fetched_sha256(), nullptr) != 1) {
        throw std::bad_alloc();
    }
    return to_hex(out.data(), size);
}

void append_sha256_hex(std::string& out, std::string_view data) {
    unsigned int size = 0;
    const auto hash = digest(fetched_sha256(), data, size);
    append_hex(out, hash.data(), size);
}

std::string hmac_sha256_hex(std::string_view key, std::string_view data) {
    unsigned int size = 0;
    const auto mac = hmac(EVP_sha256(), key, data, size);
    return to_hex(mac.data(), size);
}

std::string hmac_sha1_base64(std::string_view key, std::string_view data) {
    unsigned int size = 0;
    const auto mac = hmac(EVP_sha1(), key, data, size);
    return base64_encode(std::string_view(reinterpret_cast<const char*>(mac.data()), size));
}

struct HmacKey::Context {
    EVP_MAC_CTX* keyed = nullptr;  // initialised with the key; never used for a MAC itself
    // A copy of `keyed` that computes the MACs: EVP_MAC_init without a key brings it back to
    // the keyed state after each MAC (no context copy, no allocation per MAC). Null until the
    // first MAC, and after a failed re-initialisation (the next MAC copies `keyed` again).
    EVP_MAC_CTX* work = nullptr;
};

HmacKey::HmacKey(HmacAlgorithm algorithm, std::string_view key) {
    static EVP_MAC* const mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    if (mac == nullptr)
        throw std::bad_alloc();
    auto context = std::make_unique<Context>();
    context->keyed = EVP_MAC_CTX_new(mac);
    if (context->keyed == nullptr)
        throw std::bad_alloc();
    char sha1[] = "SHA1";
    char sha256[] = "SHA256";
    const OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                                         algorithm == HmacAlgorithm::sha1 ? sha1 : sha256, 0),
        OSSL_PARAM_construct_end()};
    if (EVP_MAC_init(context->keyed, bytes(key), key.size(), params) != 1) {
        EVP_MAC_CTX_free(context->keyed);
        throw std::bad_alloc();  // as in digest(): only an allocation failure gets here
    }
    context_ = context.release();
}

HmacKey::HmacKey(HmacKey&& other) noexcept : context_(std::exchange(other.context_, nullptr)) {}

HmacKey& HmacKey::operator=(HmacKey&& other) noexcept {
    if (this != &other) {
        this->~HmacKey();
        context_ = std::exchange(other.context_, nullptr);
    }
    return *this;
}

HmacKey::~HmacKey() {
    if (context_ != nullptr) {
        EVP_MAC_CTX_free(context_->keyed);
        EVP_MAC_CTX_free(context_->work);
        delete context_;
        context_ = nullptr;
    }
}

namespace {

// MAC of `data` on the working context (see HmacKey::Context), left ready for the next.
std::array<unsigned char, EVP_MAX_MD_SIZE> keyed_mac(EVP_MAC_CTX* keyed, EVP_MAC_CTX*& work,
                                                     std::string_view data, std::size_t& size) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
    size = 0;
    if (work == nullptr) {
        work = EVP_MAC_CTX_dup(keyed);
        if (work == nullptr)
            throw std::bad_alloc();
    }
    const bool ok = EVP_MAC_update(work, bytes(data), data.size()) == 1 &&
                    EVP_MAC_final(work, out.data(), &size, out.size()) == 1;
    if (!ok || EVP_MAC_init(work, nullptr, 0, nullptr) != 1) {
        EVP_MAC_CTX_free(work);
        work = nullptr;
    }
    if (!ok)
        throw std::bad_alloc();
    return out;
}

}  // namespace

std::string HmacKey::hex(std::string_view data) const {
    std::size_t size = 0;
    const auto mac = keyed_mac(context_->keyed, context_->work, data, size);
    return to_hex(mac.data(), size);
}

std::string HmacKey::base64(std::string_view data) const {
    std::size_t size = 0;
    const auto mac = keyed_mac(context_->keyed, context_->work, data, size);
    return base64_encode(std::string_view(reinterpret_cast<const char*>(mac.data()), size));
}

Result<std::string> NonceSource::next() {
    if (used_ == batch) {
        if (RAND_bytes(buffer_, static_cast<int>(sizeof buffer_)) != 1)
            return Error::make(ErrorKind::tls, "OpenSSL's random generator failed (RAND_bytes)");
        used_ = 0;
    }
    unsigned char* nonce = buffer_ + used_ * nonce_bytes;
    std::string out = to_hex(nonce, nonce_bytes);
    OPENSSL_cleanse(nonce, nonce_bytes);  // handed out once: no copy stays behind
    ++used_;
    return out;
}

Result<std::string> random_hex(std::size_t n_bytes) {
    constexpr std::size_t max_bytes = 64 * 1024;
    if (n_bytes > max_bytes) {
        return Error::make(ErrorKind::invalid_argument, "random_hex: too many bytes requested");
    }
    std::vector<unsigned char> buffer(n_bytes == 0 ? 1 : n_bytes);
    if (n_bytes > 0 && RAND_bytes(buffer.data(), static_cast<int>(n_bytes)) != 1) {
        return Error::make(ErrorKind::tls, "OpenSSL's random generator failed (RAND_bytes)");
    }
    return to_hex(buffer.data(), n_bytes);
}

bool constant_time_equal(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size())
        return false;
    if (a.empty())
        return true;
    return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace eci::detail
