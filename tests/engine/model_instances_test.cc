// Instances over one set of weights (LanguageModel::NewInstance), on the real stories260K model:
// they share the weights, generate exactly what a separately loaded model generates, also from
// two threads at once, and keep the weights alive on their own.
#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "engine/language_model.h"
#include "engine/llama2c_import.h"
#include "test_util.h"
#include "tiny_model.h"

namespace lathe::engine {
namespace {

using lathe::testing::SharedDir;
using lathe::testing::TempDir;

const std::vector<std::string> kPrompts = {"Once upon a time", "The little dog", "Lily and Tom went to the park",
                                           "One day"};

std::vector<std::vector<int>> GreedyTokens(LanguageModel& m) {
  std::vector<std::vector<int>> out;
  for (const auto& p : kPrompts) {
    auto r = m.Generate({p}, {.max_tokens = 40});
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    out.push_back(r.ok() ? (*r)[0].tokens : std::vector<int>{});
  }
  return out;
}

TEST(ModelInstances, ShareOneSetOfWeightsAndGenerateLikeASeparateLoadFromTwoThreads) {
  LATHE_REQUIRE_SHARED("models/stories260K");
  TempDir tmp;
  const std::string stories = SharedDir() + "/models/stories260K";
  ASSERT_TRUE(ImportLlama2c(stories + "/stories260K.bin", stories + "/tok512.model", tmp.File("m")).ok());
  auto separate = LanguageModel::Load(tmp.File("m"));
  auto loaded = LanguageModel::Load(tmp.File("m"));
  ASSERT_TRUE(separate.ok() && loaded.ok());
  const std::vector<std::vector<int>> expected = GreedyTokens(**separate);

  std::unique_ptr<LanguageModel> a = (*loaded)->NewInstance(), b = (*loaded)->NewInstance();
  EXPECT_EQ((*loaded)->WeightUsers(), 3);
  EXPECT_EQ((*separate)->WeightUsers(), 1);  // a separate load shares nothing
  EXPECT_EQ(a->WeightBytes(), (*loaded)->WeightBytes());
  // The service budgets on the estimate from config.json: it must be what loading really holds.
  EXPECT_EQ(EstimateMemory(a->config()).weight_bytes, a->WeightBytes());
  EXPECT_GT(EstimateMemory(a->config()).kv_bytes_per_sequence, 0);

  std::vector<std::vector<int>> from_a, from_b;
  std::thread ta([&] { for (int i = 0; i < 3; ++i) from_a = GreedyTokens(*a); });
  std::thread tb([&] { for (int i = 0; i < 3; ++i) from_b = GreedyTokens(*b); });
  ta.join();
  tb.join();
  EXPECT_EQ(from_a, expected);
  EXPECT_EQ(from_b, expected);

  // The first instance gone, the others still hold the weights.
  loaded->reset();
  a.reset();
  EXPECT_EQ(b->WeightUsers(), 1);
  EXPECT_EQ(GreedyTokens(*b), expected);
  EXPECT_EQ(b->NewInstance()->WeightUsers(), 2);
}

// The service budgets on EstimateMemory before loading: it must be what a load really holds, for
// every layout (biases, tied or untied head, bf16 files, a context longer than the initial RoPE
// table).
TEST(ModelInstances, EstimatedWeightBytesAreWhatALoadHolds) {
  LATHE_REQUIRE_SHARED("models/stories260K");
  for (const auto& [arch, tied, bf16] : std::vector<std::tuple<std::string, bool, bool>>{
           {"LlamaForCausalLM", false, false}, {"Qwen2ForCausalLM", true, false}, {"MistralForCausalLM", false, true}}) {
    ModelConfig c;
    c.architecture = arch;
    c.vocab_size = 512;  // tok512.model's
    c.hidden_size = 32;
    c.intermediate_size = 48;
    c.num_layers = 2;
    c.num_heads = 4;
    c.num_kv_heads = 2;
    c.head_dim = 8;
    c.max_position_embeddings = 5000;
    c.tie_word_embeddings = tied;
    c.attention_bias = arch == "Qwen2ForCausalLM";
    c.bos_token_id = 1;
    c.eos_token_ids = {2};
    TempDir tmp;
    lathe::testing::WriteModelDir(tmp.File("m"), c, lathe::testing::RandomWeights(c, 7),
                                  SharedDir() + "/models/stories260K/tok512.model", bf16);
    auto model = LanguageModel::Load(tmp.File("m"));
    ASSERT_TRUE(model.ok()) << model.status().ToString();
    const MemoryNeed need = EstimateMemory((*model)->config());
    EXPECT_EQ(need.weight_bytes, (*model)->WeightBytes()) << arch;
    EXPECT_EQ(need.kv_bytes_per_sequence, 2 * 2 * 5000 * 2 * 8 * 4) << arch;  // layers*2*ctx*kv_dim*4
    if (arch != "LlamaForCausalLM") continue;  // once is enough for the slow part:
    // past the first 4096 positions the RoPE table grows (to the context, which was counted).
    auto r = (*model)->GenerateTokens({std::vector<int>(4200, 5)}, {.max_tokens = 3});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_FALSE((*r)[0].tokens.empty());
  }
}

}  // namespace
}  // namespace lathe::engine
