// GGUF: the container read and written, each tensor encoding against values worked out from
// ggml's block layouts, hostile headers refused, and stories260K through export -> import with
// its logits, its greedy text and the quantized models' perplexity checked.
#include "engine/gguf.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <iostream>
#include <random>
#include <tuple>

#include "engine/gguf_convert.h"
#include "engine/language_model.h"
#include "engine/llama2c_import.h"
#include "test_util.h"

namespace lathe::engine {
namespace {

std::string FloatBytes(const std::vector<float>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * 4);
}

Status Parse(const std::string& file, GgufFile* g) { return ParseGguf(file, file.size(), "m.gguf", g); }

std::string SmallFile() {
  std::map<std::string, GgufValue> m;
  m["general.architecture"] = GgufValue::String("llama");
  m["a.u32"] = GgufValue::U32(4000000000u);
  m["a.i32"] = GgufValue::I32(-7);
  m["a.f32"] = GgufValue::F32(1e-5f);
  m["a.bool"] = GgufValue::Bool(true);
  m["a.tokens"] = GgufValue::StringArray({"<unk>", "▁a", ""});
  m["a.scores"] = GgufValue::NumberArray(GgufType::kF32, {0, -1.5, 2});
  static const std::vector<float> w = {1, 2, 3, 4, 5, 6}, n = {0.5f};
  static const std::string wb = FloatBytes(w), nb = FloatBytes(n);
  auto f = SerializeGguf(m, {{"w", {3, 2}, GgmlType::kF32, wb}, {"n", {1}, GgmlType::kF32, nb}});
  EXPECT_TRUE(f.ok());
  return *f;
}

TEST(Gguf, RoundTripsEveryKindOfKeyAndTensorPlacement) {
  const std::string f = SmallFile();
  GgufFile g;
  ASSERT_TRUE(Parse(f, &g).ok()) << Parse(f, &g).ToString();
  EXPECT_EQ(g.version, 3u);
  EXPECT_EQ(*g.String("general.architecture"), "llama");
  EXPECT_EQ(*g.Integer("a.u32"), 4000000000);
  EXPECT_EQ(*g.Integer("a.i32"), -7);
  EXPECT_EQ(*g.Real("a.f32"), 1e-5);  // the float read back as the decimal it was written as
  EXPECT_TRUE(g.Find("a.bool")->boolean);
  EXPECT_EQ(g.Find("a.tokens")->strings, (std::vector<std::string>{"<unk>", "▁a", ""}));
  EXPECT_EQ(g.Find("a.scores")->numbers, (std::vector<double>{0, -1.5, 2}));
  EXPECT_FALSE(g.Integer("a.f32").ok());
  EXPECT_FALSE(g.String("a.u32").ok());
  EXPECT_EQ(g.Integer("missing").status().code(), Status::Code::kNotFound);
  ASSERT_EQ(g.tensors.size(), 2u);
  EXPECT_EQ(g.data_offset % 32, 0u);
  const GgufTensorInfo* w = g.FindTensor("w");
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->dims, (std::vector<uint64_t>{3, 2}));
  EXPECT_EQ(w->bytes, 24u);
  float back[6];
  std::memcpy(back, f.data() + g.data_offset + w->offset, 24);
  EXPECT_EQ(back[5], 6.0f);
  EXPECT_EQ(g.FindTensor("n")->offset % 32, 0u);
}

TEST(Gguf, EveryTruncationFailsCleanlyNamingTheFile) {
  const std::string f = SmallFile();
  GgufFile g;
  ASSERT_TRUE(Parse(f, &g).ok());
  const uint64_t data_end = g.data_offset + g.FindTensor("n")->offset + g.FindTensor("n")->bytes;
  for (size_t n = 0; n < data_end; ++n) {  // (padding after the last tensor may go)
    Status s = ParseGguf(std::string_view(f).substr(0, n), n, "m.gguf", &g);
    ASSERT_FALSE(s.ok()) << n;
    EXPECT_EQ(s.message().rfind("m.gguf: ", 0), 0u) << s.message();
  }
}

