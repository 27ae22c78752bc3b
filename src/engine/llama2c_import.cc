#include "engine/llama2c_import.h"

#include <cstring>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/env.h"
#include "engine/rotary_permute.h"
#include "engine/safetensors.h"

namespace lathe::engine {

Result<Llama2cImportResult> ImportLlama2c(const std::string& bin_path,
                                          const std::string& tokenizer_model_path,
                                          const std::string& out_dir) {
  Env* env = Env::Default();
  std::string bytes;
  LATHE_RETURN_IF_ERROR(ReadFileToString(env, bin_path, &bytes));
  if (bytes.size() < 28)
    return Status::Corruption(bin_path + ": too short for a llama2.c checkpoint header");
  int32_t h[7];
  std::memcpy(h, bytes.data(), sizeof h);
  const int64_t dim = h[0], hidden = h[1], layers = h[2], heads = h[3], kv_heads = h[4],
                seq_len = h[6];
  const bool shared = h[5] > 0;
  const int64_t vocab = shared ? h[5] : -static_cast<int64_t>(h[5]);
  for (int64_t v : {dim, hidden, layers, heads, kv_heads, vocab, seq_len})
    if (v <= 0 || v > (1 << 20))
      return Status::Corruption(bin_path + ": implausible header (dim " + std::to_string(dim) +
                                ", hidden " + std::to_string(hidden) + ", layers " +
                                std::to_string(layers) + ", heads " + std::to_string(heads) +
                                "); is this a llama2.c version-0 .bin?");
  if (dim % heads != 0 || heads % kv_heads != 0)
    return Status::Corruption(bin_path + ": heads do not divide the model width");
  const int64_t hd = dim / heads, kv_dim = kv_heads * hd;
  const int64_t floats = vocab * dim + layers * (2 * dim + dim * dim + 2 * kv_dim * dim +
                                                 dim * dim + 3 * hidden * dim) +
                         dim + seq_len * hd  // freq_cis_real + freq_cis_imag (unused)
                         + (shared ? 0 : vocab * dim);
  const uint64_t expected = 28 + 4 * static_cast<uint64_t>(floats);
  if (bytes.size() != expected)
    return Status::Corruption(bin_path + ": " + std::to_string(bytes.size()) +
                              " bytes, but its header describes " + std::to_string(expected) +
                              (bytes.size() < expected ? " (truncated?)" : ""));

  const float* p = reinterpret_cast<const float*>(bytes.data() + 28);
  auto take = [&](int64_t n) {
    const float* start = p;
    p += n;
    return start;
  };
  const float* embed = take(vocab * dim);
  const float* rms_att = take(layers * dim);
  const float* wq = take(layers * dim * dim);
  const float* wk = take(layers * kv_dim * dim);
  const float* wv = take(layers * kv_dim * dim);
  const float* wo = take(layers * dim * dim);
  const float* rms_ffn = take(layers * dim);
  const float* w1 = take(layers * hidden * dim);
  const float* w2 = take(layers * dim * hidden);
  const float* w3 = take(layers * hidden * dim);
  const float* rms_final = take(dim);
  take(seq_len * hd);  // legacy RoPE tables: recomputed at run time
  const float* wcls = shared ? nullptr : take(vocab * dim);

  std::vector<std::vector<float>> owned;  // permuted copies must outlive the serialization
  std::vector<TensorToWrite> tensors;
  auto view = [](const float* f, int64_t n) {
    return std::string_view(reinterpret_cast<const char*>(f), sizeof(float) * static_cast<size_t>(n));
  };
  auto add = [&](std::string name, std::vector<int64_t> shape, const float* f) {
    int64_t n = 1;
    for (int64_t s : shape) n *= s;
    tensors.push_back({std::move(name), DType::kF32, std::move(shape), view(f, n)});
  };
  owned.reserve(static_cast<size_t>(2 * layers));
  add("model.embed_tokens.weight", {vocab, dim}, embed);
  for (int64_t l = 0; l < layers; ++l) {
    const std::string pre = "model.layers." + std::to_string(l) + ".";
    add(pre + "input_layernorm.weight", {dim}, rms_att + l * dim);
    owned.push_back(PermuteRotaryRows(wq + l * dim * dim, heads, hd, dim));
    add(pre + "self_attn.q_proj.weight", {dim, dim}, owned.back().data());
    owned.push_back(PermuteRotaryRows(wk + l * kv_dim * dim, kv_heads, hd, dim));
    add(pre + "self_attn.k_proj.weight", {kv_dim, dim}, owned.back().data());
    add(pre + "self_attn.v_proj.weight", {kv_dim, dim}, wv + l * kv_dim * dim);
    add(pre + "self_attn.o_proj.weight", {dim, dim}, wo + l * dim * dim);
    add(pre + "post_attention_layernorm.weight", {dim}, rms_ffn + l * dim);
    add(pre + "mlp.gate_proj.weight", {hidden, dim}, w1 + l * hidden * dim);
    add(pre + "mlp.down_proj.weight", {dim, hidden}, w2 + l * dim * hidden);
    add(pre + "mlp.up_proj.weight", {hidden, dim}, w3 + l * hidden * dim);
  }
  add("model.norm.weight", {dim}, rms_final);
  if (wcls) add("lm_head.weight", {vocab, dim}, wcls);

  ModelConfig c;
  c.vocab_size = vocab;
  c.hidden_size = dim;
  c.intermediate_size = hidden;
  c.num_layers = layers;
  c.num_heads = heads;
  c.num_kv_heads = kv_heads;
  c.head_dim = hd;
  c.max_position_embeddings = seq_len;
  c.rms_norm_eps = 1e-5;  // llama2.c's constant
  c.rope_theta = 10000.0;
  c.tie_word_embeddings = shared;
  c.bos_token_id = 1;  // llama2.c / SentencePiece convention
  c.eos_token_ids = {2};
  LATHE_RETURN_IF_ERROR(c.Validate());

  auto file = SerializeSafetensors(tensors, {{"format", "pt"}, {"source", "llama2.c import"}});
  if (!file.ok()) return file.status();
  LATHE_RETURN_IF_ERROR(env->CreateDirs(out_dir));
  LATHE_RETURN_IF_ERROR(WriteFileAtomically(env, out_dir + "/model.safetensors", *file));
  LATHE_RETURN_IF_ERROR(
      WriteFileAtomically(env, out_dir + "/config.json", ModelConfigToJson(c).dump(2) + "\n"));
  nlohmann::json gen = {{"bos_token_id", 1}, {"eos_token_id", 2}};
  LATHE_RETURN_IF_ERROR(
      WriteFileAtomically(env, out_dir + "/generation_config.json", gen.dump(2) + "\n"));
  std::string tok;
  LATHE_RETURN_IF_ERROR(ReadFileToString(env, tokenizer_model_path, &tok));
  LATHE_RETURN_IF_ERROR(WriteFileAtomically(env, out_dir + "/tokenizer.model", tok));
  return Llama2cImportResult{c, c.ParameterCount()};
}

}  // namespace lathe::engine
