// config.json as an untrusted folder brings it: every number bounded before anything is sized
// from it (ParameterCount, ExpectedTensors, memory estimates), with the key named.
#include "engine/model_config.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace lathe::engine {
namespace {

nlohmann::json SmallLlama() {
  return {{"architectures", {"LlamaForCausalLM"}}, {"vocab_size", 512},      {"hidden_size", 64},
          {"intermediate_size", 128},              {"num_hidden_layers", 2}, {"num_attention_heads", 4},
          {"num_key_value_heads", 2},              {"max_position_embeddings", 256}};
}

TEST(ModelConfigBounds, AConfigWithinTheBoundsParses) {
  auto c = ParseModelConfig(SmallLlama(), "config.json");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->head_dim, 16);
  EXPECT_GE(ExpectedTensors(*c).size(), 2u * 9 + 2);  // 9 per layer, the embedding and the final norm
}

TEST(ModelConfigBounds, HugeOrNonPositiveNumbersAreRefusedNamingTheKey) {
  const std::pair<const char*, int64_t> cases[] = {
      {"num_hidden_layers", 1'000'000'000'000}, {"num_hidden_layers", kMaxConfigLayers + 1},
      {"hidden_size", int64_t{1} << 40},       {"intermediate_size", kMaxConfigIntermediate + 1},
      {"vocab_size", kMaxConfigVocabulary + 1}, {"num_attention_heads", 4096},
      {"head_dim", kMaxConfigHeadDim + 2},      {"max_position_embeddings", int64_t{1} << 40},
      {"num_hidden_layers", 0},                 {"vocab_size", -5}};
  for (const auto& [key, value] : cases) {
    nlohmann::json j = SmallLlama();
    j[key] = value;
    auto c = ParseModelConfig(j, "config.json");
    ASSERT_FALSE(c.ok()) << key << "=" << value;
    EXPECT_NE(c.status().message().find(key), std::string::npos) << c.status().message();
  }
}

TEST(ModelConfigBounds, TheLargestAcceptedConfigDoesNotOverflowTheParameterCount) {
  ModelConfig c;
  c.vocab_size = kMaxConfigVocabulary;
  c.hidden_size = kMaxConfigWidth;
  c.intermediate_size = kMaxConfigIntermediate;
  c.num_layers = kMaxConfigLayers;
  c.num_heads = kMaxConfigHeads;
  c.num_kv_heads = kMaxConfigHeads;
  c.head_dim = kMaxConfigHeadDim;
  c.max_position_embeddings = kMaxConfigPositions;
  ASSERT_TRUE(c.Validate().ok()) << c.Validate().ToString();
  EXPECT_GT(c.ParameterCount(), 0);
}

}  // namespace
}  // namespace lathe::engine