// Overwrites bytes of a valid file at the position of a marker it contains.
// (a negative skip patches the marker itself)
std::string Patch(std::string f, const std::string& after, int skip, const std::string& bytes) {
  const size_t at = f.find(after);
  EXPECT_NE(at, std::string::npos) << after;
  f.replace(static_cast<size_t>(static_cast<int64_t>(at + after.size()) + skip), bytes.size(), bytes);
  return f;
}
template <typename T>
std::string Le(T v) {
  return std::string(reinterpret_cast<const char*>(&v), sizeof v);
}

TEST(Gguf, RefusesHostileHeaders) {
  const std::string f = SmallFile();
  GgufFile g;
  auto message = [&](const std::string& file) {
    Status s = Parse(file, &g);
    EXPECT_FALSE(s.ok());
    return s.message();
  };
  EXPECT_NE(message("GGML" + f.substr(4)).find("magic"), std::string::npos);
  EXPECT_NE(message(f.substr(0, 4) + Le<uint32_t>(1) + f.substr(8)).find("version 1"), std::string::npos);
  EXPECT_NE(message(f.substr(0, 8) + Le<uint64_t>(1ull << 40) + f.substr(16)).find("limits"), std::string::npos);
  // A string array claiming more elements than bytes remain: refused before anything is reserved.
  std::string huge_array = Patch(f, "a.tokens", 8, Le<uint64_t>(1ull << 23));
  EXPECT_NE(message(huge_array).find("cannot fit"), std::string::npos);
  EXPECT_NE(message(Patch(f, "a.tokens", 8, Le<uint64_t>(1ull << 30))).find("limit"), std::string::npos);
  // Arrays of arrays.
  EXPECT_NE(message(Patch(f, "a.tokens", 4, Le<uint32_t>(9))).find("arrays of arrays"), std::string::npos);
  // A key of a type that does not exist; a string of 2^60 bytes.
  EXPECT_NE(message(Patch(f, "a.u32", 0, Le<uint32_t>(77))).find("unknown value type"), std::string::npos);
  EXPECT_NE(message(Patch(f, "general.architecture", 4, Le<uint64_t>(1ull << 60))).find("limit"), std::string::npos);
  // Tensor infos: name "w" then u32 dims, u64 dims..., u32 type, u64 offset.
  const std::string w_info = Le<uint64_t>(1) + "w";
  EXPECT_NE(message(Patch(f, w_info, 0, Le<uint32_t>(5))).find("dimensions"), std::string::npos);
  EXPECT_NE(message(Patch(f, w_info, 4, Le<uint64_t>(0))).find("dimension of 0"), std::string::npos);
  EXPECT_NE(message(Patch(f, w_info, 4, Le<uint64_t>(1ull << 39) + Le<uint64_t>(1ull << 39))).find("over"),
            std::string::npos);
  EXPECT_EQ(Parse(Patch(f, w_info, 20, Le<uint32_t>(2)), &g).code(), Status::Code::kUnsupported);  // Q4_0
  EXPECT_NE(message(Patch(f, w_info, 20, Le<uint32_t>(8))).find("whole Q8_0 blocks"), std::string::npos);
  EXPECT_NE(message(Patch(f, w_info, 24, Le<uint64_t>(8))).find("not aligned"), std::string::npos);
  EXPECT_NE(message(Patch(f, w_info, 24, Le<uint64_t>(1 << 20))).find("beyond the end"), std::string::npos);
  // "n" moved onto "w": overlap; renamed "w": twice.
  const std::string n_info = Le<uint64_t>(1) + "n";
  EXPECT_NE(message(Patch(f, n_info, 16, Le<uint64_t>(0))).find("overlap"), std::string::npos);
  EXPECT_NE(message(Patch(f, n_info, -1, "w")).find("twice"), std::string::npos);
  EXPECT_NE(message(Patch(f, "a.u32", -5, "a.i32")).find("twice"), std::string::npos);
  // general.alignment must be a power of two.
  std::map<std::string, GgufValue> m = {{"general.alignment", GgufValue::U32(32)}};
  std::string aligned = *SerializeGguf(m, {});
  EXPECT_TRUE(Parse(aligned, &g).ok());
  EXPECT_NE(message(Patch(aligned, "general.alignment", 4, Le<uint32_t>(48))).find("power of two"),
            std::string::npos);
}

