#pragma once
// Small crypto helpers over libsodium: random tokens, hashing, constant-time comparison.
#include <cstddef>
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

// argon2id password hash in libsodium's self-describing string form. Slow on purpose
// (~64 MiB, tens of ms): call off the I/O threads.
Result<std::string> HashPassword(std::string_view password);
bool VerifyPassword(std::string_view hash, std::string_view password);

}  // namespace ruche::core
