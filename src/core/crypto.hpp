#pragma once
// Small crypto helpers over libsodium: random tokens, hashing, constant-time comparison.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace ruche::core {

// Initialises libsodium; safe to call many times. Returns false if the library cannot start.
bool InitCrypto();

// `bytes` random bytes, URL-safe base64 without padding (for tokens, session ids, device ids).
std::string RandomToken(size_t bytes);

// Random string of `length` characters from [A-Z] (Matrix-style device ids).
std::string RandomUpperAlpha(size_t length);

// SHA-256 of `data`, lowercase hex. Tokens are stored as this, never in clear.
std::string Sha256Hex(std::string_view data);

bool ConstantTimeEquals(std::string_view a, std::string_view b);

// Standard base64 (RFC 4648 §4, padding optional) to bytes; nullopt when malformed.
std::optional<std::string> Base64Decode(std::string_view in);

// argon2id cost of new password hashes. The defaults are libsodium's INTERACTIVE limits;
// lower values exist for load tests that register thousands of users (config keys
// auth.password_hash_ops / auth.password_hash_mem_kib), never below libsodium's minimums.
struct PasswordHashCost {
  uint64_t ops = 2;                     // crypto_pwhash_OPSLIMIT_INTERACTIVE
  size_t mem_bytes = 64 * 1024 * 1024;  // crypto_pwhash_MEMLIMIT_INTERACTIVE
};
inline constexpr uint64_t kPasswordHashMinOps = 1;        // crypto_pwhash_OPSLIMIT_MIN
inline constexpr size_t kPasswordHashMinMemBytes = 8192;  // crypto_pwhash_MEMLIMIT_MIN

// argon2id password hash in libsodium's self-describing string form (the cost is recorded in
// it, so verification needs no configuration). Slow on purpose (~64 MiB, tens of ms with the
// default cost): call off the I/O threads. A cost below the minimums is an error.
Result<std::string> HashPassword(std::string_view password, const PasswordHashCost& cost = {});
bool VerifyPassword(std::string_view hash, std::string_view password);

}  // namespace ruche::core