TEST(GgufQuants, HalfPrecisionConvertsExactlyAndRoundsToEven) {
  auto half = [](float x) {
    std::string b = QuantizeGgufF16(&x, 1);
    uint16_t h;
    std::memcpy(&h, b.data(), 2);
    return h;
  };
  EXPECT_EQ(half(1.0f), 0x3c00);
  EXPECT_EQ(half(-2.0f), 0xc000);
  EXPECT_EQ(half(65504.0f), 0x7bff);
  EXPECT_EQ(half(65520.0f), 0x7c00);                   // rounds up past the largest half: infinity
  EXPECT_EQ(half(std::ldexp(1.0f, -24)), 0x0001);      // the smallest subnormal
  EXPECT_EQ(half(std::ldexp(1.0f, -14)), 0x0400);      // the smallest normal
  EXPECT_EQ(half(1.0f + std::ldexp(1.0f, -11)), 0x3c00);  // a tie rounds to the even mantissa
  EXPECT_EQ(half(1.0f + 3 * std::ldexp(1.0f, -11)), 0x3c02);
  // Every half value reads back exactly and writes back to itself.
  std::vector<float> all(65536);
  std::string raw(65536 * 2, '\0');
  for (uint32_t h = 0; h < 65536; ++h) std::memcpy(&raw[2 * h], &h, 2);
  ASSERT_TRUE(DequantizeGguf(GgmlType::kF16, raw, 65536, all.data()).ok());
  EXPECT_EQ(all[0x3c00], 1.0f);
  EXPECT_EQ(all[0x0001], std::ldexp(1.0f, -24));
  EXPECT_TRUE(std::isinf(all[0x7c00]));
  for (uint32_t h = 0; h < 0x7c00; ++h) ASSERT_EQ(half(all[h]), h) << h;
}

TEST(GgufQuants, Q8_0KeepsEachValueWithinHalfAStep) {
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0, 0.05f);
  std::vector<float> x(32 * 64), y(x.size());
  for (auto& v : x) v = normal(rng);
  std::fill(x.begin(), x.begin() + 32, 0.0f);  // an all-zero block: scale 0, values 0
  const std::string q = QuantizeGgufQ8_0(x.data(), x.size());
  ASSERT_EQ(q.size(), x.size() / 32 * 34);
  ASSERT_TRUE(DequantizeGguf(GgmlType::kQ8_0, q, x.size(), y.data()).ok());
  for (size_t b = 0; b < x.size() / 32; ++b) {
    float amax = 0;
    for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(x[b * 32 + j]));
    // Half a step, plus the f16 rounding of the scale (2^-11 relative) times the largest quant.
    const float step = amax / 127;
    for (int j = 0; j < 32; ++j)
      ASSERT_NEAR(y[b * 32 + j], x[b * 32 + j], step * (0.5f + 127.0f / 2048) + 1e-12f);
  }
  EXPECT_FALSE(DequantizeGguf(GgmlType::kQ8_0, q.substr(1), x.size(), y.data()).ok());
}

uint16_t HalfOf(float x) {
  std::string b = QuantizeGgufF16(&x, 1);
  uint16_t h;
  std::memcpy(&h, b.data(), 2);
  return h;
}

