#include "tiny_model.h"

#include <cstring>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "core/random.h"
#include "engine/safetensors.h"

namespace lathe::testing {
namespace {

std::vector<int64_t> Shape(const engine::ModelConfig& c, const std::string& name) {
  const int64_t h = c.hidden_size, q = c.num_heads * c.head_dim, kv = c.num_kv_heads * c.head_dim;
  if (name.ends_with("norm.weight")) return {h};
  if (name.ends_with("q_proj.weight")) return {q, h};
  if (name.ends_with("k_proj.weight") || name.ends_with("v_proj.weight")) return {kv, h};
  if (name.ends_with("q_proj.bias")) return {q};
  if (name.ends_with("k_proj.bias") || name.ends_with("v_proj.bias")) return {kv};
  if (name.ends_with("o_proj.weight")) return {h, q};
  if (name.ends_with("gate_proj.weight") || name.ends_with("up_proj.weight")) return {c.intermediate_size, h};
  if (name.ends_with("down_proj.weight")) return {h, c.intermediate_size};
  return {c.vocab_size, h};  // embed_tokens, lm_head
}

std::vector<std::string> Names(const engine::ModelConfig& c) {
  std::vector<std::string> n = {"model.embed_tokens.weight", "model.norm.weight"};
  if (!c.tie_word_embeddings) n.push_back("lm_head.weight");
  for (int64_t l = 0; l < c.num_layers; ++l) {
    std::string p = "model.layers." + std::to_string(l) + ".";
    for (const char* s : {"input_layernorm.weight", "post_attention_layernorm.weight", "self_attn.q_proj.weight",
                          "self_attn.k_proj.weight", "self_attn.v_proj.weight", "self_attn.o_proj.weight",
                          "mlp.gate_proj.weight", "mlp.up_proj.weight", "mlp.down_proj.weight"})
      n.push_back(p + s);
    if (c.attention_bias)
      for (const char* s : {"self_attn.q_proj.bias", "self_attn.k_proj.bias", "self_attn.v_proj.bias"})
        n.push_back(p + s);
  }
  return n;
}

uint16_t ToBf16(float f) {  // round to nearest even
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return static_cast<uint16_t>((u + 0x7FFF + ((u >> 16) & 1)) >> 16);
}

std::vector<float> MatVec(const std::vector<float>& w, const std::vector<float>& x, int64_t rows) {
  const int64_t cols = static_cast<int64_t>(x.size());
  std::vector<float> y(static_cast<size_t>(rows));
  for (int64_t r = 0; r < rows; ++r) {
    double s = 0;
    for (int64_t k = 0; k < cols; ++k) s += static_cast<double>(w[static_cast<size_t>(r * cols + k)]) * x[static_cast<size_t>(k)];
    y[static_cast<size_t>(r)] = static_cast<float>(s);
  }
  return y;
}

std::vector<float> RmsNorm(const std::vector<float>& x, const std::vector<float>& w, double eps) {
  double ss = 0;
  for (float v : x) ss += static_cast<double>(v) * v;
  double inv = 1.0 / std::sqrt(ss / static_cast<double>(x.size()) + eps);
  std::vector<float> y(x.size());
  for (size_t i = 0; i < x.size(); ++i) y[i] = static_cast<float>(x[i] * inv * w[i]);
  return y;
}

std::vector<double> InvFreq(const engine::ModelConfig& c) {
  std::vector<double> f;
  for (int64_t i = 0; i < c.head_dim / 2; ++i) f.push_back(std::pow(c.rope_theta, -2.0 * static_cast<double>(i) / c.head_dim));
  if (c.rope_scaling.type == "llama3") {  // transformers' _compute_llama3_parameters
    const auto& s = c.rope_scaling;
    double old = static_cast<double>(s.original_max_position_embeddings);
    for (double& x : f) {
      double wl = 2 * M_PI / x;
      if (wl > old / s.low_freq_factor) x = x / s.factor;
      else if (wl >= old / s.high_freq_factor) {
        double sm = (old / wl - s.low_freq_factor) / (s.high_freq_factor - s.low_freq_factor);
        x = (1 - sm) * x / s.factor + sm * x;
      }
    }
  }
  return f;
}

}  // namespace

Weights RandomWeights(const engine::ModelConfig& c, uint64_t seed) {
  Weights w;
  Rng rng(seed);
  auto next = [&] { return 2.0 * rng.Uniform() - 1.0; };  // uniform in [-1, 1)
  for (const auto& name : Names(c)) {
    int64_t n = 1;
    for (int64_t d : Shape(c, name)) n *= d;
    std::vector<float> v(static_cast<size_t>(n));
    bool norm = name.ends_with("norm.weight");
    for (float& x : v) x = static_cast<float>(norm ? 1.0 + 0.1 * next() : 0.2 * next());
    w[name] = std::move(v);
  }
  return w;
}

void WriteModelDir(const std::string& dir, const engine::ModelConfig& c, const Weights& w,
                   const std::string& tokenizer_model, bool bf16) {
  std::filesystem::create_directories(dir);
  std::vector<std::string> storage;
  std::vector<engine::TensorToWrite> tensors;
  storage.reserve(w.size());
  for (const auto& [name, values] : w) {
    if (bf16) {
      std::string b(values.size() * 2, '\0');
      for (size_t i = 0; i < values.size(); ++i) {
        uint16_t h = ToBf16(values[i]);
        std::memcpy(&b[i * 2], &h, 2);
      }
      storage.push_back(std::move(b));
    } else {
      storage.emplace_back(reinterpret_cast<const char*>(values.data()), values.size() * 4);
    }
    tensors.push_back({name, bf16 ? engine::DType::kBF16 : engine::DType::kF32, Shape(c, name), storage.back()});
  }
  auto bytes = engine::SerializeSafetensors(tensors, {});
  std::ofstream(dir + "/model.safetensors", std::ios::binary) << *bytes;
  std::ofstream(dir + "/config.json") << engine::ModelConfigToJson(c).dump(2);
  std::filesystem::copy_file(tokenizer_model, dir + "/tokenizer.model",
                             std::filesystem::copy_options::overwrite_existing);
}

std::vector<std::vector<float>> ReferenceLogits(const engine::ModelConfig& c, const Weights& w,
                                                const std::vector<int>& ids) {
  const int64_t T = static_cast<int64_t>(ids.size()), H = c.num_heads, KV = c.num_kv_heads, D = c.head_dim,
                hid = c.hidden_size;
  const auto inv_freq = InvFreq(c);
  std::vector<std::vector<float>> x(static_cast<size_t>(T));
  const auto& embed = w.at("model.embed_tokens.weight");
  for (int64_t t = 0; t < T; ++t)
    x[static_cast<size_t>(t)].assign(embed.begin() + ids[static_cast<size_t>(t)] * hid,
                                     embed.begin() + (ids[static_cast<size_t>(t)] + 1) * hid);
  auto rope = [&](std::vector<float>& v, int64_t heads, int64_t pos) {
    for (int64_t h = 0; h < heads; ++h)
      for (int64_t i = 0; i < D / 2; ++i) {
        double a = static_cast<double>(pos) * inv_freq[static_cast<size_t>(i)];
        float& x1 = v[static_cast<size_t>(h * D + i)];
        float& x2 = v[static_cast<size_t>(h * D + i + D / 2)];
        float n1 = static_cast<float>(x1 * std::cos(a) - x2 * std::sin(a));
        float n2 = static_cast<float>(x2 * std::cos(a) + x1 * std::sin(a));
        x1 = n1;
        x2 = n2;
      }
  };
  for (int64_t l = 0; l < c.num_layers; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    std::vector<std::vector<float>> q(static_cast<size_t>(T)), k(static_cast<size_t>(T)), v(static_cast<size_t>(T));
    for (int64_t t = 0; t < T; ++t) {
      auto h = RmsNorm(x[static_cast<size_t>(t)], w.at(p + "input_layernorm.weight"), c.rms_norm_eps);
      q[static_cast<size_t>(t)] = MatVec(w.at(p + "self_attn.q_proj.weight"), h, H * D);
      k[static_cast<size_t>(t)] = MatVec(w.at(p + "self_attn.k_proj.weight"), h, KV * D);
      v[static_cast<size_t>(t)] = MatVec(w.at(p + "self_attn.v_proj.weight"), h, KV * D);
      if (c.attention_bias) {
        for (int64_t i = 0; i < H * D; ++i) q[static_cast<size_t>(t)][static_cast<size_t>(i)] += w.at(p + "self_attn.q_proj.bias")[static_cast<size_t>(i)];
        for (int64_t i = 0; i < KV * D; ++i) {
          k[static_cast<size_t>(t)][static_cast<size_t>(i)] += w.at(p + "self_attn.k_proj.bias")[static_cast<size_t>(i)];
          v[static_cast<size_t>(t)][static_cast<size_t>(i)] += w.at(p + "self_attn.v_proj.bias")[static_cast<size_t>(i)];
        }
      }
      rope(q[static_cast<size_t>(t)], H, t);
      rope(k[static_cast<size_t>(t)], KV, t);
    }
    for (int64_t t = 0; t < T; ++t) {
      std::vector<float> att(static_cast<size_t>(H * D), 0.0f);
      for (int64_t h = 0; h < H; ++h) {
        const int64_t g = h / (H / KV);
        std::vector<double> s(static_cast<size_t>(t + 1));
        double mx = -1e300;
        for (int64_t j = 0; j <= t; ++j) {
          double d = 0;
          for (int64_t i = 0; i < D; ++i)
            d += static_cast<double>(q[static_cast<size_t>(t)][static_cast<size_t>(h * D + i)]) * k[static_cast<size_t>(j)][static_cast<size_t>(g * D + i)];
          s[static_cast<size_t>(j)] = d / std::sqrt(static_cast<double>(D));
          mx = std::max(mx, s[static_cast<size_t>(j)]);
        }
        double sum = 0;
        for (double& e : s) sum += (e = std::exp(e - mx));
        for (int64_t j = 0; j <= t; ++j)
          for (int64_t i = 0; i < D; ++i)
            att[static_cast<size_t>(h * D + i)] += static_cast<float>(s[static_cast<size_t>(j)] / sum * v[static_cast<size_t>(j)][static_cast<size_t>(g * D + i)]);
      }
      auto o = MatVec(w.at(p + "self_attn.o_proj.weight"), att, hid);
      for (int64_t i = 0; i < hid; ++i) x[static_cast<size_t>(t)][static_cast<size_t>(i)] += o[static_cast<size_t>(i)];
      auto h2 = RmsNorm(x[static_cast<size_t>(t)], w.at(p + "post_attention_layernorm.weight"), c.rms_norm_eps);
      auto gate = MatVec(w.at(p + "mlp.gate_proj.weight"), h2, c.intermediate_size);
      auto up = MatVec(w.at(p + "mlp.up_proj.weight"), h2, c.intermediate_size);
      for (size_t i = 0; i < gate.size(); ++i) gate[i] = gate[i] / (1 + std::exp(-gate[i])) * up[i];
      auto down = MatVec(w.at(p + "mlp.down_proj.weight"), gate, hid);
      for (int64_t i = 0; i < hid; ++i) x[static_cast<size_t>(t)][static_cast<size_t>(i)] += down[static_cast<size_t>(i)];
    }
  }
  const auto& head = w.at(c.tie_word_embeddings ? "model.embed_tokens.weight" : "lm_head.weight");
  std::vector<std::vector<float>> logits;
  for (int64_t t = 0; t < T; ++t)
    logits.push_back(MatVec(head, RmsNorm(x[static_cast<size_t>(t)], w.at("model.norm.weight"), c.rms_norm_eps), c.vocab_size));
  return logits;
}

}  // namespace lathe::testing
