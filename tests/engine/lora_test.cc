// The training forward pass and LoRA: gradients against finite differences, completion-only
// masking, agreement with the inference path, and a loss that falls on a memorisation task.
#include <ATen/ATen.h>
#include <ATen/autocast_mode.h>
#include <gtest/gtest.h>

#include "engine/lora.h"
#include "tiny_model.h"

namespace lathe::engine {
namespace {

ModelConfig Tiny() {
  ModelConfig c;
  c.vocab_size = 23;
  c.hidden_size = 16;
  c.intermediate_size = 24;
  c.num_layers = 2;
  c.num_heads = 4;
  c.num_kv_heads = 2;
  c.head_dim = 4;
  c.max_position_embeddings = 32;
  c.rope_theta = 100.0;
  return c;
}

LlamaWeights Weights(const ModelConfig& c, at::ScalarType dtype) {
  std::map<std::string, at::Tensor> named;
  for (auto& [name, values] : lathe::testing::RandomWeights(c, 11)) {
    at::Tensor t = at::empty({static_cast<int64_t>(values.size())}, at::kFloat);
    std::copy(values.begin(), values.end(), t.data_ptr<float>());
    named[name] = t.to(dtype);
  }
  for (const auto& [name, shape] : ExpectedTensors(c)) named[name] = named[name].view(shape);
  return std::move(WeightsFromNamed(c, named)).value();
}

// Built on first use: tensors must not be created during static initialisation.
const at::Tensor& TokensTensor() {
  static const at::Tensor t = at::tensor({3, 7, 1, 9, 12, 4, 4, 20}, at::kLong).view({1, 8});
  return t;
}
// The first three tokens are the "prompt": their predictions must not count.
const at::Tensor& TargetTensor() {
  static const at::Tensor t = at::tensor({0, 0, 0, 1, 1, 1, 1, 1}, at::kLong).view({1, 8}).to(at::kBool);
  return t;
}

double Loss(const ModelConfig& c, const LlamaWeights& w, const LoraAdapters* l, bool chunked = false) {
  int64_t n = 0;
  return TrainingLoss(c, w, l, TokensTensor(), TargetTensor(), false, chunked, &n).item<double>();
}

// Central differences on entries of `param`, compared with its autograd gradient (of the loss
// with the output layer chunked or not).
void CheckGradient(const ModelConfig& c, const LlamaWeights& w, const LoraAdapters* l, at::Tensor param,
                   bool chunked = false) {
  param.mutable_grad() = at::Tensor();
  int64_t n = 0;
  TrainingLoss(c, w, l, TokensTensor(), TargetTensor(), false, chunked, &n).backward();
  at::Tensor grad = param.grad().clone();
  at::Tensor flat = param.detach().view({-1});
  const double eps = 1e-6;
  for (int64_t i : {int64_t{0}, flat.numel() / 3, flat.numel() - 1}) {
    const double keep = flat[i].item<double>();
    flat[i] = keep + eps;
    const double up = Loss(c, w, l, chunked);
    flat[i] = keep - eps;
    const double down = Loss(c, w, l, chunked);
    flat[i] = keep;
    const double numeric = (up - down) / (2 * eps);
    EXPECT_NEAR(grad.view({-1})[i].item<double>(), numeric, 1e-7 + 1e-5 * std::abs(numeric)) << "entry " << i;
  }
}

TEST(Lora, GradientsMatchFiniteDifferences) {
  for (bool chunked : {false, true}) {
    ModelConfig c = Tiny();
    LlamaWeights w = Weights(c, at::kDouble);
    auto lora = NewLoraAdapters(c, 4, 8.0, 0.0, {"q_proj", "v_proj", "down_proj"}, 1);
    ASSERT_TRUE(lora.ok());
    for (auto& layer : lora->layers)
      for (auto& [name, p] : layer) {  // double, and B away from zero so A gets gradients too
        p.a = p.a.detach().to(at::kDouble).set_requires_grad(true);
        p.b = (at::randn(p.b.sizes(), at::kDouble) * 0.1).set_requires_grad(true);
      }
    SCOPED_TRACE(chunked ? "chunked output layer" : "whole output layer");
    CheckGradient(c, w, &*lora, lora->layers[0]["q_proj"].a, chunked);
    CheckGradient(c, w, &*lora, lora->layers[1]["v_proj"].b, chunked);
    CheckGradient(c, w, &*lora, lora->layers[1]["down_proj"].a, chunked);
  }
}

TEST(FullFineTuning, GradientsMatchFiniteDifferences) {
  for (bool tied : {false, true})
    for (bool chunked : {false, true}) {
      ModelConfig c = Tiny();
      c.tie_word_embeddings = tied;
      LlamaWeights w = Weights(c, at::kDouble);
      w.layers[0].wk.set_requires_grad(true);
      w.layers[1].w_up.set_requires_grad(true);
      w.embed.set_requires_grad(true);
      w.lm_head.set_requires_grad(true);  // the same tensor as embed when tied
      SCOPED_TRACE(std::string(tied ? "tied, " : "untied, ") + (chunked ? "chunked output layer" : "whole output layer"));
      CheckGradient(c, w, nullptr, w.layers[0].wk, chunked);
      CheckGradient(c, w, nullptr, w.layers[1].w_up, chunked);
      CheckGradient(c, w, nullptr, w.embed, chunked);
      if (!tied) CheckGradient(c, w, nullptr, w.lm_head, chunked);
    }
}

TEST(Training, PromptPositionsGetNoGradient) {
  ModelConfig c = Tiny();
  LlamaWeights w = Weights(c, at::kFloat);
  at::Tensor logits = TrainingLogits(c, w, nullptr, TokensTensor(), false).detach().set_requires_grad(true);
  int64_t n = 0;
  MaskedNextTokenLoss(logits, TokensTensor(), TargetTensor(), &n).backward();
  EXPECT_EQ(n, 5);
  at::Tensor per_position = logits.grad().abs().sum(-1).view({-1});
  // Position t predicts token t+1: positions 0 and 1 predict prompt tokens 1 and 2.
  EXPECT_EQ(per_position[0].item<float>(), 0.0f);
  EXPECT_EQ(per_position[1].item<float>(), 0.0f);
  for (int t = 2; t < 7; ++t) EXPECT_GT(per_position[t].item<float>(), 0.0f) << t;
  EXPECT_EQ(per_position[7].item<float>(), 0.0f);  // the last position predicts nothing
}

TEST(Training, ForwardAgreesWithTheInferencePathAndFreshLoraChangesNothing) {
  ModelConfig c = Tiny();
  LlamaWeights w = Weights(c, at::kFloat);
  LlamaModel model(c, w);
  KVCache cache = model.NewCache(1, 8);
  at::Tensor inference = model.Forward(TokensTensor(), at::arange(8, at::kLong).view({1, 8}), {}, &cache, false);
  at::Tensor training = TrainingLogits(c, w, nullptr, TokensTensor(), false);
  EXPECT_LT((inference - training).abs().max().item<float>(), 1e-4f);
  auto lora = NewLoraAdapters(c, 4, 8.0, 0.0, {"q_proj", "v_proj"}, 1);
  EXPECT_LT((TrainingLogits(c, w, &*lora, TokensTensor(), false) - training).abs().max().item<float>(), 1e-6f);
}

// CPU bf16 autocast for the lifetime of the object.
struct Bf16AutocastForTest {
  Bf16AutocastForTest() {
    at::autocast::set_autocast_cpu_dtype(at::kBFloat16);
    at::autocast::set_cpu_enabled(true);
  }
  ~Bf16AutocastForTest() {
    at::autocast::set_cpu_enabled(false);
    at::autocast::clear_cache();
  }
};

TEST(Training, FrozenBaseHeldInBf16EqualsAutocastOfTheFp32Base) {
  for (bool tied : {false, true}) {
    ModelConfig c = Tiny();
    c.tie_word_embeddings = tied;
    LlamaWeights w = Weights(c, at::kFloat);
    // Embedding rows are looked up, not cast by autocast: make them bf16 values already, so the
    // two paths must agree exactly.
    w.embed = w.embed.to(at::kBFloat16).to(at::kFloat);
    if (tied) w.lm_head = w.embed;
    auto lora = NewLoraAdapters(c, 4, 8.0, 0.0, {"q_proj", "v_proj", "down_proj"}, 1);
    ASSERT_TRUE(lora.ok());
    {
      at::NoGradGuard no_grad;  // B away from zero so that A gets gradients too
      for (auto& layer : lora->layers)
        for (auto& [name, p] : layer) p.b.copy_(at::randn(p.b.sizes()) * 0.1);
    }
    LlamaWeights frozen = w;  // shares tensors; the conversion replaces them in `frozen` only
    KeepFrozenMatricesInBf16(&frozen);
    EXPECT_EQ(frozen.layers[1].w_down.scalar_type(), at::kBFloat16);
    EXPECT_EQ(frozen.embed.scalar_type(), at::kBFloat16);
    EXPECT_EQ(frozen.lm_head.scalar_type(), at::kBFloat16);
    EXPECT_EQ(frozen.lm_head.is_same(frozen.embed), tied);
    EXPECT_EQ(frozen.norm.scalar_type(), at::kFloat);
    EXPECT_EQ(frozen.layers[0].attn_norm.scalar_type(), at::kFloat);
    EXPECT_EQ(w.layers[1].w_down.scalar_type(), at::kFloat);

    Bf16AutocastForTest autocast;
    std::vector<at::Tensor> grads[2];
    at::Tensor logits[2];
    for (int i = 0; i < 2; ++i) {
      at::autocast::clear_cache();
      for (auto& p : lora->Parameters()) p.mutable_grad() = at::Tensor();
      logits[i] = TrainingLogits(c, i == 0 ? w : frozen, &*lora, TokensTensor(), false);
      int64_t n = 0;
      MaskedNextTokenLoss(logits[i], TokensTensor(), TargetTensor(), &n).backward();
      for (auto& p : lora->Parameters()) grads[i].push_back(p.grad().clone());
    }
    EXPECT_TRUE(at::equal(logits[0], logits[1])) << "tied " << tied;
    for (size_t k = 0; k < grads[0].size(); ++k) EXPECT_TRUE(at::equal(grads[0][k], grads[1][k])) << "parameter " << k;
  }
}

// Plain SGD on `params`: the optimizer is not under test here.
double TrainSteps(const ModelConfig& c, const LlamaWeights& w, const LoraAdapters* lora,
                  std::vector<at::Tensor> params, int steps, double lr) {
  for (int step = 0; step < steps; ++step) {
    int64_t n = 0;
    at::Tensor loss = MaskedNextTokenLoss(TrainingLogits(c, w, lora, TokensTensor(), true), TokensTensor(),
                                          TargetTensor(), &n);
    for (auto& p : params) p.mutable_grad() = at::Tensor();
    loss.backward();
    at::NoGradGuard no_grad;
    for (auto& p : params) p.sub_(p.grad() * lr);
  }
  return Loss(c, w, lora);
}

TEST(Training, FullFineTuningMemorisesASequence) {
  ModelConfig c = Tiny();
  LlamaWeights w = Weights(c, at::kFloat);
  std::vector<at::Tensor> params = {w.embed, w.norm, w.lm_head};
  for (auto& l : w.layers)
    for (at::Tensor* t : {&l.attn_norm, &l.wq, &l.wk, &l.wv, &l.wo, &l.mlp_norm, &l.w_gate, &l.w_up, &l.w_down})
      params.push_back(*t);
  for (auto& p : params) p.set_requires_grad(true);
  const double first = Loss(c, w, nullptr);
  EXPECT_LT(TrainSteps(c, w, nullptr, params, 150, 0.5), first * 0.05) << "initial loss " << first;
}

TEST(Training, LoraLowersTheLoss) {
  // LoRA adapts only the projections: with this tiny model's fixed output matrix and RMS-normed
  // final state the logits stay within about +-2, so the loss cannot approach zero; it halves.
  ModelConfig c = Tiny();
  LlamaWeights w = Weights(c, at::kFloat);
  auto lora = NewLoraAdapters(c, 8, 16.0, 0.0, {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"}, 3);
  ASSERT_TRUE(lora.ok());
  const double first = Loss(c, w, &*lora);
  EXPECT_LT(TrainSteps(c, w, &*lora, lora->Parameters(), 100, 0.3), first * 0.6) << "initial loss " << first;
}

}  // namespace
}  // namespace lathe::engine
