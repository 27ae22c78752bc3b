// Arbitrary bytes as the model files lathe imports and exports: a GGUF header (and, when one
// parses, its tensors dequantized from the bytes present and its BPE vocabulary rebuilt as a
// tokenizer.json), a SentencePiece tokenizer.model, and a tokenizer.json turned into GGUF's BPE
// vocabulary. Each must reject or accept, never crash, hang or allocate without bound. The first
// byte picks the parser.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/gguf.h"
#include "engine/gguf_bpe_vocab.h"
#include "text/spm_model_proto.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] & 1) {
    lathe::text::SpmModelProto m;
    if (lathe::text::ParseSpmModelProto(bytes, "fuzz.model", &m).ok()) {
      lathe::text::SpmModelProto again;
      // What was read writes back to bytes that read the same.
      if (!lathe::text::ParseSpmModelProto(lathe::text::SerializeSpmModelProto(m), "again", &again).ok() ||
          again.pieces.size() != m.pieces.size())
        __builtin_trap();
    }
    return 0;
  }
  if (data[0] & 2) {
    auto v = lathe::engine::BpeVocabFromTokenizerJson(std::string(bytes), 4096, "fuzz.json");
    if (v.ok()) (void)lathe::engine::HfTokenizerFromBpeVocab(*v, 0, 1, "fuzz.json");
    return 0;
  }
  lathe::engine::GgufFile g;
  if (!lathe::engine::ParseGguf(bytes, bytes.size(), "fuzz.gguf", &g).ok()) return 0;
  if (auto v = lathe::engine::BpeVocabFromGguf(g, "fuzz.gguf"); v.ok())
    (void)lathe::engine::HfTokenizerFromBpeVocab(*v, 0, 1, "fuzz.gguf");
  for (const auto& t : g.tensors) {
    if (g.data_offset + t.offset + t.bytes > bytes.size()) __builtin_trap();  // must lie inside the file
    if (t.numel() > (1u << 16)) continue;
    std::vector<float> out(t.numel());
    lathe::engine::DequantizeGguf(static_cast<lathe::engine::GgmlType>(t.type),
                                  bytes.substr(g.data_offset + t.offset, t.bytes), t.numel(), out.data());
  }
  return 0;
}
