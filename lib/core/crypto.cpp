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

std::string to_hex(const unsigned char* data, std::size_t size) {
    std::string out;
    out.reserve(size * 2);
    for (std::size_t i = 0; i < size; ++i) {
        out += lower_hex[data[i] >> 4];
        out += lower_hex[data[i] & 0x0F];
    }
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
    unsigned int size = 0;
    const auto hash = digest(fetched_sha256(), data, size);
    return to_hex(hash.data(), size);
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
    EVP_MAC_CTX* keyed = nullptr;  // initialised with the key; duplicated per MAC
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
        delete context_;
        context_ = nullptr;
    }
}

namespace {

// MAC of `data` with a copy of the keyed context (the original stays ready for the next).
std::array<unsigned char, EVP_MAX_MD_SIZE> keyed_mac(EVP_MAC_CTX* keyed, std::string_view data,
                                                     std::size_t& size) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
    size = 0;
    EVP_MAC_CTX* context = EVP_MAC_CTX_dup(keyed);
    if (context == nullptr)
        throw std::bad_alloc();
    const bool ok = EVP_MAC_update(context, bytes(data), data.size()) == 1 &&
                    EVP_MAC_final(context, out.data(), &size, out.size()) == 1;
    EVP_MAC_CTX_free(context);
    if (!ok)
        throw std::bad_alloc();
    return out;
}

}  // namespace

std::string HmacKey::hex(std::string_view data) const {
    std::size_t size = 0;
    const auto mac = keyed_mac(context_->keyed, data, size);
    return to_hex(mac.data(), size);
}

std::string HmacKey::base64(std::string_view data) const {
    std::size_t size = 0;
    const auto mac = keyed_mac(context_->keyed, data, size);
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
