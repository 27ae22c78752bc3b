// GGUF models in and out of lathe: a GGUF file (llama.cpp, Ollama) becomes a Hugging Face model
// folder lathe serves and fine-tunes, and a lathe model folder (a fine-tuned one merged) becomes
// a GGUF file llama.cpp loads. Torch-free: they only move floats.
//
// Covered: GGUF's "llama" architecture (Llama 1/2/3.x, Mistral, TinyLlama, the llama2.c models)
// with a SentencePiece ("llama") or byte-level BPE ("gpt2") vocabulary, and Llama 3's rope scaling
// (rope_freqs.weight, gguf_rope_freqs.h). Refused with a message saying so: other architectures,
// pre-tokenizers and rope scalings.
#pragma once

#include <string>

#include "core/status.h"
#include "engine/gguf.h"
#include "engine/model_config.h"

namespace lathe::engine {

struct GgufImportResult {
  ModelConfig config;
  int64_t parameters = 0;
  std::string tensor_types;  // what the file held, "Q8_0 57, F32 19"
};

// Writes out_dir/config.json, model.safetensors (float32: quantized tensors dequantized),
// tokenizer.model and generation_config.json. Memory: the model in float32, twice.
Result<GgufImportResult> ImportGguf(const std::string& gguf_path, const std::string& out_dir);

struct GgufExportResult {
  ModelConfig config;
  uint64_t bytes = 0;
  int tensors = 0;
};

// type: F32, F16 or Q8_0 for the matrices (norm weights stay F32, as llama.cpp keeps them).
// The folder needs a tokenizer.model (SentencePiece) and Llama-family weights without biases.
Result<GgufExportResult> ExportGguf(const std::string& model_dir, const std::string& out_path, GgmlType type);

// GGUF's name of a Hugging Face tensor of a Llama model ("model.layers.3.mlp.up_proj.weight" ->
// "blk.3.ffn_up.weight"), or "" for a name that has none.
std::string GgufTensorName(const std::string& hf_name);

}  // namespace lathe::engine
