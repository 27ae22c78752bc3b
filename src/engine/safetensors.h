// safetensors (Hugging Face's weight format), parsed and written without torch so that the parser
// can be fuzzed and tested on its own. Layout: u64 little-endian header size N, N bytes of JSON
// {"name": {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {...}}, then the data;
// offsets are relative to the end of the header.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace lathe {
class RandomAccessFile;  // core/env.h
}

namespace lathe::engine {

enum class DType { kF64, kF32, kF16, kBF16, kI64, kI32, kI16, kI8, kU8, kBool };
const char* DTypeName(DType d);  // "F32", ...
size_t DTypeSize(DType d);

struct TensorInfo {
  std::string name;
  DType dtype = DType::kF32;
  std::vector<int64_t> shape;
  uint64_t begin = 0, end = 0;  // byte range within the data section
  uint64_t numel() const;
};

struct SafetensorsHeader {
  uint64_t data_offset = 0;                 // where the data section starts in the file
  std::vector<TensorInfo> tensors;          // in data order
  std::map<std::string, std::string> metadata;
  const TensorInfo* Find(std::string_view name) const;
};

// The largest header accepted (the reference implementation's limit).
inline constexpr uint64_t kMaxSafetensorsHeaderBytes = 100'000'000;

// Parses and checks the header of a file of file_size bytes whose first bytes are `prefix`
// (at least 8 bytes; the whole header must be present, see HeaderBytesNeeded). Every tensor must
// have a known dtype, a shape matching its byte size, and the tensors must tile the data section
// exactly: no overlap, no gap, nothing out of range. `file` names the file in messages.
Status ParseSafetensorsHeader(std::string_view prefix, uint64_t file_size, const std::string& file,
                              SafetensorsHeader* out);
// 8 + N from the first 8 bytes, or an error if N is over the limit or beyond the file.
Result<uint64_t> SafetensorsHeaderBytes(std::string_view first8, uint64_t file_size,
                                        const std::string& file);

// Reads the header of an open safetensors file of `size` bytes and parses it as above: the one
// way model loading, folder checks and GGUF export read a header.
Status ReadSafetensorsHeader(const RandomAccessFile& file, uint64_t size, const std::string& name,
                             SafetensorsHeader* out);

// A tensor to write: raw little-endian bytes of numel * DTypeSize(dtype).
struct TensorToWrite {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  std::string_view bytes;
};
// Serializes a whole safetensors file (header padded to 8 bytes, as the reference does).
Result<std::string> SerializeSafetensors(const std::vector<TensorToWrite>& tensors,
                                         const std::map<std::string, std::string>& metadata);

}  // namespace lathe::engine
