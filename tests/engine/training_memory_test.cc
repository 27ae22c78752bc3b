// EstimateTrainingMemory (engine/training_memory.h): what a worker compares with its --memory
// before it claims a job. Torch-free arithmetic, checked against the counts it is made of.
#include "engine/training_memory.h"

#include <gtest/gtest.h>

namespace lathe::engine {
namespace {

// SmolLM2-135M's shape: the model of docs/performance.md's training rows.
ModelConfig Smol135M() {
  ModelConfig c;
  c.vocab_size = 49152;
  c.hidden_size = 576;
  c.intermediate_size = 1536;
  c.num_layers = 30;
  c.num_heads = 9;
  c.num_kv_heads = 3;
  c.head_dim = 64;
  c.max_position_embeddings = 8192;
  c.tie_word_embeddings = true;
  return c;
}

TEST(TrainingMemory, FullFineTuningHoldsWeightsGradientsAndBothAdamMoments) {
  const ModelConfig c = Smol135M();
  TrainingHyperparameters h;
  h.method = "full";
  h.precision = "fp32";
  const int64_t p = c.ParameterCount();
  const int64_t full = EstimateTrainingMemory(c, h);
  // At least the four float32 copies of every weight, and the process itself.
  EXPECT_GE(full, 16 * p + kTrainingProcessOverheadBytes);
  h.method = "lora";
  const int64_t lora = EstimateTrainingMemory(c, h);
  EXPECT_LT(lora, full - 11 * p);  // LoRA trains a small fraction of the weights
  EXPECT_GE(lora, 4 * p + kTrainingProcessOverheadBytes);
  h.precision = "auto";  // autocast's bf16 copies may come on top
  EXPECT_EQ(EstimateTrainingMemory(c, h), lora + 2 * p);
}

TEST(TrainingMemory, GrowsWithTheBatchAndLengthAndSplitsTheBatchOverRanks) {
  const ModelConfig c = Smol135M();
  TrainingHyperparameters h;
  h.batch_size = 8;
  h.max_sequence_length = 512;
  const int64_t base = EstimateTrainingMemory(c, h);
  h.batch_size = 16;
  const int64_t doubled = EstimateTrainingMemory(c, h);
  EXPECT_GT(doubled, base);
  // Two ranks take half the batch each: per process, the activations of 8 rows again.
  h.workers = 2;
  EXPECT_EQ(EstimateTrainingMemory(c, h), base);
  h.workers = 1;
  h.batch_size = 8;
  h.max_sequence_length = 1024;
  EXPECT_GT(EstimateTrainingMemory(c, h), base);
  // A length beyond the model's context is trained at the context.
  ModelConfig short_context = c;
  short_context.max_position_embeddings = 512;
  h.max_sequence_length = 4096;
  TrainingHyperparameters at_context = h;
  at_context.max_sequence_length = 512;
  EXPECT_EQ(EstimateTrainingMemory(short_context, h), EstimateTrainingMemory(short_context, at_context));
}

}  // namespace
}  // namespace lathe::engine
