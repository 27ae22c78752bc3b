// The hand-written decode kernel against the ATen forward pass: same logits for every step, with
// GQA, biases, llama3 RoPE scaling, tied heads and left padding.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "engine/llama_model.h"
#include "tiny_model.h"

namespace lathe::engine {
namespace {

ModelConfig Config(bool qwen) {
  ModelConfig c;
  c.architecture = qwen ? "Qwen2ForCausalLM" : "LlamaForCausalLM";
  c.vocab_size = 97;
  c.hidden_size = 32;
  c.intermediate_size = 40;
  c.num_layers = 3;
  c.num_heads = 4;
  c.num_kv_heads = 2;
  c.head_dim = 8;
  c.max_position_embeddings = 64;
  c.attention_bias = qwen;
  c.tie_word_embeddings = qwen;
  if (!qwen) c.rope_scaling = {"llama3", 4.0, 1.0, 4.0, 8};
  return c;
}

LlamaModel Build(const ModelConfig& c) {
  std::map<std::string, at::Tensor> named;
  for (auto& [name, values] : lathe::testing::RandomWeights(c, 5)) {
    at::Tensor t = at::empty({static_cast<int64_t>(values.size())}, at::kFloat);
    std::copy(values.begin(), values.end(), t.data_ptr<float>());
    named[name] = t;
  }
  for (const auto& [name, shape] : ExpectedTensors(c)) named[name] = named[name].view(shape);
  return LlamaModel(c, std::move(WeightsFromNamed(c, named)).value());
}

void CompareDecodeSteps(bool qwen) {
  ModelConfig c = Config(qwen);
  LlamaModel m = Build(c), ref_model = Build(c);
  ref_model.set_decode_kernel_enabled(false);  // the ATen path
  // Two sequences, the second left-padded by 2, then 6 decode steps each.
  const int64_t B = 2, P = 5, steps = 6;
  at::Tensor prompt = at::tensor({3, 14, 15, 9, 26, 0, 0, 53, 58, 9}, at::kLong).view({B, P});
  at::Tensor pos = at::tensor({0, 1, 2, 3, 4, 0, 0, 0, 1, 2}, at::kLong).view({B, P});
  at::Tensor valid = at::ones({B, P + steps}, at::kBool);
  valid[1][0] = false;
  valid[1][1] = false;
  KVCache a = m.NewCache(B, P + steps), k = m.NewCache(B, P + steps);
  ref_model.Forward(prompt, pos, valid.narrow(1, 0, P), &a, true);
  m.Forward(prompt, pos, valid.narrow(1, 0, P), &k, true);
  at::Tensor next = at::tensor({7, 11}, at::kLong).view({B, 1});
  for (int64_t s = 0; s < steps; ++s) {
    at::Tensor p = at::tensor({P + s, P - 2 + s}, at::kLong).view({B, 1});
    at::Tensor v = valid.narrow(1, 0, P + s + 1);
    at::Tensor ref = ref_model.Forward(next, p, v, &a, true);
    at::Tensor got = m.ForwardDecodeKernel(next, p, v, &k);
    ASSERT_EQ(got.sizes(), ref.sizes());
    EXPECT_LT((got - ref).abs().max().item<float>(), 1e-4f) << "step " << s;
    next = got.argmax(-1).view({B, 1});
  }
}

TEST(DecodeKernel, MatchesTheTensorPathWithGqaLlama3RopeAndPadding) { CompareDecodeSteps(false); }
TEST(DecodeKernel, MatchesTheTensorPathWithBiasesAndTiedHead) { CompareDecodeSteps(true); }

// LastHidden (what /v1/embeddings averages) is the state the language-model head reads: the head
// applied to it gives Forward's logits at every position.
TEST(LastHidden, IsWhatTheHeadTurnsIntoForwardsLogits) {
  for (bool qwen : {false, true}) {
    ModelConfig c = Config(qwen);
    LlamaModel m = Build(c);
    at::Tensor tokens = at::tensor({3, 14, 15, 9, 26}, at::kLong).view({1, 5});
    at::Tensor pos = at::arange(5, at::kLong).view({1, 5});
    KVCache a = m.NewCache(1, 5), b = m.NewCache(1, 5);
    at::Tensor logits = m.Forward(tokens, pos, {}, &a, false);
    at::Tensor hidden = m.LastHidden(tokens, pos, &b);
    ASSERT_EQ(hidden.sizes(), (std::vector<int64_t>{1, 5, c.hidden_size}));
    EXPECT_LT((at::linear(hidden, m.weights().lm_head) - logits).abs().max().item<float>(), 1e-4f) << qwen;
  }
}

}  // namespace
}  // namespace lathe::engine
