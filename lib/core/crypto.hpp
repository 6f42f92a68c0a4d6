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

/// Lower-case hex HMAC-SHA256 of `data` under `key` (64 characters).
std::string hmac_sha256_hex(std::string_view key, std::string_view data);

/// Standard Base64 of HMAC-SHA1 of `data` under `key` (28 characters).
std::string hmac_sha1_base64(std::string_view key, std::string_view data);

/// `n_bytes` bytes from OpenSSL's CSPRNG as lower-case hex (2 * n_bytes characters), e.g.
/// a signature nonce. Errors: ErrorKind::invalid_argument when n_bytes exceeds 64 KiB;
/// ErrorKind::tls when OpenSSL's generator fails (it is not seeded): OpenSSL is the TLS
/// library, and that kind sends the caller to check it.
Result<std::string> random_hex(std::size_t n_bytes);

/// Compares two byte strings in time that depends only on their lengths (never on where
/// they differ), for checking signatures. Different lengths compare unequal at once: a
/// signature's length is public.
bool constant_time_equal(std::string_view a, std::string_view b) noexcept;

}  // namespace eci::detail
