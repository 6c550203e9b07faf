// libFuzzer target: every client message of the meeting signalling protocol.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "meet/signalling_messages.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto m =
      ruche::meet::ParseClientMessage(std::string_view(reinterpret_cast<const char*>(data), size));
  if (m && m->display_name && (m->display_name->empty() || m->display_name->size() > 256)) {
    __builtin_trap();  // the validator's promise
  }
  return 0;
}
