// The hand-written decode kernel against the ATen forward pass: same logits for every step, with
// GQA, biases, llama3 RoPE scaling, tied heads and left padding.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <tuple>

#include "engine/gemv_kernels.h"
#include "engine/language_model.h"
#include "engine/llama_model.h"
#include "tiny_model.h"

namespace lathe::engine {
namespace {

ModelConfig Config(bool qwen, bool blocks_fit = false) {
  ModelConfig c;
  c.architecture = qwen ? "Qwen2ForCausalLM" : "LlamaForCausalLM";
  c.vocab_size = 97;
  c.hidden_size = 32;
  // 40 is not a multiple of Q8_0's 32-weight blocks: the MLP's down matrix falls back to bf16.
  c.intermediate_size = blocks_fit ? 64 : 40;
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

void CompareDecodeSteps(bool qwen, WeightPrecision precision = WeightPrecision::kF32, bool blocks_fit = false) {
  ModelConfig c = Config(qwen, blocks_fit);
  LlamaModel m = Build(c), ref_model = Build(c);
  m.HoldWeightsIn(precision);
  ref_model.HoldWeightsIn(precision);
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
    // q8_0 decode also rounds the activations to 8 bits per block (gemv_kernels.h), which the
    // tensor path does not: its logits move by a small fraction of their range, not by float noise.
    const float bound = precision == WeightPrecision::kQ8_0 ? 2e-2f * ref.abs().max().item<float>() : 1e-4f;
    EXPECT_LT((got - ref).abs().max().item<float>(), bound) << "step " << s << ", logits up to " << ref.abs().max().item<float>();
    next = got.argmax(-1).view({B, 1});
  }
}

TEST(DecodeKernel, MatchesTheTensorPathWithGqaLlama3RopeAndPadding) { CompareDecodeSteps(false); }

// One sequence takes the kernel whatever the model's width (so continuous batching's lone
// sequence and a batch-1 decode get the same numbers); several sequences of a wide f32 model,
// and prompts, take the matrix-matrix products.
TEST(DecodeKernel, OneSequenceTakesTheKernelAtAnyWidth) {
  ModelConfig c = Config(false);
  c.hidden_size = 1152;
  c.head_dim = 288;
  LlamaModel m = Build(c);
  EXPECT_TRUE(m.UseDecodeKernel(1, 1));
  EXPECT_FALSE(m.UseDecodeKernel(2, 1));
  EXPECT_FALSE(m.UseDecodeKernel(1, 2));
  m.HoldWeightsIn(WeightPrecision::kBf16);
  EXPECT_TRUE(m.UseDecodeKernel(2, 1)) << "compact weights are read by the kernel only";
}
TEST(DecodeKernel, MatchesTheTensorPathWithBiasesAndTiedHead) { CompareDecodeSteps(true); }

// Held in bf16 or q8_0, the kernel reads the compact matrices and the tensor path their values
// expanded to f32: one model, so the logits agree as closely as in f32 for bf16, and within the
// activations' rounding for q8_0.
TEST(DecodeKernel, CompactWeightsGiveTheTensorPathsLogits) {
  for (WeightPrecision p : {WeightPrecision::kBf16, WeightPrecision::kQ8_0})
    for (bool qwen : {false, true})
      for (bool blocks_fit : {false, true}) {
        SCOPED_TRACE(std::string(WeightPrecisionName(p)) + (qwen ? " qwen" : " llama") + (blocks_fit ? " fit" : ""));
        CompareDecodeSteps(qwen, p, blocks_fit);
      }
}

// The rounding is real, and bounded: compact weights move the logits a little, not a lot, and the
// memory they take is counted.
TEST(DecodeKernel, CompactWeightsStayCloseToF32AndAreCounted) {
  ModelConfig c = Config(false, true);
  LlamaModel f32 = Build(c);
  at::Tensor tokens = at::tensor({3, 14, 15, 9, 26, 5, 35}, at::kLong).view({1, 7});
  at::Tensor pos = at::arange(7, at::kLong).view({1, 7});
  KVCache cache = f32.NewCache(1, 7);
  const at::Tensor ref = f32.Forward(tokens, pos, {}, &cache, false);
  const double scale = ref.abs().max().item<float>();
  for (auto [p, lo, hi] : {std::tuple{WeightPrecision::kBf16, 1e-5, 2e-2}, std::tuple{WeightPrecision::kQ8_0, 1e-5, 4e-2}}) {
    LlamaModel m = Build(c);
    m.HoldWeightsIn(p);
    EXPECT_EQ(m.weight_precision(), p);
    KVCache k = m.NewCache(1, 7);
    const double err = (m.Forward(tokens, pos, {}, &k, false) - ref).abs().max().item<float>() / scale;
    EXPECT_GT(err, lo) << WeightPrecisionName(p) << ": the weights were not rounded";
    EXPECT_LT(err, hi) << WeightPrecisionName(p);
    // With the AVX-512 kernels the fused f32 matrices are dropped and the model holds less than
    // in f32; without, it holds the compact copies on top. Either way the estimate the server
    // budgets with says what it holds.
    if (GemvVectorKernels()) {
      EXPECT_LT(m.HeldBytes(), f32.HeldBytes()) << WeightPrecisionName(p);
    } else {
      EXPECT_GT(m.HeldBytes(), f32.HeldBytes()) << WeightPrecisionName(p);
    }
    const double estimate = static_cast<double>(EstimateMemory(c, p).weight_bytes);
    EXPECT_NEAR(static_cast<double>(m.HeldBytes()), estimate, 0.02 * estimate) << WeightPrecisionName(p);
  }
}

// Continuous batching's step: sequences at different lengths, each on its own cache, advanced in
// one pass, get bit for bit the logits each gets from a step alone, in every precision.
TEST(DecodeSequences, EachSequenceGetsTheLogitsOfAStepAloneBitForBit) {
  for (WeightPrecision p : {WeightPrecision::kF32, WeightPrecision::kBf16, WeightPrecision::kQ8_0})
    for (bool qwen : {false, true}) {
      SCOPED_TRACE(std::string(WeightPrecisionName(p)) + (qwen ? " qwen" : " llama"));
      ModelConfig c = Config(qwen, /*blocks_fit=*/true);
      LlamaModel m = Build(c);
      m.HoldWeightsIn(p);
      const std::vector<std::vector<int64_t>> prompts = {{3, 14, 15}, {9, 26, 5, 35, 8, 97 - 1}, {42}};
      const int64_t steps = 5;
      std::vector<KVCache> batched, alone;
      std::vector<int64_t> next;
      for (const auto& prompt : prompts) {
        const int64_t P = static_cast<int64_t>(prompt.size());
        at::Tensor tokens = at::tensor(prompt, at::kLong).view({1, P});
        at::Tensor pos = at::arange(P, at::kLong).view({1, P});
        batched.push_back(m.NewCache(1, P + steps + 3));  // capacities differ from each other
        alone.push_back(m.NewCache(1, P + steps));
        m.Forward(tokens, pos, {}, &batched.back(), true);
        next.push_back(m.Forward(tokens, pos, {}, &alone.back(), true).argmax(-1).item<int64_t>());
      }
      for (int64_t s = 0; s < steps; ++s) {
        std::vector<int64_t> positions;
        std::vector<KVCache*> caches;
        for (size_t b = 0; b < prompts.size(); ++b) {
          positions.push_back(static_cast<int64_t>(prompts[b].size()) + s);
          caches.push_back(&batched[b]);
        }
        at::Tensor got = m.DecodeSequences(next, positions, caches);
        ASSERT_EQ(got.sizes(), (std::vector<int64_t>{3, c.vocab_size}));
        for (size_t b = 0; b < prompts.size(); ++b) {
          at::Tensor ref = m.ForwardDecodeKernel(at::tensor({next[b]}, at::kLong).view({1, 1}),
                                                 at::tensor({positions[b]}, at::kLong).view({1, 1}), {}, &alone[b]);
          EXPECT_TRUE(at::equal(got[static_cast<int64_t>(b)], ref[0])) << "step " << s << " sequence " << b;
          next[b] = ref.argmax(-1).item<int64_t>();
        }
      }
      for (size_t b = 0; b < prompts.size(); ++b) EXPECT_EQ(batched[b].length, alone[b].length);
    }
}

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
