#include "engine/safetensors.h"

#include <gtest/gtest.h>

#include <cstring>

namespace lathe::engine {
namespace {

std::string Bytes(const std::vector<float>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float));
}

// A file with a hand-written header: u64 size + JSON + data.
std::string RawFile(const std::string& header_json, size_t data_bytes) {
  std::string out(8, '\0');
  uint64_t n = header_json.size();
  std::memcpy(out.data(), &n, 8);
  return out + header_json + std::string(data_bytes, '\x01');
}

Status Parse(const std::string& file, SafetensorsHeader* h = nullptr) {
  SafetensorsHeader tmp;
  return ParseSafetensorsHeader(file, file.size(), "m.safetensors", h ? h : &tmp);
}

TEST(Safetensors, RoundTripsTensorsAndMetadata) {
  std::vector<float> a = {1, 2, 3, 4, 5, 6}, b = {7};
  std::string sa = Bytes(a), sb = Bytes(b);
  auto file = SerializeSafetensors({{"a", DType::kF32, {2, 3}, sa}, {"b", DType::kF32, {1}, sb}},
                                   {{"format", "pt"}});
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  SafetensorsHeader h;
  ASSERT_TRUE(Parse(*file, &h).ok());
  EXPECT_EQ(h.data_offset % 8, 0u);  // data aligned as the reference writer does
  ASSERT_EQ(h.tensors.size(), 2u);
  const TensorInfo* ta = h.Find("a");
  ASSERT_NE(ta, nullptr);
  EXPECT_EQ(ta->shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(ta->numel(), 6u);
  float back[6];
  std::memcpy(back, file->data() + h.data_offset + ta->begin, sizeof back);
  EXPECT_EQ(back[5], 6.0f);
  EXPECT_EQ(h.metadata.at("format"), "pt");
}

TEST(Safetensors, RejectsHeaderLargerThanLimitOrFile) {
  std::string f(8, '\0');
  uint64_t huge = kMaxSafetensorsHeaderBytes + 1;
  std::memcpy(f.data(), &huge, 8);
  f += std::string(16, ' ');
  Status s = Parse(f);
  EXPECT_EQ(s.code(), Status::Code::kCorruption);
  EXPECT_NE(s.message().find("limit"), std::string::npos) << s.message();
  uint64_t beyond = 1000;
  std::memcpy(f.data(), &beyond, 8);
  s = Parse(f);
  EXPECT_NE(s.message().find("truncated"), std::string::npos) << s.message();
  EXPECT_FALSE(Parse("abc").ok());
}

TEST(Safetensors, RejectsBadTensorEntries) {
  struct Case {
    std::string header;
    size_t data;
    std::string expect;
  };
  const Case cases[] = {
      {R"({"t": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}})", 4, "past the data section"},
      {R"({"t": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}})", 8, "need 12 bytes"},
      {R"({"t": {"dtype": "Q4", "shape": [2], "data_offsets": [0, 8]}})", 8, "unsupported dtype"},
      {R"({"t": {"dtype": "F32", "shape": [-2], "data_offsets": [0, 8]}})", 8, "negative"},
      {R"({"t": {"dtype": "F32", "shape": [2], "data_offsets": [8, 0]}})", 8, "end before"},
      {R"({"t": {"dtype": "F32", "shape": [2]}})", 8, "data_offsets"},
      {R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
           "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}})", 12, "overlaps"},
      {R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}})", 8, "gap"},
      {R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}})", 8, "after the last"},
      {R"([1, 2])", 0, "not a JSON object"},
      {R"({"t": )", 0, "not a JSON object"},
      {R"({"t": {"dtype": "F32", "shape": [4294967296, 4294967296, 4294967296], "data_offsets": [0, 8]}})", 8,
       "impossibly large"},
  };
  for (const Case& c : cases) {
    Status s = Parse(RawFile(c.header, c.data));
    EXPECT_FALSE(s.ok()) << c.header;
    EXPECT_NE(s.message().find(c.expect), std::string::npos) << c.header << " -> " << s.message();
    EXPECT_NE(s.message().find("m.safetensors"), std::string::npos) << "message names the file";
  }
}

TEST(Safetensors, SerializeRejectsWrongByteCount) {
  std::string two_floats(8, '\0');
  auto r = SerializeSafetensors({{"t", DType::kF32, {3}, two_floats}}, {});
  EXPECT_FALSE(r.ok());
}

}  // namespace
}  // namespace lathe::engine
