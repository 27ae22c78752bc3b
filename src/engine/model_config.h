// The architecture of a Llama-family decoder, read from (and written to) a Hugging Face
// config.json. Torch-free, so the CLI and the service can inspect models cheaply.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "core/status.h"

namespace lathe::engine {

struct RopeScaling {
  std::string type;  // "" (none) or "llama3"
  double factor = 1.0;
  double low_freq_factor = 1.0;
  double high_freq_factor = 4.0;
  int64_t original_max_position_embeddings = 8192;
};

// Bounds on a config.json's numbers, far above any real model's (Llama 3 405B: 126 layers, width
// 16384, 128 heads, vocabulary 128256): a config from an untrusted folder cannot make the
// parameter count overflow or ExpectedTensors list billions of names.
inline constexpr int64_t kMaxConfigLayers = 1024;
inline constexpr int64_t kMaxConfigWidth = 1 << 17;         // hidden_size
inline constexpr int64_t kMaxConfigIntermediate = 1 << 20;
inline constexpr int64_t kMaxConfigHeads = 1024;            // num_attention_heads, num_key_value_heads
inline constexpr int64_t kMaxConfigHeadDim = 1024;
inline constexpr int64_t kMaxConfigVocabulary = 1 << 22;
inline constexpr int64_t kMaxConfigPositions = 1 << 24;     // max_position_embeddings

struct ModelConfig {
  std::string architecture = "LlamaForCausalLM";  // or MistralForCausalLM, Qwen2ForCausalLM
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  int64_t intermediate_size = 0;
  int64_t num_layers = 0;
  int64_t num_heads = 0;
  int64_t num_kv_heads = 0;
  int64_t head_dim = 0;  // hidden_size / num_heads unless the config says otherwise
  int64_t max_position_embeddings = 2048;
  double rms_norm_eps = 1e-5;
  double rope_theta = 10000.0;
  RopeScaling rope_scaling;
  bool tie_word_embeddings = false;
  bool attention_bias = false;  // q/k/v biases (always on for Qwen2)
  std::vector<int64_t> eos_token_ids;
  int64_t bos_token_id = -1;
  std::string torch_dtype = "float32";

  int64_t ParameterCount() const;
  // Checks the numbers fit together (heads divide the width, kv heads divide heads, ...) and
  // are within the kMaxConfig* bounds.
  Status Validate() const;
};

// Parses config.json text; `file` names it in messages.
Result<ModelConfig> ParseModelConfig(const nlohmann::json& j, const std::string& file);
Result<ModelConfig> LoadModelConfig(const std::string& path);
nlohmann::json ModelConfigToJson(const ModelConfig& c);

// Hugging Face tensor names and the shapes the config implies, in a stable order.
std::vector<std::pair<std::string, std::vector<int64_t>>> ExpectedTensors(const ModelConfig& c);

}  // namespace lathe::engine
