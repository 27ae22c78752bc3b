#include "engine/gguf.h"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <limits>

namespace lathe::engine {
namespace {

constexpr uint64_t kDefaultAlignment = 32;

// Reads the header front to back; every read checks the bytes that remain first.
class Reader {
 public:
  Reader(std::string_view b, const std::string& file) : b_(b), file_(file) {}
  uint64_t pos() const { return pos_; }
  uint64_t left() const { return b_.size() - pos_; }

  Status Need(uint64_t n, const char* what) {
    if (n <= left()) return Status::Ok();
    return Status::Corruption(file_ + ": GGUF header ends inside " + what + " at byte " + std::to_string(pos_) +
                              (b_.size() >= kMaxGgufHeaderBytes ? " (over the header limit)" : " (truncated?)"));
  }
  template <typename T>
  Status Fixed(T* v, const char* what) {
    LATHE_RETURN_IF_ERROR(Need(sizeof(T), what));
    std::memcpy(v, b_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return Status::Ok();
  }
  Status Str(std::string* s, const char* what) {
    uint64_t n = 0;
    LATHE_RETURN_IF_ERROR(Fixed(&n, what));
    if (n > kMaxGgufStringBytes)
      return Status::Corruption(file_ + ": GGUF " + what + " of " + std::to_string(n) + " bytes, over the " +
                                std::to_string(kMaxGgufStringBytes) + "-byte limit");
    LATHE_RETURN_IF_ERROR(Need(n, what));
    s->assign(b_.data() + pos_, n);
    pos_ += n;
    return Status::Ok();
  }
  Status Error(const std::string& m) const { return Status::Corruption(file_ + ": " + m); }

 private:
  std::string_view b_;
  const std::string& file_;
  uint64_t pos_ = 0;
};

uint64_t ScalarSize(GgufType t) {
  switch (t) {
    case GgufType::kU8: case GgufType::kI8: case GgufType::kBool: return 1;
    case GgufType::kU16: case GgufType::kI16: return 2;
    case GgufType::kU32: case GgufType::kI32: case GgufType::kF32: return 4;
    case GgufType::kU64: case GgufType::kI64: case GgufType::kF64: return 8;
    default: return 0;  // string, array: variable
  }
}

// A numeric or bool scalar of type t at the reader, widened.
Status ReadNumber(Reader& r, GgufType t, int64_t* integer, double* real, const std::string& key) {
  auto take = [&](auto v) -> Status {
    LATHE_RETURN_IF_ERROR(r.Fixed(&v, "a value"));
    using V = decltype(v);
    if constexpr (std::is_same_v<V, float>) {
      // The shortest decimal that reads back as this float: 1e-5 stays 1e-5, not 9.99999974e-06.
      char text[32];
      auto end = std::to_chars(text, text + sizeof text, v).ptr;
      *real = std::strtod(std::string(text, end).c_str(), nullptr);
      *integer = 0;
    } else if constexpr (std::is_floating_point_v<V>) {
      *real = static_cast<double>(v);
      *integer = 0;
    } else {
      if constexpr (std::is_same_v<V, uint64_t>)
        if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
          return r.Error("GGUF key " + key + " holds an unsigned value over 2^63");
      *integer = static_cast<int64_t>(v);
      *real = static_cast<double>(v);
    }
    return Status::Ok();
  };
  switch (t) {
    case GgufType::kU8: return take(uint8_t{});
    case GgufType::kI8: return take(int8_t{});
    case GgufType::kBool: return take(uint8_t{});
    case GgufType::kU16: return take(uint16_t{});
    case GgufType::kI16: return take(int16_t{});
    case GgufType::kU32: return take(uint32_t{});
    case GgufType::kI32: return take(int32_t{});
    case GgufType::kF32: return take(float{});
    case GgufType::kU64: return take(uint64_t{});
    case GgufType::kI64: return take(int64_t{});
    case GgufType::kF64: return take(double{});
    default: return r.Error("GGUF key " + key + ": not a number type");
  }
}

bool KnownType(uint32_t t) { return t <= static_cast<uint32_t>(GgufType::kF64); }

Status ReadValue(Reader& r, const std::string& key, GgufValue* v) {
  uint32_t type = 0;
  LATHE_RETURN_IF_ERROR(r.Fixed(&type, "a value type"));
  if (!KnownType(type)) return r.Error("GGUF key " + key + " has unknown value type " + std::to_string(type));
  v->type = static_cast<GgufType>(type);
  if (v->type == GgufType::kString) return r.Str(&v->str, "a string value");
  if (v->type != GgufType::kArray) {
    LATHE_RETURN_IF_ERROR(ReadNumber(r, v->type, &v->integer, &v->real, key));
    v->boolean = v->integer != 0;
    return Status::Ok();
  }
  uint32_t element = 0;
  uint64_t count = 0;
  LATHE_RETURN_IF_ERROR(r.Fixed(&element, "an array type"));
  LATHE_RETURN_IF_ERROR(r.Fixed(&count, "an array length"));
  if (!KnownType(element)) return r.Error("GGUF key " + key + ": array of unknown type " + std::to_string(element));
  v->array_type = static_cast<GgufType>(element);
  if (v->array_type == GgufType::kArray)
    return r.Error("GGUF key " + key + ": arrays of arrays are not read (no model needs them)");
  if (count > kMaxGgufArrayElements)
    return r.Error("GGUF key " + key + ": array of " + std::to_string(count) + " elements, over the " +
                   std::to_string(kMaxGgufArrayElements) + " limit");
  // The smallest encoding of each element must fit in what is left before anything is reserved.
  const uint64_t min_element = v->array_type == GgufType::kString ? 8 : ScalarSize(v->array_type);
  if (count > r.left() / min_element)
    return r.Error("GGUF key " + key + ": array of " + std::to_string(count) + " elements cannot fit in the " +
                   std::to_string(r.left()) + " bytes that remain");
  if (v->array_type == GgufType::kString) {
    v->strings.resize(count);
    for (auto& s : v->strings) LATHE_RETURN_IF_ERROR(r.Str(&s, "an array string"));
    return Status::Ok();
  }
  v->numbers.resize(count);
  int64_t ignored = 0;
  for (auto& n : v->numbers) LATHE_RETURN_IF_ERROR(ReadNumber(r, v->array_type, &ignored, &n, key));
  return Status::Ok();
}

uint64_t AlignUp(uint64_t x, uint64_t a) { return (x + a - 1) / a * a; }

// Little-endian appenders for the writer.
template <typename T>
void Put(std::string* out, T v) {
  out->append(reinterpret_cast<const char*>(&v), sizeof v);
}
void PutString(std::string* out, std::string_view s) {
  Put<uint64_t>(out, s.size());
  out->append(s);
}
void PutNumber(std::string* out, GgufType t, double real, int64_t integer) {
  switch (t) {
    case GgufType::kU8: case GgufType::kBool: Put<uint8_t>(out, static_cast<uint8_t>(integer)); break;
    case GgufType::kI8: Put<int8_t>(out, static_cast<int8_t>(integer)); break;
    case GgufType::kU16: Put<uint16_t>(out, static_cast<uint16_t>(integer)); break;
    case GgufType::kI16: Put<int16_t>(out, static_cast<int16_t>(integer)); break;
    case GgufType::kU32: Put<uint32_t>(out, static_cast<uint32_t>(integer)); break;
    case GgufType::kI32: Put<int32_t>(out, static_cast<int32_t>(integer)); break;
    case GgufType::kF32: Put<float>(out, static_cast<float>(real)); break;
    case GgufType::kU64: Put<uint64_t>(out, static_cast<uint64_t>(integer)); break;
    case GgufType::kI64: Put<int64_t>(out, integer); break;
    case GgufType::kF64: Put<double>(out, real); break;
    default: break;
  }
}

}  // namespace

const char* GgmlTypeName(GgmlType t) {
  switch (t) {
    case GgmlType::kF32: return "F32";
    case GgmlType::kF16: return "F16";
    case GgmlType::kQ8_0: return "Q8_0";
    case GgmlType::kQ4_K: return "Q4_K";
    case GgmlType::kQ6_K: return "Q6_K";
    case GgmlType::kBF16: return "BF16";
  }
  return "?";
}

bool GgmlTypeLayout(uint32_t type, uint64_t* block_values, uint64_t* block_bytes) {
  switch (static_cast<GgmlType>(type)) {
    case GgmlType::kF32: *block_values = 1; *block_bytes = 4; return true;
    case GgmlType::kF16: case GgmlType::kBF16: *block_values = 1; *block_bytes = 2; return true;
    case GgmlType::kQ8_0: *block_values = 32; *block_bytes = 34; return true;      // f16 scale + 32 int8
    case GgmlType::kQ4_K: *block_values = 256; *block_bytes = 144; return true;    // 2 f16 + 12 + 128
    case GgmlType::kQ6_K: *block_values = 256; *block_bytes = 210; return true;    // 128 + 64 + 16 + f16
  }
  return false;
}

GgufValue GgufValue::U32(uint32_t v) { GgufValue x; x.type = GgufType::kU32; x.integer = v; x.real = v; return x; }
GgufValue GgufValue::I32(int32_t v) { GgufValue x; x.type = GgufType::kI32; x.integer = v; x.real = v; return x; }
GgufValue GgufValue::F32(float v) { GgufValue x; x.type = GgufType::kF32; x.real = v; return x; }
GgufValue GgufValue::Bool(bool v) {
  GgufValue x;
  x.type = GgufType::kBool;
  x.boolean = v;
  x.integer = v ? 1 : 0;
  return x;
}
GgufValue GgufValue::String(std::string v) { GgufValue x; x.type = GgufType::kString; x.str = std::move(v); return x; }
GgufValue GgufValue::StringArray(std::vector<std::string> v) {
  GgufValue x;
  x.type = GgufType::kArray;
  x.array_type = GgufType::kString;
  x.strings = std::move(v);
  return x;
}
GgufValue GgufValue::NumberArray(GgufType element, std::vector<double> v) {
  GgufValue x;
  x.type = GgufType::kArray;
  x.array_type = element;
  x.numbers = std::move(v);
  return x;
}

uint64_t GgufTensorInfo::numel() const {
  uint64_t n = 1;
  for (uint64_t d : dims) n *= d;
  return n;
}

const GgufValue* GgufFile::Find(std::string_view key) const {
  auto it = metadata.find(std::string(key));
  return it == metadata.end() ? nullptr : &it->second;
}

const GgufTensorInfo* GgufFile::FindTensor(std::string_view name) const {
  for (const auto& t : tensors)
    if (t.name == name) return &t;
  return nullptr;
}

Result<int64_t> GgufFile::Integer(const std::string& key) const {
  const GgufValue* v = Find(key);
  if (!v) return Status::NotFound("GGUF key " + key + " is missing");
  if (v->type == GgufType::kString || v->type == GgufType::kArray || v->type == GgufType::kF32 ||
      v->type == GgufType::kF64)
    return Status::InvalidArgument("GGUF key " + key + " is not an integer");
  return v->integer;
}

Result<double> GgufFile::Real(const std::string& key) const {
  const GgufValue* v = Find(key);
  if (!v) return Status::NotFound("GGUF key " + key + " is missing");
  if (v->type == GgufType::kString || v->type == GgufType::kArray)
    return Status::InvalidArgument("GGUF key " + key + " is not a number");
  return v->real;
}

Result<std::string> GgufFile::String(const std::string& key) const {
  const GgufValue* v = Find(key);
  if (!v) return Status::NotFound("GGUF key " + key + " is missing");
  if (v->type != GgufType::kString) return Status::InvalidArgument("GGUF key " + key + " is not a string");
  return v->str;
}

Status ParseGguf(std::string_view prefix, uint64_t file_size, const std::string& file, GgufFile* out) {
  *out = GgufFile{};
  if (prefix.size() > file_size) return Status::InvalidArgument(file + ": more bytes read than the file has");
  Reader r(prefix.substr(0, std::min<uint64_t>(prefix.size(), kMaxGgufHeaderBytes)), file);
  char magic[4];
  LATHE_RETURN_IF_ERROR(r.Fixed(&magic, "the magic"));
  if (std::memcmp(magic, "GGUF", 4) != 0) return r.Error("not a GGUF file (no \"GGUF\" magic)");
  LATHE_RETURN_IF_ERROR(r.Fixed(&out->version, "the version"));
  if (out->version != 2 && out->version != 3)
    return r.Error("GGUF version " + std::to_string(out->version) + " (lathe reads versions 2 and 3)");
  uint64_t tensor_count = 0, key_count = 0;
  LATHE_RETURN_IF_ERROR(r.Fixed(&tensor_count, "the tensor count"));
  LATHE_RETURN_IF_ERROR(r.Fixed(&key_count, "the key count"));
  if (tensor_count > kMaxGgufTensors || key_count > kMaxGgufKeys)
    return r.Error("GGUF header claims " + std::to_string(tensor_count) + " tensors and " +
                   std::to_string(key_count) + " keys (limits " + std::to_string(kMaxGgufTensors) + " and " +
                   std::to_string(kMaxGgufKeys) + ")");
  for (uint64_t i = 0; i < key_count; ++i) {
    std::string key;
    LATHE_RETURN_IF_ERROR(r.Str(&key, "a key"));
    GgufValue v;
    LATHE_RETURN_IF_ERROR(ReadValue(r, key, &v));
    if (!out->metadata.emplace(key, std::move(v)).second) return r.Error("GGUF key " + key + " appears twice");
  }
  if (const GgufValue* a = out->Find("general.alignment")) {
    if (a->type != GgufType::kU32 || a->integer == 0 || (a->integer & (a->integer - 1)) != 0 || a->integer > 1 << 20)
      return r.Error("general.alignment must be a u32 power of two up to 2^20");
    out->alignment = static_cast<uint64_t>(a->integer);
  } else {
    out->alignment = kDefaultAlignment;
  }
  out->tensors.reserve(std::min<uint64_t>(tensor_count, r.left() / 24 + 1));
  for (uint64_t i = 0; i < tensor_count; ++i) {
    GgufTensorInfo t;
    LATHE_RETURN_IF_ERROR(r.Str(&t.name, "a tensor name"));
    uint32_t n_dims = 0;
    LATHE_RETURN_IF_ERROR(r.Fixed(&n_dims, "a tensor's dimension count"));
    if (n_dims == 0 || n_dims > kMaxGgufDims)
      return r.Error("tensor " + t.name + " has " + std::to_string(n_dims) + " dimensions (1 to 4)");
    t.dims.resize(n_dims);
    uint64_t values = 1;
    for (auto& d : t.dims) {
      LATHE_RETURN_IF_ERROR(r.Fixed(&d, "a tensor dimension"));
      if (d == 0 || d > kMaxGgufTensorValues || values > kMaxGgufTensorValues / d)
        return r.Error("tensor " + t.name + " has a dimension of 0 or over " + std::to_string(kMaxGgufTensorValues) +
                       " values");
      values *= d;
    }
    LATHE_RETURN_IF_ERROR(r.Fixed(&t.type, "a tensor type"));
    LATHE_RETURN_IF_ERROR(r.Fixed(&t.offset, "a tensor offset"));
    uint64_t block_values = 0, block_bytes = 0;
    if (!GgmlTypeLayout(t.type, &block_values, &block_bytes))
      return Status::Unsupported(file + ": tensor " + t.name + " has ggml type " + std::to_string(t.type) +
                                 "; lathe reads F32, F16, BF16, Q8_0, Q4_K and Q6_K");
    if (t.dims[0] % block_values != 0)
      return r.Error("tensor " + t.name + "'s rows of " + std::to_string(t.dims[0]) + " are not whole " +
                     GgmlTypeName(static_cast<GgmlType>(t.type)) + " blocks");
    t.bytes = values / block_values * block_bytes;
    if (t.offset % out->alignment != 0) return r.Error("tensor " + t.name + "'s offset is not aligned");
    out->tensors.push_back(std::move(t));
  }
  out->data_offset = AlignUp(r.pos(), out->alignment);
  if (out->data_offset > file_size) return r.Error("the file ends before its data section");
  const uint64_t data_bytes = file_size - out->data_offset;
  std::vector<const GgufTensorInfo*> by_offset;
  for (const auto& t : out->tensors) by_offset.push_back(&t);
  std::sort(by_offset.begin(), by_offset.end(),
            [](const GgufTensorInfo* a, const GgufTensorInfo* b) { return a->offset < b->offset; });
  uint64_t end = 0;
  const GgufTensorInfo* previous = nullptr;
  for (const GgufTensorInfo* t : by_offset) {
    if (t->offset > data_bytes || t->bytes > data_bytes - t->offset)
      return r.Error("tensor " + t->name + " lies beyond the end of the file (truncated?)");
    if (previous && t->offset < end)
      return r.Error("tensors " + previous->name + " and " + t->name + " overlap");
    end = t->offset + t->bytes;
    previous = t;
  }
  std::vector<std::string_view> names;
  for (const auto& t : out->tensors) names.push_back(t.name);
  std::sort(names.begin(), names.end());
  if (std::adjacent_find(names.begin(), names.end()) != names.end())
    return r.Error("tensor " + std::string(*std::adjacent_find(names.begin(), names.end())) + " appears twice");
  return Status::Ok();
}

Result<std::string> SerializeGguf(const std::map<std::string, GgufValue>& metadata,
                                  const std::vector<GgufTensorToWrite>& tensors) {
  if (const auto a = metadata.find("general.alignment");
      a != metadata.end() && (a->second.type != GgufType::kU32 || a->second.integer != int64_t{kDefaultAlignment}))
    return Status::InvalidArgument("GGUF writer: general.alignment must be a u32 32 if given");
  std::string out = "GGUF";
  Put<uint32_t>(&out, 3);
  Put<uint64_t>(&out, tensors.size());
  Put<uint64_t>(&out, metadata.size());
  for (const auto& [key, v] : metadata) {
    PutString(&out, key);
    Put<uint32_t>(&out, static_cast<uint32_t>(v.type));
    if (v.type == GgufType::kString) {
      PutString(&out, v.str);
    } else if (v.type == GgufType::kArray) {
      Put<uint32_t>(&out, static_cast<uint32_t>(v.array_type));
      if (v.array_type == GgufType::kString) {
        Put<uint64_t>(&out, v.strings.size());
        for (const auto& s : v.strings) PutString(&out, s);
      } else {
        Put<uint64_t>(&out, v.numbers.size());
        for (double n : v.numbers) PutNumber(&out, v.array_type, n, static_cast<int64_t>(n));
      }
    } else {
      PutNumber(&out, v.type, v.real, v.integer);
    }
  }
  uint64_t offset = 0;
  for (const auto& t : tensors) {
    uint64_t block_values = 0, block_bytes = 0, values = 1;
    GgmlTypeLayout(static_cast<uint32_t>(t.type), &block_values, &block_bytes);
    for (uint64_t d : t.dims) values *= d;
    if (t.dims.empty() || t.dims.size() > kMaxGgufDims || t.dims[0] % block_values != 0 ||
        values / block_values * block_bytes != t.bytes.size())
      return Status::InvalidArgument("GGUF tensor " + t.name + ": its bytes do not match its dimensions and type");
    PutString(&out, t.name);
    Put<uint32_t>(&out, static_cast<uint32_t>(t.dims.size()));
    for (uint64_t d : t.dims) Put<uint64_t>(&out, d);
    Put<uint32_t>(&out, static_cast<uint32_t>(t.type));
    Put<uint64_t>(&out, offset);
    offset = AlignUp(offset + t.bytes.size(), kDefaultAlignment);
  }
  out.resize(AlignUp(out.size(), kDefaultAlignment), '\0');
  for (const auto& t : tensors) {
    out.append(t.bytes);
    out.resize(AlignUp(out.size(), kDefaultAlignment), '\0');
  }
  return out;
}

}  // namespace lathe::engine
