#include "engine/lora.h"

#include <algorithm>
#include <cmath>

#include "core/random.h"
#include "engine/chunked_loss.h"

namespace lathe::engine {
namespace {

const std::vector<std::string> kModules = {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"};

const at::Tensor& BaseWeight(const LayerWeights& w, const std::string& m) {
  if (m == "q_proj") return w.wq;
  if (m == "k_proj") return w.wk;
  if (m == "v_proj") return w.wv;
  if (m == "o_proj") return w.wo;
  if (m == "gate_proj") return w.w_gate;
  if (m == "up_proj") return w.w_up;
  return w.w_down;
}

at::Tensor RmsNorm(const at::Tensor& x, const at::Tensor& w, double eps) {
  return x * at::rsqrt(x.pow(2).mean(-1, true) + eps) * w;
}

}  // namespace

std::vector<at::Tensor> LoraAdapters::Parameters() const {
  std::vector<at::Tensor> out;
  for (const auto& layer : layers)
    for (const auto& [name, p] : layer) {
      out.push_back(p.a);
      out.push_back(p.b);
    }
  return out;
}

Result<LoraAdapters> NewLoraAdapters(const ModelConfig& c, int64_t rank, double alpha, double dropout,
                                     const std::vector<std::string>& targets, uint64_t seed) {
  LoraAdapters l;
  l.rank = rank;
  l.alpha = alpha;
  l.dropout = dropout;
  l.targets = targets;
  for (const auto& t : targets)
    if (std::find(kModules.begin(), kModules.end(), t) == kModules.end())
      return Status::InvalidArgument("unknown LoRA target module \"" + t +
                                     "\" (q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj)");
  Rng rng(seed);
  const int64_t q = c.num_heads * c.head_dim, kv = c.num_kv_heads * c.head_dim;
  for (int64_t i = 0; i < c.num_layers; ++i) {
    std::map<std::string, LoraPair> layer;
    for (const auto& t : targets) {
      int64_t in = c.hidden_size, out = c.hidden_size;
      if (t == "q_proj") out = q;
      if (t == "k_proj" || t == "v_proj") out = kv;
      if (t == "o_proj") in = q;
      if (t == "gate_proj" || t == "up_proj") out = c.intermediate_size;
      if (t == "down_proj") in = c.intermediate_size;
      // PEFT's default: A ~ kaiming_uniform(a = sqrt(5)) = U(-1/sqrt(in), 1/sqrt(in)), B = 0.
      at::Tensor a = at::empty({rank, in}, at::kFloat);
      float* p = a.data_ptr<float>();
      const double bound = 1.0 / std::sqrt(static_cast<double>(in));
      for (int64_t k = 0; k < rank * in; ++k) p[k] = static_cast<float>((2 * rng.Uniform() - 1) * bound);
      layer[t] = {a.set_requires_grad(true), at::zeros({out, rank}, at::kFloat).set_requires_grad(true)};
    }
    l.layers.push_back(std::move(layer));
  }
  return l;
}

void KeepFrozenMatricesInBf16(LlamaWeights* w) {
  at::NoGradGuard no_grad;
  auto convert = [](at::Tensor& t) {
    if (t.defined() && t.dim() == 2) t = t.detach().to(at::kBFloat16);  // the fp32 tensor is freed here
  };
  const bool tied = w->lm_head.is_same(w->embed);
  convert(w->embed);
  if (tied) w->lm_head = w->embed;
  else convert(w->lm_head);
  for (auto& l : w->layers)
    for (at::Tensor* t : {&l.wq, &l.wk, &l.wv, &l.wo, &l.w_gate, &l.w_up, &l.w_down}) convert(*t);
}

at::Tensor TrainingHidden(const ModelConfig& c, const LlamaWeights& w, const LoraAdapters* lora,
                          const at::Tensor& tokens, bool train) {
  const int64_t B = tokens.size(0), T = tokens.size(1), H = c.num_heads, KV = c.num_kv_heads, D = c.head_dim;
  // The residual stream's dtype: the weights' own, or fp32 when frozen matrices are held in bf16
  // (KeepFrozenMatricesInBf16); the norm weights are never converted.
  const auto dtype = w.norm.scalar_type();
  at::Tensor t = at::arange(T, at::kDouble).unsqueeze(1) * InverseFrequencies(c).unsqueeze(0);
  at::Tensor cos = at::cat({t.cos(), t.cos()}, -1).to(dtype).view({1, 1, T, D});
  at::Tensor sin = at::cat({t.sin(), t.sin()}, -1).to(dtype).view({1, 1, T, D});
  auto rope = [&](const at::Tensor& x) {
    at::Tensor x1 = x.narrow(-1, 0, D / 2), x2 = x.narrow(-1, D / 2, D / 2);
    return x * cos + at::cat({-x2, x1}, -1) * sin;
  };
  at::Tensor causal = at::ones({T, T}, at::kBool).triu(1);
  at::Tensor x = w.embed.index_select(0, tokens.reshape(-1)).view({B, T, c.hidden_size}).to(dtype);
  for (int64_t l = 0; l < c.num_layers; ++l) {
    const LayerWeights& lw = w.layers[static_cast<size_t>(l)];
    auto proj = [&](const at::Tensor& in, const std::string& module, const at::Tensor& bias) {
      at::Tensor y = at::linear(in, BaseWeight(lw, module), bias);
      if (lora != nullptr) {
        const auto& layer = lora->layers[static_cast<size_t>(l)];
        auto it = layer.find(module);
        if (it != layer.end()) {
          at::Tensor d = lora->dropout > 0 ? at::dropout(in, lora->dropout, train) : in;
          y = y + at::linear(at::linear(d, it->second.a), it->second.b) * lora->scale();
        }
      }
      return y;
    };
    at::Tensor h = RmsNorm(x, lw.attn_norm, c.rms_norm_eps);
    at::Tensor q = rope(proj(h, "q_proj", lw.bq).view({B, T, H, D}).transpose(1, 2));
    at::Tensor k = rope(proj(h, "k_proj", lw.bk).view({B, T, KV, D}).transpose(1, 2));
    at::Tensor v = proj(h, "v_proj", lw.bv).view({B, T, KV, D}).transpose(1, 2);
    if (H != KV) {
      k = k.repeat_interleave(H / KV, 1);
      v = v.repeat_interleave(H / KV, 1);
    }
    at::Tensor scores = at::matmul(q, k.transpose(-1, -2)) / std::sqrt(static_cast<double>(D));
    scores = scores.masked_fill(causal, -std::numeric_limits<double>::infinity());
    at::Tensor o = at::matmul(at::softmax(scores, -1), v).transpose(1, 2).reshape({B, T, H * D});
    x = x + proj(o, "o_proj", {});
    h = RmsNorm(x, lw.mlp_norm, c.rms_norm_eps);
    x = x + proj(at::silu(proj(h, "gate_proj", {})) * proj(h, "up_proj", {}), "down_proj", {});
  }
  return RmsNorm(x, w.norm, c.rms_norm_eps);
}

at::Tensor TrainingLogits(const ModelConfig& c, const LlamaWeights& w, const LoraAdapters* lora,
                          const at::Tensor& tokens, bool train) {
  return at::linear(TrainingHidden(c, w, lora, tokens, train), w.lm_head);
}

at::Tensor TrainingLoss(const ModelConfig& c, const LlamaWeights& w, const LoraAdapters* lora, const at::Tensor& tokens,
                        const at::Tensor& target, bool train, bool chunked_head, int64_t* count) {
  if (chunked_head) return ChunkedNextTokenLoss(TrainingHidden(c, w, lora, tokens, train), w.lm_head, tokens, target, count);
  return MaskedNextTokenLoss(TrainingLogits(c, w, lora, tokens, train), tokens, target, count);
}

at::Tensor MaskedNextTokenLoss(const at::Tensor& logits, const at::Tensor& tokens, const at::Tensor& target,
                               int64_t* count) {
  const int64_t T = tokens.size(1), V = logits.size(2);
  at::Tensor pred = logits.narrow(1, 0, T - 1).reshape({-1, V});
  at::Tensor next = tokens.narrow(1, 1, T - 1).reshape({-1});
  at::Tensor mask = target.narrow(1, 1, T - 1).reshape({-1});
  at::Tensor per_token = at::cross_entropy_loss(pred, next, {}, at::Reduction::None);
  *count = mask.sum().item<int64_t>();
  return (per_token * mask.to(per_token.scalar_type())).sum() / std::max<int64_t>(*count, 1);
}

}  // namespace lathe::engine
