#include "core/crypto.hpp"

#include <sodium.h>

namespace ruche::core {

bool InitCrypto() { return sodium_init() >= 0; }

std::string RandomToken(size_t bytes) {
  std::string raw(bytes, '\0');
  randombytes_buf(raw.data(), raw.size());
  std::string out(sodium_base64_ENCODED_LEN(bytes, sodium_base64_VARIANT_URLSAFE_NO_PADDING), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(raw.data()),
                    raw.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  out.resize(std::char_traits<char>::length(out.c_str()));
  return out;
}

std::string RandomUpperAlpha(size_t length) {
  std::string out(length, 'A');
  for (auto& c : out) {
    c = static_cast<char>('A' + randombytes_uniform(26));
  }
  return out;
}

std::string Sha256Hex(std::string_view data) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(data.data()), data.size());
  std::string hex(sizeof digest * 2 + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), digest, sizeof digest);
  hex.pop_back();
  return hex;
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

static_assert(PasswordHashCost{}.ops == crypto_pwhash_OPSLIMIT_INTERACTIVE);
static_assert(PasswordHashCost{}.mem_bytes == crypto_pwhash_MEMLIMIT_INTERACTIVE);
static_assert(kPasswordHashMinOps == crypto_pwhash_OPSLIMIT_MIN);
static_assert(kPasswordHashMinMemBytes == crypto_pwhash_MEMLIMIT_MIN);

Result<std::string> HashPassword(std::string_view password, const PasswordHashCost& cost) {
  if (cost.ops < kPasswordHashMinOps || cost.mem_bytes < kPasswordHashMinMemBytes ||
      cost.ops > crypto_pwhash_OPSLIMIT_MAX || cost.mem_bytes > crypto_pwhash_MEMLIMIT_MAX) {
    return Error::Internal("argon2id cost out of libsodium's bounds");
  }
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str(out, password.data(), password.size(), cost.ops, cost.mem_bytes) != 0) {
    return Error::Unavailable("out of memory while hashing a password");
  }
  return std::string(out);
}

bool VerifyPassword(std::string_view hash, std::string_view password) {
  std::string h(hash);  // libsodium wants a NUL-terminated string
  return crypto_pwhash_str_verify(h.c_str(), password.data(), password.size()) == 0;
}

}  // namespace ruche::core

namespace ruche::core {

std::optional<std::string> Base64Decode(std::string_view in) {
  std::string out(in.size() / 4 * 3 + 3, '\0');
  size_t len = 0;
  const char* end = nullptr;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), in.data(),
                        in.size(), nullptr, &len, &end, sodium_base64_VARIANT_ORIGINAL) != 0 &&
      sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), in.data(),
                        in.size(), nullptr, &len, &end,
                        sodium_base64_VARIANT_ORIGINAL_NO_PADDING) != 0) {
    return std::nullopt;
  }
  if (end != in.data() + in.size()) {
    return std::nullopt;
  }
  out.resize(len);
  return out;
}

}  // namespace ruche::core
