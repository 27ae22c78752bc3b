// Imports a llama2.c checkpoint (legacy version-0 ".bin", as karpathy's tinyllamas) into a
// Hugging Face model directory: config.json, model.safetensors, tokenizer.model and
// generation_config.json. Torch-free: it only moves floats.
#pragma once

#include <string>

#include "core/status.h"
#include "engine/model_config.h"

namespace lathe::engine {

struct Llama2cImportResult {
  ModelConfig config;
  int64_t parameters = 0;
};

// llama2.c rotates consecutive pairs of each head; Hugging Face rotates the two halves. The
// import permutes the rows of wq and wk (as transformers' convert_llama_weights_to_hf does) so
// that the saved model computes exactly what llama2.c computes, with HF's convention.
Result<Llama2cImportResult> ImportLlama2c(const std::string& bin_path,
                                          const std::string& tokenizer_model_path,
                                          const std::string& out_dir);

}  // namespace lathe::engine
