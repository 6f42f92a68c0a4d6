// SPDX-License-Identifier: Apache-2.0
// The hashes, MACs and random bytes request signing needs (OpenSSL 3 underneath). Every
// function is thread-safe and treats its inputs as raw bytes. The hash and MAC functions never
// fail on their input; they throw only std::bad_alloc (OpenSSL out of memory).
#pragma once

#include <eci/result.hpp>

#include <cstddef>
#include <string>
#include <string_view>

namespace eci::detail {

/// Lower-case hex SHA-256 of `data` (64 characters). Empty input gives
/// `e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855`.
std::string sha256_hex(std::string_view data);

/// sha256_hex(data) appended to `out`.
void append_sha256_hex(std::string& out, std::string_view data);

/// SHA-256 over data fed in pieces (a file streamed in chunks): the same hash as sha256_hex of
/// the concatenation. Thread safety: none. Throws std::bad_alloc only (OpenSSL out of memory).
class Sha256 {
  public:
    Sha256();
    Sha256(Sha256&& other) noexcept;
    Sha256& operator=(Sha256&& other) noexcept;
    Sha256(const Sha256&) = delete;
    Sha256& operator=(const Sha256&) = delete;
    ~Sha256();

    void update(std::string_view data);
    /// Lower-case hex of everything fed so far; the hasher then starts over (empty).
    std::string finish_hex();

  private:
    void* context_ = nullptr;  // EVP_MD_CTX, kept out of this header
};

/// Lower-case hex HMAC-SHA256 of `data` under `key` (64 characters).
std::string hmac_sha256_hex(std::string_view key, std::string_view data);

/// Standard Base64 of HMAC-SHA1 of `data` under `key` (28 characters).
std::string hmac_sha1_base64(std::string_view key, std::string_view data);

/// The hash functions an HmacKey computes with.
enum class HmacAlgorithm { sha1, sha256 };

/// An HMAC key prepared once for many MACs: the key schedule (the hashed inner and outer
/// pads) is computed at construction and copied per MAC, so signing with a constant secret
/// skips re-keying and OpenSSL's algorithm look-up on every call. Gives the same MACs as
/// hmac_sha256_hex / hmac_sha1_base64 with the same key.
///
/// Thread safety: none: a MAC re-initialises one working context instead of copying the
/// keyed one (one key per client, used on its executor). Holds a copy of the key inside
/// OpenSSL's contexts (never logged); moving transfers it, destruction frees it.
class HmacKey {
  public:
    /// Throws std::bad_alloc when OpenSSL cannot allocate the context.
    HmacKey(HmacAlgorithm algorithm, std::string_view key);
    HmacKey(HmacKey&& other) noexcept;
    HmacKey& operator=(HmacKey&& other) noexcept;
    HmacKey(const HmacKey&) = delete;
    HmacKey& operator=(const HmacKey&) = delete;
    ~HmacKey();

    /// Lower-case hex MAC of `data` (64 characters for sha256, 40 for sha1).
    std::string hex(std::string_view data) const;
    /// Standard Base64 MAC of `data` (44 characters for sha256, 28 for sha1).
    std::string base64(std::string_view data) const;

  private:
    struct Context;
    Context* context_ = nullptr;
};

/// `n_bytes` bytes from OpenSSL's CSPRNG as lower-case hex (2 * n_bytes characters), e.g.
/// a signature nonce. Errors: ErrorKind::invalid_argument when n_bytes exceeds 64 KiB;
/// ErrorKind::tls when OpenSSL's generator fails (it is not seeded): OpenSSL is the TLS
/// library, and that kind sends the caller to check it.
Result<std::string> random_hex(std::size_t n_bytes);

/// Random lower-case hex nonces, 32 characters each (16 bytes), served from a buffer that
/// is refilled from OpenSSL's CSPRNG every 64 nonces instead of a RAND_bytes call per nonce.
/// Each nonce is as unpredictable as random_hex(16)'s; none is ever handed out twice.
///
/// Thread safety: none (one per client, used on its executor).
class NonceSource {
  public:
    /// A fresh nonce. Errors: as random_hex (ErrorKind::tls when the CSPRNG fails).
    Result<std::string> next();

  private:
    static constexpr std::size_t nonce_bytes = 16;
    static constexpr std::size_t batch = 64;
    unsigned char buffer_[nonce_bytes * batch] = {};
    std::size_t used_ = batch;  // nonces taken from buffer_; == batch: refill first
};

/// Compares two byte strings in time that depends only on their lengths (never on where
/// they differ), for checking signatures. Different lengths compare unequal at once: a
/// signature's length is public.
bool constant_time_equal(std::string_view a, std::string_view b) noexcept;

}  // namespace eci::detail
