#include "engine/safetensors.h"

#include <algorithm>
#include <cstring>

#include <nlohmann/json.hpp>

#include "core/env.h"

namespace lathe::engine {
namespace {

struct DTypeEntry {
  DType dtype;
  const char* name;
  size_t size;
};
constexpr DTypeEntry kDTypes[] = {
    {DType::kF64, "F64", 8}, {DType::kF32, "F32", 4}, {DType::kF16, "F16", 2},
    {DType::kBF16, "BF16", 2}, {DType::kI64, "I64", 8}, {DType::kI32, "I32", 4},
    {DType::kI16, "I16", 2}, {DType::kI8, "I8", 1}, {DType::kU8, "U8", 1},
    {DType::kBool, "BOOL", 1},
};

uint64_t ReadU64LE(std::string_view b) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(b[static_cast<size_t>(i)]);
  return v;
}

}  // namespace

const char* DTypeName(DType d) {
  for (const auto& e : kDTypes)
    if (e.dtype == d) return e.name;
  return "?";
}

size_t DTypeSize(DType d) {
  for (const auto& e : kDTypes)
    if (e.dtype == d) return e.size;
  return 0;
}

uint64_t TensorInfo::numel() const {
  uint64_t n = 1;
  for (int64_t s : shape) n *= static_cast<uint64_t>(s);
  return n;
}

const TensorInfo* SafetensorsHeader::Find(std::string_view name) const {
  for (const auto& t : tensors)
    if (t.name == name) return &t;
  return nullptr;
}

Result<uint64_t> SafetensorsHeaderBytes(std::string_view first8, uint64_t file_size,
                                        const std::string& file) {
  if (first8.size() < 8 || file_size < 8)
    return Status::Corruption(file + ": too short for a safetensors file (" +
                              std::to_string(file_size) + " bytes)");
  uint64_t n = ReadU64LE(first8);
  if (n > kMaxSafetensorsHeaderBytes)
    return Status::Corruption(file + ": safetensors header claims " + std::to_string(n) +
                              " bytes, over the " + std::to_string(kMaxSafetensorsHeaderBytes) +
                              "-byte limit");
  if (n > file_size - 8)
    return Status::Corruption(file + ": safetensors header claims " + std::to_string(n) +
                              " bytes but the file has only " + std::to_string(file_size - 8) +
                              " after the size field (truncated?)");
  return 8 + n;
}

Status ReadSafetensorsHeader(const RandomAccessFile& file, uint64_t size, const std::string& name,
                             SafetensorsHeader* out) {
  if (size < 8)
    return Status::Corruption(name + ": " + std::to_string(size) + " bytes, too short for a safetensors file");
  std::string first8(8, '\0');
  LATHE_RETURN_IF_ERROR(file.Read(0, 8, first8.data()));
  auto header_bytes = SafetensorsHeaderBytes(first8, size, name);
  if (!header_bytes.ok()) return header_bytes.status();
  std::string prefix(*header_bytes, '\0');
  LATHE_RETURN_IF_ERROR(file.Read(0, prefix.size(), prefix.data()));
  return ParseSafetensorsHeader(prefix, size, name, out);
}

