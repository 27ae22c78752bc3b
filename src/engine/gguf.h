// GGUF, the single-file model format of llama.cpp and Ollama, read and written without torch so
// that the parser can be fuzzed and tested on its own (like safetensors.h).
//
// Layout (version 2 and 3, little-endian): "GGUF", u32 version, u64 tensor count, u64 key/value
// count; the key/values (string key, u32 type, value; strings are u64 length + bytes; an array is
// u32 element type + u64 count + elements); the tensor infos (name, u32 dimension count, u64
// dimensions innermost first, u32 ggml type, u64 offset into the data section); padding to
// general.alignment (default 32); the data section.
//
// Everything from the file is untrusted: counts, lengths and dimensions are checked against the
// bytes that remain and the limits below before anything is allocated, arrays may not nest, and
// the tensors must lie inside the data section without overlapping.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace lathe::engine {

enum class GgufType : uint32_t {
  kU8 = 0, kI8 = 1, kU16 = 2, kI16 = 3, kU32 = 4, kI32 = 5, kF32 = 6, kBool = 7,
  kString = 8, kArray = 9, kU64 = 10, kI64 = 11, kF64 = 12,
};

// ggml's tensor types that lathe reads (others are refused by name). Values are ggml's.
enum class GgmlType : uint32_t { kF32 = 0, kF16 = 1, kQ8_0 = 8, kQ4_K = 12, kQ6_K = 14, kBF16 = 30 };
const char* GgmlTypeName(GgmlType t);  // "F32", "Q8_0", ...
// Values per block and bytes per block; false for a type lathe does not read.
bool GgmlTypeLayout(uint32_t type, uint64_t* block_values, uint64_t* block_bytes);

// One key's value. Numbers of every width are widened: integers to `integer` (u64 values above
// INT64_MAX are refused), floats to `real`. Arrays hold their elements in `strings` (string
// arrays) or `numbers` (every numeric or bool array).
struct GgufValue {
  GgufType type = GgufType::kU32;
  GgufType array_type = GgufType::kU8;  // kArray only
  int64_t integer = 0;
  double real = 0;
  bool boolean = false;
  std::string str;
  std::vector<std::string> strings;
  std::vector<double> numbers;

  static GgufValue U32(uint32_t v);
  static GgufValue I32(int32_t v);
  static GgufValue F32(float v);
  static GgufValue Bool(bool v);
  static GgufValue String(std::string v);
  static GgufValue StringArray(std::vector<std::string> v);
  static GgufValue NumberArray(GgufType element, std::vector<double> v);
};

struct GgufTensorInfo {
  std::string name;
  std::vector<uint64_t> dims;  // innermost first (ggml's ne): a [rows, cols] matrix is {cols, rows}
  uint32_t type = 0;           // a GgmlType value
  uint64_t offset = 0;         // from the start of the data section
  uint64_t bytes = 0;          // computed from dims and type
  uint64_t numel() const;
};

struct GgufFile {
  uint32_t version = 3;
  uint64_t alignment = 32;
  uint64_t data_offset = 0;  // where the data section starts in the file
  std::map<std::string, GgufValue> metadata;
  std::vector<GgufTensorInfo> tensors;  // in file order

  const GgufValue* Find(std::string_view key) const;
  const GgufTensorInfo* FindTensor(std::string_view name) const;
  // The value as an integer / real / string, or an error naming the key and what it holds.
  Result<int64_t> Integer(const std::string& key) const;
  Result<double> Real(const std::string& key) const;  // integers are accepted too
  Result<std::string> String(const std::string& key) const;
};

// Limits (docs/serve.md's Limits table, "Model files").
inline constexpr uint64_t kMaxGgufHeaderBytes = 256ull << 20;  // metadata + tensor infos
inline constexpr uint64_t kMaxGgufKeys = 65536;
inline constexpr uint64_t kMaxGgufTensors = 65536;
inline constexpr uint64_t kMaxGgufArrayElements = 1ull << 24;  // vocabularies and merges
inline constexpr uint64_t kMaxGgufStringBytes = 1ull << 24;    // one key, value or name
inline constexpr uint32_t kMaxGgufDims = 4;                     // ggml's GGML_MAX_DIMS
inline constexpr uint64_t kMaxGgufTensorValues = 1ull << 40;

// Parses the header of a file of file_size bytes whose first bytes are `prefix` (read the first
// min(file_size, kMaxGgufHeaderBytes) bytes; the header must end within them). `file` names the
// file in every message.
Status ParseGguf(std::string_view prefix, uint64_t file_size, const std::string& file, GgufFile* out);

// A tensor to write: dims innermost first, `bytes` already in `type`'s layout.
struct GgufTensorToWrite {
  std::string name;
  std::vector<uint64_t> dims;
  GgmlType type = GgmlType::kF32;
  std::string_view bytes;
};
// Serializes a whole version-3 file with general.alignment 32 (the key is written only if the
// caller put it in metadata). Keys are written in map order.
Result<std::string> SerializeGguf(const std::map<std::string, GgufValue>& metadata,
                                  const std::vector<GgufTensorToWrite>& tensors);

// Converts `count` values of a tensor's raw bytes (in `type`'s layout) to floats; count must be a
// multiple of the block size and raw must hold exactly the blocks.
Status DequantizeGguf(GgmlType type, std::string_view raw, uint64_t count, float* out);
// f32 -> f16 (round to nearest even) / Q8_0 (blocks of 32: an f16 scale = max|x|/127 and 32
// int8s, as ggml quantizes). count must be a multiple of 32 for Q8_0.
std::string QuantizeGgufF16(const float* x, uint64_t count);
std::string QuantizeGgufQ8_0(const float* x, uint64_t count);

}  // namespace lathe::engine
