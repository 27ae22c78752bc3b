// Arbitrary bytes as a safetensors file: the header parser must reject or accept, never crash,
// hang or allocate without bound. Compiles safetensors.cc alone (no torch).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "engine/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  lathe::engine::SafetensorsHeader header;
  lathe::Status s = lathe::engine::ParseSafetensorsHeader(bytes, bytes.size(), "fuzz.safetensors", &header);
  if (s.ok()) {
    // Whatever parsed must lie inside the buffer.
    for (const auto& t : header.tensors)
      if (header.data_offset + t.end > size) __builtin_trap();
  }
  return 0;
}