// Q6_K, worked by hand from the layout: 128 low-nibble bytes, 64 bytes of 2-bit pairs, 16 int8
// scales, an f16 d. Values 0..255 with quants q(i) = i % 64 need, for value i in half h at
// position l + 32*k (k = 0..3): low nibble q & 15 in byte 64h + l (+32 for k odd; high nibble for
// k >= 2) and q >> 4 in bits 2k..2k+1 of byte 128 + 32h + l.
TEST(GgufQuants, Q6KMatchesTheBlockLayoutWorkedByHand) {
  std::string block(210, '\0');
  auto q_of = [](int i) { return i % 64; };
  for (int h = 0; h < 2; ++h)
    for (int k = 0; k < 4; ++k)
      for (int l = 0; l < 32; ++l) {
        const int i = 128 * h + 32 * k + l, q = q_of(i);
        auto& low = block[static_cast<size_t>(64 * h + l + (k % 2) * 32)];
        low = static_cast<char>(static_cast<uint8_t>(low) | ((q & 15) << (k >= 2 ? 4 : 0)));
        auto& high = block[static_cast<size_t>(128 + 32 * h + l)];
        high = static_cast<char>(static_cast<uint8_t>(high) | ((q >> 4) << (2 * k)));
      }
  for (int s = 0; s < 16; ++s) block[static_cast<size_t>(192 + s)] = static_cast<char>(s - 8);
  const uint16_t d = HalfOf(0.5f);
  std::memcpy(&block[208], &d, 2);
  std::vector<float> y(256);
  ASSERT_TRUE(DequantizeGguf(GgmlType::kQ6_K, block, 256, y.data()).ok());
  for (int i = 0; i < 256; ++i) {
    const int scale = i / 16 - 8;  // each 16 values have their own scale, in order
    ASSERT_EQ(y[static_cast<size_t>(i)], 0.5f * static_cast<float>(scale * (q_of(i) - 32))) << i;
  }
}

// Q4_K, worked by hand: f16 d and dmin, 12 bytes of 6-bit scales and mins, 128 nibble bytes. Sub-
// block j (32 values) uses scale sc(j) and min m(j); values 64p..64p+31 are the low nibbles of
// bytes 32p..32p+31, the next 32 their high nibbles.
TEST(GgufQuants, Q4KMatchesTheBlockLayoutWorkedByHand) {
  const int sc[8] = {1, 2, 3, 63, 5, 17, 40, 63}, mn[8] = {0, 1, 2, 3, 60, 33, 9, 63};
  std::string block(144, '\0');
  const uint16_t d = HalfOf(0.25f), dmin = HalfOf(0.125f);
  std::memcpy(&block[0], &d, 2);
  std::memcpy(&block[2], &dmin, 2);
  auto* s = reinterpret_cast<uint8_t*>(&block[4]);
  for (int j = 0; j < 4; ++j) {
    s[j] = static_cast<uint8_t>(sc[j] | ((sc[j + 4] >> 4) << 6));
    s[j + 4] = static_cast<uint8_t>(mn[j] | ((mn[j + 4] >> 4) << 6));
    s[j + 8] = static_cast<uint8_t>((sc[j + 4] & 15) | ((mn[j + 4] & 15) << 4));
  }
  auto q_of = [](int i) { return (i * 7) % 16; };
  for (int i = 0; i < 256; ++i) {
    const int p = i / 64, within = i % 64, byte = 32 * p + within % 32;
    auto& b = block[static_cast<size_t>(16 + byte)];
    b = static_cast<char>(static_cast<uint8_t>(b) | (q_of(i) << (within >= 32 ? 4 : 0)));
  }
  std::vector<float> y(256);
  ASSERT_TRUE(DequantizeGguf(GgmlType::kQ4_K, block, 256, y.data()).ok());
  for (int i = 0; i < 256; ++i) {
    const int j = i / 32;
    ASSERT_FLOAT_EQ(y[static_cast<size_t>(i)], 0.25f * sc[j] * q_of(i) - 0.125f * mn[j]) << i;
  }
}

