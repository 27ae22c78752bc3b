// Llama 3's rope scaling through GGUF: the per-frequency divisors llama.cpp's converter writes
// (rope_freqs.weight), back to config.json's four numbers; a model with that scaling exported and
// imported back gives the same logits.
#include "engine/gguf_rope_freqs.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <limits>

#include "engine/gguf_convert.h"
#include "engine/language_model.h"
#include "test_util.h"
#include "tiny_model.h"

namespace lathe::engine {
namespace {

ModelConfig Llama3Shape(double factor) {
  ModelConfig c;
  c.head_dim = 128;
  c.rope_theta = 500000;
  c.rope_scaling = {"llama3", factor, 1.0, 4.0, 8192};
  return c;
}

// Llama 3.1's (factor 8) and 3.2's (factor 32) divisors give their four numbers back exactly.
TEST(GgufRopeFreqs, Llama3sDivisorsGiveItsParametersBack) {
  for (double factor : {8.0, 32.0}) {
    const ModelConfig c = Llama3Shape(factor);
    const std::vector<float> freqs = Llama3RopeFreqs(c);
    ASSERT_EQ(freqs.size(), 64u);
    EXPECT_EQ(freqs.front(), 1.0f);  // the fastest frequency is untouched
    EXPECT_EQ(freqs.back(), static_cast<float>(factor));
    int between = 0;
    for (float f : freqs) between += f > 1 && f < factor;
    EXPECT_GT(between, 1) << "some divisors lie on the smooth part";
    ModelConfig back;
    back.head_dim = 128;
    back.rope_theta = 500000;
    ASSERT_TRUE(RopeScalingFromFreqs(freqs, "m.gguf", &back).ok());
    EXPECT_EQ(back.rope_scaling.type, "llama3");
    EXPECT_DOUBLE_EQ(back.rope_scaling.factor, factor);
    EXPECT_EQ(back.rope_scaling.low_freq_factor, 1.0);
    EXPECT_EQ(back.rope_scaling.high_freq_factor, 4.0);
    EXPECT_EQ(back.rope_scaling.original_max_position_embeddings, 8192);
  }
}

TEST(GgufRopeFreqs, RefusesWhatIsNotLlama3sScalingNamingTheFile) {
  ModelConfig c = Llama3Shape(8);
  std::vector<float> freqs = Llama3RopeFreqs(c);
  ModelConfig out = c;
  out.rope_scaling = {};
  std::vector<float> ones(64, 1.0f);
  ASSERT_TRUE(RopeScalingFromFreqs(ones, "m.gguf", &out).ok());
  EXPECT_TRUE(out.rope_scaling.type.empty()) << "all ones: no scaling";

  std::vector<float> bent = freqs;
  bent[40] *= 1.5f;  // no llama3 parameters give this
  Status s = RopeScalingFromFreqs(bent, "m.gguf", &out);
  EXPECT_EQ(s.code(), Status::Code::kUnsupported);
  EXPECT_NE(s.message().find("m.gguf"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("frequency 40"), std::string::npos) << s.message();

  s = RopeScalingFromFreqs(std::vector<float>(63, 1.0f), "m.gguf", &out);
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument) << s.message();
  for (float hostile : {std::nanf(""), std::numeric_limits<float>::infinity(), 0.0f, -8.0f}) {
    std::vector<float> bad = freqs;
    bad[10] = hostile;
    EXPECT_EQ(RopeScalingFromFreqs(bad, "m.gguf", &out).code(), Status::Code::kInvalidArgument) << hostile;
  }
}

// A model with Llama 3's rope scaling (and head_dim 64, so some frequencies are on the smooth
// part) through GGUF and back: the same scaling in config.json, the same logits.
TEST(GgufRopeFreqs, AModelWithLlama3sScalingSurvivesExportAndImport) {
  LATHE_REQUIRE_SHARED("tokenizers/llama2");
  ModelConfig c;
  c.architecture = "LlamaForCausalLM";
  c.vocab_size = 32000;
  c.hidden_size = 128;
  c.intermediate_size = 64;
  c.num_layers = 1;
  c.num_heads = 2;
  c.num_kv_heads = 2;
  c.head_dim = 64;
  c.max_position_embeddings = 64;
  c.rope_theta = 500000;
  c.rope_scaling = {"llama3", 8.0, 1.0, 4.0, 8192};
  testing::TempDir dir;
  const std::string hf = dir.File("hf");
  testing::WriteModelDir(hf, c, testing::RandomWeights(c, 11), testing::SharedDir() + "/tokenizers/llama2/tokenizer.model");
  auto exported = ExportGguf(hf, dir.File("m.gguf"), GgmlType::kF32);
  ASSERT_TRUE(exported.ok()) << exported.status().ToString();
  auto imported = ImportGguf(dir.File("m.gguf"), dir.File("back"));
  ASSERT_TRUE(imported.ok()) << imported.status().ToString();
  EXPECT_EQ(imported->config.rope_scaling.type, "llama3");
  EXPECT_DOUBLE_EQ(imported->config.rope_scaling.factor, 8.0);
  EXPECT_EQ(imported->config.rope_scaling.original_max_position_embeddings, 8192);

  auto before = LanguageModel::Load(hf);
  auto after = LanguageModel::Load(dir.File("back"));
  ASSERT_TRUE(before.ok()) << before.status().ToString();
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  auto ids = (*before)->EncodePrompt("Once upon a time there was a little dog who liked the sea", {});
  ASSERT_TRUE(ids.ok());
  auto la = (*before)->Logits(*ids);
  auto lb = (*after)->Logits(*ids);
  ASSERT_TRUE(la.ok() && lb.ok());
  ASSERT_EQ(la->size(), lb->size());
  for (size_t i = 0; i < la->size(); ++i) ASSERT_NEAR((*la)[i], (*lb)[i], 1e-5) << i;

  // Without the scaling the same weights give other logits: the tensor carried something.
  ModelConfig plain = c;
  plain.rope_scaling = {};
  const std::string unscaled = dir.File("plain");
  testing::WriteModelDir(unscaled, plain, testing::RandomWeights(plain, 11),
                         testing::SharedDir() + "/tokenizers/llama2/tokenizer.model");
  auto p = LanguageModel::Load(unscaled);
  ASSERT_TRUE(p.ok());
  auto lp = (*p)->Logits(*ids);
  ASSERT_TRUE(lp.ok());
  float differ = 0;
  for (size_t i = 0; i < la->size(); ++i) differ = std::max(differ, std::fabs((*la)[i] - (*lp)[i]));
  EXPECT_GT(differ, 1e-4);
}

}  // namespace
}  // namespace lathe::engine
