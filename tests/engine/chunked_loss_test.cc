// The chunked output layer + cross-entropy against the unchunked reference (linear, then
// MaskedNextTokenLoss): loss, count and gradients, for chunk sizes that do and do not divide the
// positions, under bf16 autocast, without gradients, and with nothing to predict.
#include "engine/chunked_loss.h"

#include <ATen/ATen.h>
#include <ATen/autocast_mode.h>
#include <gtest/gtest.h>

#include "engine/lora.h"

namespace lathe::engine {
namespace {

constexpr int64_t kBatch = 3, kT = 9, kHidden = 6, kVocab = 13;

struct Inputs {
  at::Tensor hidden, lm_head, tokens, target;
};

Inputs MakeInputs(at::ScalarType dtype) {
  at::manual_seed(5);
  Inputs in;
  in.hidden = at::randn({kBatch, kT, kHidden}, dtype).set_requires_grad(true);
  in.lm_head = at::randn({kVocab, kHidden}, dtype).set_requires_grad(true);
  in.tokens = at::randint(0, kVocab, {kBatch, kT}, at::kLong);
  // Row 0: a prompt of 3 then completion; row 1: every token; row 2: nothing to predict.
  in.target = at::zeros({kBatch, kT}, at::kBool);
  in.target[0].narrow(0, 3, kT - 3).fill_(true);
  in.target[1].fill_(true);
  return in;
}

struct Outcome {
  double loss;
  int64_t count;
  at::Tensor grad_hidden, grad_head;
};

Outcome RunLoss(const Inputs& in, bool chunked, int64_t chunk_elements, double loss_scale = 1.0) {
  in.hidden.mutable_grad() = at::Tensor();
  in.lm_head.mutable_grad() = at::Tensor();
  Outcome r;
  at::Tensor loss = chunked ? ChunkedNextTokenLoss(in.hidden, in.lm_head, in.tokens, in.target, &r.count, chunk_elements)
                            : MaskedNextTokenLoss(at::linear(in.hidden, in.lm_head), in.tokens, in.target, &r.count);
  (loss * loss_scale).backward();
  r.loss = loss.item<double>();
  r.grad_hidden = in.hidden.grad().clone();
  r.grad_head = in.lm_head.grad().clone();
  return r;
}

double MaxDiff(const at::Tensor& a, const at::Tensor& b) { return (a - b).abs().max().item<double>(); }

TEST(ChunkedLoss, EqualsTheUnchunkedLossAndGradientsForAnyChunkSize) {
  Inputs in = MakeInputs(at::kDouble);
  Outcome ref = RunLoss(in, false, 0);
  EXPECT_EQ(ref.count, 6 + 8);
  // 1 row, 3 rows (does not divide the 14 positions), everything at once.
  for (int64_t chunk : {kVocab, 3 * kVocab, int64_t{1} << 20}) {
    Outcome r = RunLoss(in, true, chunk);
    EXPECT_EQ(r.count, ref.count);
    EXPECT_NEAR(r.loss, ref.loss, 1e-12) << chunk;
    EXPECT_LT(MaxDiff(r.grad_hidden, ref.grad_hidden), 1e-12) << chunk;
    EXPECT_LT(MaxDiff(r.grad_head, ref.grad_head), 1e-12) << chunk;
  }
}

TEST(ChunkedLoss, PositionsWithoutATargetGetNoGradient) {
  Inputs in = MakeInputs(at::kDouble);
  Outcome r = RunLoss(in, true, 2 * kVocab);
  at::Tensor per_position = r.grad_hidden.abs().sum(-1);  // [batch, T]
  // Position t predicts token t + 1: row 0 predicts its targets from positions 2..7.
  for (int64_t t = 0; t < kT; ++t) {
    EXPECT_EQ(per_position[0][t].item<double>() > 0, t >= 2 && t < kT - 1) << t;
    EXPECT_EQ(per_position[1][t].item<double>() > 0, t < kT - 1) << t;
    EXPECT_EQ(per_position[2][t].item<double>(), 0.0) << t;
  }
}

TEST(ChunkedLoss, TheUpstreamGradientScalesTheGradients) {
  // Gradient accumulation backpropagates loss / steps.
  Inputs in = MakeInputs(at::kDouble);
  Outcome one = RunLoss(in, true, 4 * kVocab), quarter = RunLoss(in, true, 4 * kVocab, 0.25);
  EXPECT_LT(MaxDiff(quarter.grad_hidden, one.grad_hidden * 0.25), 1e-15);
  EXPECT_LT(MaxDiff(quarter.grad_head, one.grad_head * 0.25), 1e-15);
}

TEST(ChunkedLoss, NothingToPredictIsAZeroLossWithZeroGradients) {
  Inputs in = MakeInputs(at::kDouble);
  in.target.fill_(false);
  Outcome r = RunLoss(in, true, 4 * kVocab);
  EXPECT_EQ(r.count, 0);
  EXPECT_EQ(r.loss, 0.0);
  EXPECT_EQ(r.grad_hidden.abs().max().item<double>(), 0.0);
  EXPECT_EQ(r.grad_head.abs().max().item<double>(), 0.0);
}

TEST(ChunkedLoss, WithoutGradientsItBuildsNoGraph) {
  Inputs in = MakeInputs(at::kFloat);
  int64_t n = 0, m = 0;
  at::Tensor ref = MaskedNextTokenLoss(at::linear(in.hidden, in.lm_head), in.tokens, in.target, &m);
  at::NoGradGuard no_grad;
  at::Tensor loss = ChunkedNextTokenLoss(in.hidden, in.lm_head, in.tokens, in.target, &n, 2 * kVocab);
  EXPECT_FALSE(loss.requires_grad());
  EXPECT_EQ(n, m);
  EXPECT_NEAR(loss.item<double>(), ref.item<double>(), 1e-5);
}

TEST(ChunkedLoss, AFrozenOutputLayerGetsNoGradient) {
  Inputs in = MakeInputs(at::kDouble);
  Outcome ref = RunLoss(in, false, 0);
  in.hidden.mutable_grad() = at::Tensor();
  in.lm_head.mutable_grad() = at::Tensor();
  in.lm_head.set_requires_grad(false);
  int64_t n = 0;
  ChunkedNextTokenLoss(in.hidden, in.lm_head, in.tokens, in.target, &n, 2 * kVocab).backward();
  EXPECT_FALSE(in.lm_head.grad().defined());
  EXPECT_LT(MaxDiff(in.hidden.grad(), ref.grad_hidden), 1e-12);
}

TEST(ChunkedLoss, UnderBf16AutocastAgreesWithAutocastsLinearAndCrossEntropy) {
  Inputs in = MakeInputs(at::kFloat);
  at::autocast::set_autocast_cpu_dtype(at::kBFloat16);
  at::autocast::set_cpu_enabled(true);
  Outcome ref = RunLoss(in, false, 0), r = RunLoss(in, true, 3 * kVocab);
  at::autocast::set_cpu_enabled(false);
  at::autocast::clear_cache();
  EXPECT_EQ(r.grad_hidden.scalar_type(), at::kFloat);
  EXPECT_EQ(r.grad_head.scalar_type(), at::kFloat);
  // Both round the matmul inputs to bf16; they differ in where the gradients are rounded.
  EXPECT_NEAR(r.loss, ref.loss, 1e-5 * std::abs(ref.loss));
  EXPECT_LT(MaxDiff(r.grad_hidden, ref.grad_hidden), 0.02 * ref.grad_hidden.abs().max().item<double>());
  EXPECT_LT(MaxDiff(r.grad_head, ref.grad_head), 0.02 * ref.grad_head.abs().max().item<double>());
}

TEST(ChunkedLoss, ASecondBackwardPassIsRefused) {
  Inputs in = MakeInputs(at::kDouble);
  int64_t n = 0;
  at::Tensor loss = ChunkedNextTokenLoss(in.hidden, in.lm_head, in.tokens, in.target, &n, 2 * kVocab);
  loss.backward({}, /*retain_graph=*/true);
  EXPECT_THROW(loss.backward(), std::exception);
}

}  // namespace
}  // namespace lathe::engine
