// LoRA adapters and the differentiable forward pass used for training (internal to the engine).
// Same mathematics as LlamaModel::Forward, on the original (unfused) weights, without a KV cache,
// with low-rank updates W + (alpha / r) * B A on the target projections.
#pragma once

#include <ATen/ATen.h>

#include <map>
#include <string>
#include <vector>

#include "engine/llama_model.h"

namespace lathe::engine {

struct LoraPair {
  at::Tensor a;  // [rank, in], PEFT's lora_A
  at::Tensor b;  // [out, rank], PEFT's lora_B, zero at the start so training starts at the base model
};

struct LoraAdapters {
  int64_t rank = 8;
  double alpha = 16;
  double dropout = 0.0;
  std::vector<std::string> targets;                 // e.g. q_proj, v_proj
  std::vector<std::map<std::string, LoraPair>> layers;  // per layer, by target module
  double scale() const { return alpha / static_cast<double>(rank); }
  std::vector<at::Tensor> Parameters() const;
};

// Modules LoRA can adapt: q_proj k_proj v_proj o_proj gate_proj up_proj down_proj.
Result<LoraAdapters> NewLoraAdapters(const ModelConfig& c, int64_t rank, double alpha, double dropout,
                                     const std::vector<std::string>& targets, uint64_t seed);

// LoRA under bf16 autocast: the frozen base matrices (projections, embedding and output layer)
// converted to bf16 in place, which is what autocast rounds them to at every use anyway. No fp32
// copy of frozen weights remains and autocast casts nothing per step (it caches casts only of
// tensors that require grad, so frozen ones were cast anew in every forward pass and the copies
// kept for the backward pass). Norm weights and biases stay as they were; tied embeddings stay
// one tensor. The forward pass computes in the norm weights' dtype (the embedding rows are cast
// up), so it needs autocast on once this has run.
void KeepFrozenMatricesInBf16(LlamaWeights* w);

// Hidden states after the final norm [batch, T, hidden] for a batch of right-padded sequences
// (causal attention, positions from 0). `train` turns LoRA dropout on.
at::Tensor TrainingHidden(const ModelConfig& c, const LlamaWeights& w, const LoraAdapters* lora,
                          const at::Tensor& tokens, bool train);
// Logits [batch, T, vocab]: TrainingHidden through the output layer.
at::Tensor TrainingLogits(const ModelConfig& c, const LlamaWeights& w, const LoraAdapters* lora,
                          const at::Tensor& tokens, bool train);

// The loss the trainer optimises and validates with: MaskedNextTokenLoss of TrainingLogits, or
// with `chunked_head` the same computed by ChunkedNextTokenLoss (chunked_loss.h) from
// TrainingHidden, which never holds the whole [batch * T, vocab] logits. The trainer chunks in
// bf16; fp32 runs keep the unchunked computation, so their results stay bit for bit what they were.
at::Tensor TrainingLoss(const ModelConfig& c, const LlamaWeights& w, const LoraAdapters* lora, const at::Tensor& tokens,
                        const at::Tensor& target, bool train, bool chunked_head, int64_t* count);

// Mean cross-entropy of predicting tokens[:, t] from positions < t, over the t where
// target[:, t] is set (bool [batch, T]). Returns the loss and the number of target tokens.
at::Tensor MaskedNextTokenLoss(const at::Tensor& logits, const at::Tensor& tokens, const at::Tensor& target,
                               int64_t* count);

}  // namespace lathe::engine
