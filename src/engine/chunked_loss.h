// The output layer and the next-token cross-entropy, computed in chunks of positions so that the
// [positions, vocab] logits (49k columns for SmolLM) never exist whole (internal to the engine).
#pragma once

#include <ATen/ATen.h>

#include <cstdint>

namespace lathe::engine {

// The mean of MaskedNextTokenLoss (lora.h) straight from the final hidden states: equal to
// MaskedNextTokenLoss(linear(hidden, lm_head), tokens, target, count) up to rounding.
// hidden: [batch, T, hidden_size]; lm_head: [vocab, hidden_size]; tokens, target: [batch, T].
//
// Only positions whose next token carries loss are computed, `chunk_elements` logits (rows of
// vocab) at a time; 0 picks 4M, or 16M when lm_head is trained (each chunk then adds to the
// [vocab, hidden] gradient, a pass over that whole matrix, which small chunks make slower than
// the unchunked loss). Where gradients are wanted, each chunk's gradients with respect to hidden and
// lm_head are computed right away from its softmax, so the backward pass keeps no logits and
// recomputes nothing: it only scales them (hence it can run once per forward pass). Under CPU
// autocast the matmuls run in autocast's dtype and the softmax in fp32, as autocast's linear and
// cross_entropy do; otherwise everything runs in hidden's dtype.
at::Tensor ChunkedNextTokenLoss(const at::Tensor& hidden, const at::Tensor& lm_head, const at::Tensor& tokens,
                                const at::Tensor& target, int64_t* count, int64_t chunk_elements = 0);

}  // namespace lathe::engine