Status ParseSafetensorsHeader(std::string_view prefix, uint64_t file_size, const std::string& file,
                              SafetensorsHeader* out) {
  auto total = SafetensorsHeaderBytes(prefix, file_size, file);
  if (!total.ok()) return total.status();
  if (prefix.size() < *total)
    return Status::InvalidArgument(file + ": header not fully read");
  std::string_view text = prefix.substr(8, *total - 8);
  nlohmann::json j = nlohmann::json::parse(text.begin(), text.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return Status::Corruption(file + ": safetensors header is not a JSON object");
  *out = SafetensorsHeader{};
  out->data_offset = *total;
  const uint64_t data_size = file_size - *total;
  for (const auto& item : j.items()) {
    const std::string& name = item.key();
    const auto& v = item.value();
    if (name == "__metadata__") {
      if (!v.is_object()) return Status::Corruption(file + ": __metadata__ is not an object");
      for (const auto& m : v.items()) {
        if (!m.value().is_string())
          return Status::Corruption(file + ": __metadata__." + m.key() + " is not a string");
        out->metadata[m.key()] = m.value().get<std::string>();
      }
      continue;
    }
    auto bad = [&](const std::string& why) {
      return Status::Corruption(file + ": tensor \"" + name + "\": " + why);
    };
    if (!v.is_object()) return bad("entry is not an object");
    TensorInfo t;
    t.name = name;
    auto dt = v.find("dtype");
    if (dt == v.end() || !dt->is_string()) return bad("missing dtype");
    const auto& dname = dt->get_ref<const std::string&>();
    const DTypeEntry* entry = nullptr;
    for (const auto& e : kDTypes)
      if (dname == e.name) entry = &e;
    if (entry == nullptr) return bad("unsupported dtype " + dname);
    t.dtype = entry->dtype;
    auto sh = v.find("shape");
    if (sh == v.end() || !sh->is_array()) return bad("missing shape");
    unsigned __int128 numel = 1;
    for (const auto& d : *sh) {
      if (!d.is_number_unsigned()) return bad("shape has a negative or non-integer dimension");
      uint64_t dim = d.get<uint64_t>();
      t.shape.push_back(static_cast<int64_t>(dim));
      numel *= dim;
      if (numel > (static_cast<unsigned __int128>(1) << 62)) return bad("shape is impossibly large");
    }
    auto off = v.find("data_offsets");
    if (off == v.end() || !off->is_array() || off->size() != 2 || !(*off)[0].is_number_unsigned() ||
        !(*off)[1].is_number_unsigned())
      return bad("data_offsets must be [begin, end]");
    t.begin = (*off)[0].get<uint64_t>();
    t.end = (*off)[1].get<uint64_t>();
    if (t.end < t.begin) return bad("data_offsets end before they begin");
    if (t.end > data_size)
      return bad("data_offsets [" + std::to_string(t.begin) + ", " + std::to_string(t.end) +
                 ") run past the data section (" + std::to_string(data_size) + " bytes; truncated file?)");
    if (numel * entry->size != t.end - t.begin)
      return bad("shape and dtype need " + std::to_string(static_cast<uint64_t>(numel * entry->size)) +
                 " bytes but data_offsets cover " + std::to_string(t.end - t.begin));
    out->tensors.push_back(std::move(t));
  }
  std::sort(out->tensors.begin(), out->tensors.end(),
            [](const TensorInfo& a, const TensorInfo& b) {
              return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
            });
  uint64_t expected = 0;
  for (const auto& t : out->tensors) {
    if (t.begin < expected)
      return Status::Corruption(file + ": tensor \"" + t.name + "\" overlaps the tensor before it");
    if (t.begin > expected)
      return Status::Corruption(file + ": gap of " + std::to_string(t.begin - expected) +
                                " bytes before tensor \"" + t.name + "\"");
    expected = t.end;
  }
  if (expected != data_size)
    return Status::Corruption(file + ": " + std::to_string(data_size - expected) +
                              " bytes after the last tensor");
  return Status::Ok();
}

Result<std::string> SerializeSafetensors(const std::vector<TensorToWrite>& tensors,
                                         const std::map<std::string, std::string>& metadata) {
  nlohmann::json header = nlohmann::json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  uint64_t offset = 0;
  for (const auto& t : tensors) {
    uint64_t numel = 1;
    for (int64_t d : t.shape) numel *= static_cast<uint64_t>(d);
    if (numel * DTypeSize(t.dtype) != t.bytes.size())
      return Status::InvalidArgument("tensor " + t.name + ": " + std::to_string(t.bytes.size()) +
                                     " bytes do not match its shape and dtype");
    if (header.contains(t.name)) return Status::InvalidArgument("duplicate tensor " + t.name);
    header[t.name] = {{"dtype", DTypeName(t.dtype)},
                      {"shape", t.shape},
                      {"data_offsets", {offset, offset + t.bytes.size()}}};
    offset += t.bytes.size();
  }
  std::string h = header.dump();
  h.append((8 - h.size() % 8) % 8, ' ');  // align the data section to 8 bytes
  std::string out(8, '\0');
  uint64_t n = h.size();
  for (int i = 0; i < 8; ++i) out[static_cast<size_t>(i)] = static_cast<char>((n >> (8 * i)) & 0xFF);
  out += h;
  out.reserve(out.size() + offset);
  for (const auto& t : tensors) out.append(t.bytes);
  return out;
}

}  // namespace lathe::engine
