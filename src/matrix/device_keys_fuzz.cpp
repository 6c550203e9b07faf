// libFuzzer target: untrusted key uploads (what /keys/upload, /keys/device_signing/upload and
// /keys/signatures/upload receive) through every check of device_keys.hpp. Must never crash;
// an object the checks accept must verify its own self-signature again.
#include <cstdint>
#include <cstdlib>

#include "core/crypto.hpp"
#include "core/json.hpp"
#include "matrix/device_keys.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace json = ruche::core::json;
  namespace m = ruche::matrix;
  static bool crypto = ruche::core::InitCrypto();
  if (!crypto || size > 1 << 16) {
    return 0;
  }
  auto obj =
      ruche::core::ParseJsonObject(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!obj) {
    return 0;
  }
  const std::string user = "@alice:example.org";
  std::string device = "DEVICEA";
  if (const json::value* d = obj->if_contains("device_id"); d && d->is_string()) {
    device = std::string(d->get_string());
  }
  auto checked = m::CheckDeviceKeys(*obj, user, device);
  if (checked) {
    std::string key = m::DeviceSigningKey(*checked, device);
    if (key.empty() || !m::VerifySignature(*checked, user, "ed25519:" + device, key)) {
      std::abort();
    }
  }
  for (const char* usage : {"master", "self_signing", "user_signing"}) {
    (void)m::CheckCrossSigningKey(*obj, user, usage);
  }
  if (const json::value* sigs = obj->if_contains("signatures")) {
    (void)m::ValidateSignatures(*sigs);
  }
  for (const auto& [name, value] : *obj) {
    (void)m::CheckUploadedKey(name, value);
  }
  return 0;
}