// Blocks llama.cpp's quantizer wrote (tests/engine/data/README.md) read back close to the
// float32 rows they came from: a misread bit layout would scatter the values far beyond this.
TEST(GgufQuants, ReadsBlocksLlamaCppQuantized) {
  const std::string data = std::string(LATHE_SOURCE_DIR) + "/tests/engine/data/ffn_gate_rows.";
  const std::string original_bytes = testing::ReadFile(data + "f32");
  ASSERT_EQ(original_bytes.size(), 512u * 4);
  std::vector<float> original(512);
  std::memcpy(original.data(), original_bytes.data(), original_bytes.size());
  double energy = 0;
  for (float v : original) energy += double{v} * v;
  // Relative RMS error: 4-bit quants with 6-bit scales land near 7 %, 6-bit near 1.8 %.
  for (const auto& [type, suffix, bound] : {std::tuple{GgmlType::kQ4_K, "q4_k", 0.09},
                                            std::tuple{GgmlType::kQ6_K, "q6_k", 0.025}}) {
    std::vector<float> y(512);
    ASSERT_TRUE(DequantizeGguf(type, testing::ReadFile(data + suffix), 512, y.data()).ok());
    double err = 0;
    for (size_t i = 0; i < 512; ++i) err += (double{y[i]} - original[i]) * (double{y[i]} - original[i]);
    EXPECT_LT(std::sqrt(err / energy), bound) << GgmlTypeName(type);
  }
}

TEST(GgufConvert, NamesFollowLlamaCpp) {
  EXPECT_EQ(GgufTensorName("model.embed_tokens.weight"), "token_embd.weight");
  EXPECT_EQ(GgufTensorName("model.layers.12.self_attn.o_proj.weight"), "blk.12.attn_output.weight");
  EXPECT_EQ(GgufTensorName("model.layers.0.mlp.gate_proj.weight"), "blk.0.ffn_gate.weight");
  EXPECT_EQ(GgufTensorName("model.layers.x.mlp.gate_proj.weight"), "");
  EXPECT_EQ(GgufTensorName("model.layers..mlp.up_proj.weight"), "");
  EXPECT_EQ(GgufTensorName("model.layers.1.self_attn.q_proj.bias"), "");
}

// Mean negative log-likelihood per token of `ids` under the model (teacher forcing).
double MeanNll(LanguageModel& m, const std::vector<int>& ids) {
  auto logits = m.Logits(ids);
  EXPECT_TRUE(logits.ok());
  const size_t vocab = static_cast<size_t>(m.config().vocab_size);
  double nll = 0;
  for (size_t t = 0; t + 1 < ids.size(); ++t) {
    const float* row = logits->data() + t * vocab;
    const double mx = *std::max_element(row, row + vocab);
    double z = 0;
    for (size_t v = 0; v < vocab; ++v) z += std::exp(row[v] - mx);
    nll -= row[ids[t + 1]] - mx - std::log(z);
  }
  return nll / static_cast<double>(ids.size() - 1);
}

