// Rotary embeddings come in two row orders for wq and wk: llama2.c and ggml (GGUF's llama
// architecture) rotate consecutive pairs of each head; Hugging Face rotates the two halves.
// Importers and exporters move rows between them so a model computes the same in either.
#pragma once

#include <cstdint>
#include <cstring>
#include <vector>

namespace lathe::engine {

// Rows of a [heads * head_dim, cols] matrix from pair-interleaved order to half-split order:
// w.view(heads, head_dim/2, 2, cols).transpose(1, 2).reshape(...). `to_interleaved` inverts it.
inline std::vector<float> PermuteRotaryRows(const float* w, int64_t heads, int64_t head_dim, int64_t cols,
                                            bool to_interleaved = false) {
  std::vector<float> out(static_cast<size_t>(heads * head_dim * cols));
  const int64_t half = head_dim / 2;
  for (int64_t h = 0; h < heads; ++h)
    for (int64_t i = 0; i < half; ++i)
      for (int64_t two = 0; two < 2; ++two) {
        const int64_t interleaved = h * head_dim + i * 2 + two, split = h * head_dim + two * half + i;
        const int64_t src = to_interleaved ? split : interleaved, dst = to_interleaved ? interleaved : split;
        std::memcpy(&out[static_cast<size_t>(dst * cols)], w + src * cols, sizeof(float) * static_cast<size_t>(cols));
      }
  return out;
}

}  // namespace lathe::engine
