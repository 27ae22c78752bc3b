// The negative log-likelihood of one next token from a row of logits: what perplexity and the
// evaluation's reference loss are made of. Torch-free (the CLI and eval call it on Logits()).
#pragma once

#include <cstddef>

namespace lathe::engine {

// -log softmax(row)[target], in double: the row is float, its sum over a vocabulary is not.
double NextTokenNll(const float* row, size_t vocab, int target);

}  // namespace lathe::engine