TEST(GgufConvert, Stories260KSurvivesExportAndImportAtEachPrecision) {
  LATHE_REQUIRE_SHARED("models/stories260K");
  const std::string shared = testing::SharedDir() + "/models/stories260K";
  testing::TempDir dir;
  ASSERT_TRUE(ImportLlama2c(shared + "/stories260K.bin", shared + "/tok512.model", dir.File("hf")).ok());
  auto reference = LanguageModel::Load(dir.File("hf"));
  ASSERT_TRUE(reference.ok()) << reference.status().ToString();
  // Held-out text: not the model's own greedy continuation.
  const std::string text = "Tom had a small boat. He took it to the pond with his dad. The wind came and the boat "
                           "went far away. Tom was sad, but his dad said they could make a new one together.";
  auto ids = (*reference)->EncodePrompt(text, {});
  ASSERT_TRUE(ids.ok());
  const double reference_nll = MeanNll(**reference, *ids);
  auto reference_logits = (*reference)->Logits(*ids);

  struct Case {
    GgmlType type;
    double max_logit_error, max_perplexity_ratio;
  };
  for (const Case& c : {Case{GgmlType::kF32, 0, 1.0}, Case{GgmlType::kF16, 0.05, 1.002},
                        Case{GgmlType::kQ8_0, 0.5, 1.02}}) {
    SCOPED_TRACE(GgmlTypeName(c.type));
    const std::string gguf = dir.File(std::string("m.") + GgmlTypeName(c.type) + ".gguf");
    auto exported = ExportGguf(dir.File("hf"), gguf, c.type);
    ASSERT_TRUE(exported.ok()) << exported.status().ToString();
    const std::string back = gguf + ".hf";
    auto imported = ImportGguf(gguf, back);
    ASSERT_TRUE(imported.ok()) << imported.status().ToString();
    EXPECT_EQ(imported->config.num_layers, 5);
    auto model = LanguageModel::Load(back);
    ASSERT_TRUE(model.ok()) << model.status().ToString();
    auto logits = (*model)->Logits(*ids);
    ASSERT_TRUE(logits.ok());
    float worst = 0;
    for (size_t i = 0; i < logits->size(); ++i) worst = std::max(worst, std::fabs((*logits)[i] - (*reference_logits)[i]));
    EXPECT_LE(worst, c.max_logit_error);
    const double ratio = std::exp(MeanNll(**model, *ids) - reference_nll);
    EXPECT_LE(ratio, c.max_perplexity_ratio) << "perplexity " << std::exp(reference_nll) << " -> "
                                              << std::exp(reference_nll) * ratio;
    std::cout << GgmlTypeName(c.type) << ": " << exported->bytes << " bytes, max logit error " << worst
              << ", perplexity " << std::exp(reference_nll) << " -> " << std::exp(reference_nll) * ratio << "\n";
  }
}

TEST(GgufConvert, ImportRefusesWhatItCannotCarry) {
  testing::TempDir dir;
  std::map<std::string, GgufValue> m = {{"general.architecture", GgufValue::String("qwen2")}};
  const std::string qwen = dir.Write("q.gguf", *SerializeGguf(m, {}));
  auto r = ImportGguf(qwen, dir.File("out"));
  EXPECT_EQ(r.status().code(), Status::Code::kUnsupported);
  EXPECT_NE(r.status().message().find("qwen2"), std::string::npos);
  m["general.architecture"] = GgufValue::String("llama");
  m["tokenizer.ggml.model"] = GgufValue::String("gpt2");  // a BPE vocabulary without its tokens
  r = ImportGguf(dir.Write("g.gguf", *SerializeGguf(m, {})), dir.File("out"));
  EXPECT_NE(r.status().message().find("tokenizer.ggml.tokens"), std::string::npos) << r.status().message();
  m["tokenizer.ggml.model"] = GgufValue::String("rwkv");
  r = ImportGguf(dir.Write("w.gguf", *SerializeGguf(m, {})), dir.File("out"));
  EXPECT_EQ(r.status().code(), Status::Code::kUnsupported);
  EXPECT_NE(r.status().message().find("rwkv"), std::string::npos) << r.status().message();
  m["tokenizer.ggml.model"] = GgufValue::String("llama");
  m["tokenizer.ggml.tokens"] = GgufValue::StringArray({"<unk>", "<s>", "</s>"});
  m["tokenizer.ggml.scores"] = GgufValue::NumberArray(GgufType::kF32, {0, 0});  // one short
  m["tokenizer.ggml.token_type"] = GgufValue::NumberArray(GgufType::kI32, {2, 3, 3});
  r = ImportGguf(dir.Write("s.gguf", *SerializeGguf(m, {})), dir.File("out"));
  EXPECT_NE(r.status().message().find("as long as"), std::string::npos) << r.status().message();
  EXPECT_FALSE(std::ifstream(dir.File("out") + "/config.json").good());  // nothing half-written
}

}  // namespace
}  // namespace lathe::engine
