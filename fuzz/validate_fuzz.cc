// Feeds arbitrary bytes to the dataset validator in every format mode: it must never crash, leak,
// hang or allocate without bound, whatever the input.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <nlohmann/json.hpp>

#include "data/validator.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  lathe::data::ValidateOptions opt;
  opt.max_line_bytes = 4096;  // small, so the too-long path is reached too
  opt.max_record_tokens = 64;
  // The first byte picks the format mode, so every decoder is exercised.
  if (!bytes.empty()) {
    opt.format = static_cast<lathe::data::Format>(static_cast<uint8_t>(bytes[0]) % 5);
    opt.purpose = (bytes[0] & 8) ? lathe::data::Purpose::kValidation : lathe::data::Purpose::kTraining;
  }
  lathe::data::FileReport r = lathe::data::ValidateBuffer(bytes, "fuzz.jsonl", opt);
  (void)lathe::data::FormatReport(r);
  // Throws if any message carries invalid UTF-8 (it must not: they are printed and sent as JSON).
  (void)lathe::data::ReportToJson(r).dump();
  return 0;
}
