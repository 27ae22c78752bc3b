#include "engine/llama_model.h"

#include <algorithm>
#include <cmath>
#include <set>


#include "engine/decode_kernel.h"
#include "engine/gemv_kernels.h"
#include "engine/prefill_kernel.h"
#include "engine/row_split.h"

namespace lathe::engine {
namespace {

// RMSNorm without its weight: the weight is folded into the matrix that follows (Prepare).
at::Tensor RmsNormalize(const at::Tensor& x, double eps) {
  return x * x.pow(2).mean(-1, /*keepdim=*/true).add_(eps).rsqrt_();
}

std::string LayerPrefix(int64_t l) { return "model.layers." + std::to_string(l) + "."; }

// `t` (a contiguous [rows, cols] f32 matrix) held in `precision`. Where the AVX-512 kernels run,
// decode and prefill both read the compact bytes, so `t` is dropped: a prepared matrix then takes
// 1.06 (q8_0) or 2 (bf16) bytes a weight, not those plus 4. Elsewhere `t` becomes the values the
// compact copy holds, which ATen's products multiply: the prompt sees the weights decode reads.
CompactMatrix HoldIn(at::Tensor& t, WeightPrecision precision) {
  CompactMatrix m = Compact(t.data_ptr<float>(), t.size(0), t.size(1), precision);
  if (GemvVectorKernels()) {
    t = at::Tensor();
    return m;
  }
  at::Tensor rounded = at::empty_like(t);
  Expand(m, rounded.data_ptr<float>());
  t = rounded;
  return m;
}

MatrixView ViewOf(const at::Tensor& t, const CompactMatrix& compact) {
  if (compact.format != WeightPrecision::kF32 && !compact.bytes.empty()) return compact.view();
  return {WeightPrecision::kF32, t.data_ptr<float>(), t.size(0), t.size(1)};
}

// A prompt's rows [N, cols] times the matrix transposed (+ bias): prefill_kernel.h, which reads
// the weights where they lie (and from the compact bytes when the model is held in bf16/q8_0),
// where the CPU has AVX-512; ATen's product otherwise.
at::Tensor Linear(const at::Tensor& in, const at::Tensor& w, const CompactMatrix& compact, const at::Tensor& bias) {
  const at::Tensor x = in.contiguous();
  const MatrixView m = ViewOf(w, compact);
  at::Tensor y = at::empty({x.size(0), m.rows}, at::kFloat);
  if (PrefillMatMul(m, x.data_ptr<float>(), x.size(0), bias.defined() ? bias.data_ptr<float>() : nullptr,
                    y.data_ptr<float>(), SplitRowsOnTorchThreads))
    return y;
  if (w.defined()) return at::linear(x, w, bias);
  // Held compact without its f32 matrix (HoldIn) and the vector kernels turned off since (a
  // test's seam): multiply the values the compact copy holds.
  at::Tensor expanded = at::empty({m.rows, m.cols}, at::kFloat);
  Expand(compact, expanded.data_ptr<float>());
  return at::linear(x, expanded, bias);
}

}  // namespace

at::Tensor InverseFrequencies(const ModelConfig& c) {
  const int64_t half = c.head_dim / 2;
  std::vector<double> f(static_cast<size_t>(half));
  for (int64_t i = 0; i < half; ++i)
    f[static_cast<size_t>(i)] = 1.0 / std::pow(c.rope_theta, 2.0 * static_cast<double>(i) / c.head_dim);
  if (c.rope_scaling.type == "llama3") {
    const auto& s = c.rope_scaling;
    const double old_len = static_cast<double>(s.original_max_position_embeddings);
    const double low_wavelen = old_len / s.low_freq_factor;
    const double high_wavelen = old_len / s.high_freq_factor;
    for (double& freq : f) {
      const double wavelen = 2 * M_PI / freq;
      if (wavelen < high_wavelen) continue;
      if (wavelen > low_wavelen) {
        freq /= s.factor;
      } else {
        double smooth = (old_len / wavelen - s.low_freq_factor) / (s.high_freq_factor - s.low_freq_factor);
        freq = (1 - smooth) * freq / s.factor + smooth * freq;
      }
    }
  }
  at::Tensor t = at::empty({half}, at::kDouble);
  for (int64_t i = 0; i < half; ++i) t[i] = f[static_cast<size_t>(i)];
  return t;
}

Result<LlamaWeights> WeightsFromNamed(const ModelConfig& c, std::map<std::string, at::Tensor> named) {
  std::string missing;
  for (const auto& [name, shape] : ExpectedTensors(c)) {
    auto it = named.find(name);
    if (it == named.end()) {
      missing += (missing.empty() ? "" : ", ") + name;
      continue;
    }
    if (it->second.sizes() != at::IntArrayRef(shape)) {
      std::string want, got;
      for (int64_t s : shape) want += (want.empty() ? "" : ", ") + std::to_string(s);
      for (int64_t s : it->second.sizes()) got += (got.empty() ? "" : ", ") + std::to_string(s);
      return Status::InvalidArgument("tensor " + name + " has shape [" + got +
                                     "] but config.json implies [" + want + "]");
    }
  }
  if (!missing.empty()) return Status::InvalidArgument("missing tensors: " + missing);
  LlamaWeights w;
  auto take = [&](const std::string& name) { return named.at(name); };
  w.embed = take("model.embed_tokens.weight");
  for (int64_t l = 0; l < c.num_layers; ++l) {
    const std::string p = LayerPrefix(l);
    LayerWeights lw;
    lw.attn_norm = take(p + "input_layernorm.weight");
    lw.wq = take(p + "self_attn.q_proj.weight");
    lw.wk = take(p + "self_attn.k_proj.weight");
    lw.wv = take(p + "self_attn.v_proj.weight");
    if (c.attention_bias) {
      lw.bq = take(p + "self_attn.q_proj.bias");
      lw.bk = take(p + "self_attn.k_proj.bias");
      lw.bv = take(p + "self_attn.v_proj.bias");
    }
    lw.wo = take(p + "self_attn.o_proj.weight");
    lw.mlp_norm = take(p + "post_attention_layernorm.weight");
    lw.w_gate = take(p + "mlp.gate_proj.weight");
    lw.w_up = take(p + "mlp.up_proj.weight");
    lw.w_down = take(p + "mlp.down_proj.weight");
    w.layers.push_back(std::move(lw));
  }
  w.norm = take("model.norm.weight");
  w.lm_head = c.tie_word_embeddings ? w.embed : take("lm_head.weight");
  return w;
}

std::vector<std::pair<std::string, at::Tensor>> NamedFromWeights(const ModelConfig& c,
                                                                 const LlamaWeights& w) {
  std::vector<std::pair<std::string, at::Tensor>> out;
  out.push_back({"model.embed_tokens.weight", w.embed});
  for (int64_t l = 0; l < c.num_layers; ++l) {
    const std::string p = LayerPrefix(l);
    const LayerWeights& lw = w.layers[static_cast<size_t>(l)];
    out.push_back({p + "input_layernorm.weight", lw.attn_norm});
    out.push_back({p + "self_attn.q_proj.weight", lw.wq});
    out.push_back({p + "self_attn.k_proj.weight", lw.wk});
    out.push_back({p + "self_attn.v_proj.weight", lw.wv});
    if (c.attention_bias) {
      out.push_back({p + "self_attn.q_proj.bias", lw.bq});
      out.push_back({p + "self_attn.k_proj.bias", lw.bk});
      out.push_back({p + "self_attn.v_proj.bias", lw.bv});
    }
    out.push_back({p + "self_attn.o_proj.weight", lw.wo});
    out.push_back({p + "post_attention_layernorm.weight", lw.mlp_norm});
    out.push_back({p + "mlp.gate_proj.weight", lw.w_gate});
    out.push_back({p + "mlp.up_proj.weight", lw.w_up});
    out.push_back({p + "mlp.down_proj.weight", lw.w_down});
  }
  out.push_back({"model.norm.weight", w.norm});
  if (!c.tie_word_embeddings) out.push_back({"lm_head.weight", w.lm_head});
  return out;
}

LlamaModel::LlamaModel(ModelConfig config, LlamaWeights weights)
    : config_(std::move(config)), weights_(std::move(weights)) {
  inv_freq_ = InverseFrequencies(config_);
  Prepare();
}

// Small models are bound by the number of operations per token, not by arithmetic, so the
// forward pass runs on rearranged weights: one matrix for q|k|v and one for gate|up; each RMSNorm
// weight multiplies the columns of the matrix after it (linear(x * w, W) = linear(x, W * w));
// the attention scale 1/sqrt(head_dim) is folded into the q rows (it commutes with RoPE).
// The original tensors stay untouched for saving and, later, training.
void LlamaModel::Prepare() {
  const double scale = 1.0 / std::sqrt(static_cast<double>(config_.head_dim));
  for (const LayerWeights& w : weights_.layers) {
    PreparedLayer p;
    p.w_qkv = at::cat({w.wq * scale, w.wk, w.wv}, 0).mul_(w.attn_norm.unsqueeze(0)).contiguous();
    if (w.bq.defined()) p.b_qkv = at::cat({w.bq * scale, w.bk, w.bv}, 0);
    p.w_o = w.wo.contiguous();
    p.w_gate_up = at::cat({w.w_gate, w.w_up}, 0).mul_(w.mlp_norm.unsqueeze(0)).contiguous();
    p.w_down = w.w_down.contiguous();
    prepared_.push_back(std::move(p));
  }
  lm_head_prepared_ = (weights_.lm_head * weights_.norm.unsqueeze(0)).contiguous();
}

void LlamaModel::HoldWeightsIn(WeightPrecision precision) {
  precision_ = precision;
  if (precision == WeightPrecision::kF32) return;
  for (PreparedLayer& p : prepared_) {
    p.c_qkv = HoldIn(p.w_qkv, precision);
    p.c_o = HoldIn(p.w_o, precision);
    p.c_gate_up = HoldIn(p.w_gate_up, precision);
    p.c_down = HoldIn(p.w_down, precision);
  }
  lm_head_compact_ = HoldIn(lm_head_prepared_, precision);
}

LlamaModel::RopeTable LlamaModel::Rope(int64_t positions) const {
  std::lock_guard<std::mutex> lock(rope_mu_);
  if (!cos_.defined() || cos_.size(0) < positions) {
    // Grown by doubling, but never past the context (HeldBytes counts the table at that size).
    const int64_t context = std::max<int64_t>(config_.max_position_embeddings, 1);
    int64_t n = std::max<int64_t>(positions, std::min<int64_t>(context, 4096));
    if (cos_.defined()) n = std::max(n, std::min(2 * cos_.size(0), context));
    // Angles in double, then float: long positions lose precision in float products.
    at::Tensor t = at::arange(n, at::kDouble).unsqueeze(1) * inv_freq_.unsqueeze(0);
    cos_ = at::cat({t.cos(), t.cos()}, -1).to(at::kFloat);
    // HF's rotate_half(x) = (-x2 | x1) equals roll(x, half) * (-1 | +1): the sign lives in sin_.
    sin_ = at::cat({-t.sin(), t.sin()}, -1).to(at::kFloat);
  }
  return {cos_, sin_};
}

int64_t LlamaModel::HeldBytes() const {
  std::set<const void*> seen;
  int64_t bytes = 0;
  auto add = [&](const at::Tensor& t) {
    if (!t.defined()) return;
    const c10::Storage& s = t.storage();
    if (seen.insert(s.data()).second) bytes += static_cast<int64_t>(s.nbytes());
  };
  add(weights_.embed);
  add(weights_.norm);
  add(weights_.lm_head);
  for (const LayerWeights& w : weights_.layers)
    for (const at::Tensor* t : {&w.attn_norm, &w.wq, &w.wk, &w.wv, &w.wo, &w.bq, &w.bk, &w.bv, &w.mlp_norm,
                                &w.w_gate, &w.w_up, &w.w_down})
      add(*t);
  for (const PreparedLayer& p : prepared_) {
    for (const at::Tensor* t : {&p.w_qkv, &p.b_qkv, &p.w_o, &p.w_gate_up, &p.w_down}) add(*t);
    for (const CompactMatrix* m : {&p.c_qkv, &p.c_o, &p.c_gate_up, &p.c_down})
      bytes += static_cast<int64_t>(m->bytes.size());
  }
  add(lm_head_prepared_);
  bytes += static_cast<int64_t>(lm_head_compact_.bytes.size());
  // The RoPE table at its largest (it grows on demand up to the context, see Rope).
  const int64_t rope_rows = std::max<int64_t>(config_.max_position_embeddings, 1);
  return bytes + 2 * 4 * rope_rows * config_.head_dim;
}

KVCache LlamaModel::NewCache(int64_t batch, int64_t capacity) const {
  KVCache cache;
  cache.capacity = capacity;
  for (int64_t l = 0; l < config_.num_layers; ++l) {
    cache.k.push_back(at::zeros({batch, config_.num_kv_heads, capacity, config_.head_dim}, at::kFloat));
    cache.v.push_back(at::zeros({batch, config_.num_kv_heads, capacity, config_.head_dim}, at::kFloat));
  }
  return cache;
}

at::Tensor LlamaModel::Forward(const at::Tensor& tokens, const at::Tensor& positions,
                               const at::Tensor& key_valid, KVCache* cache, bool last_only) const {
  const ModelConfig& c = config_;
  const int64_t B = tokens.size(0), T = tokens.size(1);
  TORCH_CHECK(cache->length + T <= cache->capacity, "KV cache full");
  if (UseDecodeKernel(B, T)) {
    at::Tensor logits = ForwardDecodeKernel(tokens, positions, key_valid, cache);
    return last_only ? logits : logits.unsqueeze(1);
  }
  at::Tensor x = Layers(tokens, positions, key_valid, cache).view({B, T, c.hidden_size});
  if (last_only) x = x.select(1, T - 1);
  const at::Tensor logits =
      Linear(RmsNormalize(x, c.rms_norm_eps).reshape({-1, c.hidden_size}), lm_head_prepared_, lm_head_compact_, {});
  return last_only ? logits.view({B, c.vocab_size}) : logits.view({B, T, c.vocab_size});
}

at::Tensor LlamaModel::LastHidden(const at::Tensor& tokens, const at::Tensor& positions, KVCache* cache) const {
  const int64_t B = tokens.size(0), T = tokens.size(1);
  TORCH_CHECK(cache->length + T <= cache->capacity, "KV cache full");
  at::Tensor x = Layers(tokens, positions, {}, cache).view({B, T, config_.hidden_size});
  return RmsNormalize(x, config_.rms_norm_eps) * weights_.norm;
}

at::Tensor LlamaModel::Layers(const at::Tensor& tokens, const at::Tensor& positions, const at::Tensor& key_valid,
                              KVCache* cache) const {
  const ModelConfig& c = config_;
  const int64_t B = tokens.size(0), T = tokens.size(1), start = cache->length, S = start + T;
  const int64_t H = c.num_heads, KV = c.num_kv_heads, G = H / KV, D = c.head_dim;
  const RopeTable rope = Rope(positions.max().item<int64_t>() + 1);
  at::Tensor cos = rope.cos.index_select(0, positions.reshape(-1));
  at::Tensor sin = rope.sin.index_select(0, positions.reshape(-1));

  // Additive attention mask [B, 1, 1, T, S]: causal over slots, and padding slots hidden.
  at::Tensor mask;
  if (T > 1 || key_valid.defined()) {
    at::Tensor q_slot = at::arange(start, S, at::kLong).view({T, 1});
    at::Tensor k_slot = at::arange(0, S, at::kLong).view({1, S});
    at::Tensor allowed = (k_slot <= q_slot).view({1, T, S});
    // A padding slot still attends to itself: a row with nothing to attend to would turn into
    // NaN, and NaN values poison later rows even where their weight is zero.
    if (key_valid.defined())
      allowed = allowed & (key_valid.view({B, 1, S}) | (k_slot == q_slot).view({1, T, S}));
    mask = at::zeros({B, T, S}, at::kFloat)
               .masked_fill(allowed.logical_not(), -std::numeric_limits<float>::infinity())
               .view({B, 1, 1, T, S});
  }
  const int64_t F = c.intermediate_size, N = B * T;
  at::Tensor x = weights_.embed.index_select(0, tokens.reshape(-1));  // [N, hidden], rows of the batch
  cos = cos.view({B, T, 1, D});
  sin = sin.view({B, T, 1, D});
  for (int64_t l = 0; l < c.num_layers; ++l) {
    const PreparedLayer& w = prepared_[static_cast<size_t>(l)];
    at::Tensor qkv = Linear(RmsNormalize(x, c.rms_norm_eps), w.w_qkv, w.c_qkv, w.b_qkv).view({B, T, H + 2 * KV, D});
    at::Tensor qk = qkv.narrow(2, 0, H + KV);
    qk = qk * cos + at::roll(qk, {D / 2}, {-1}) * sin;  // RoPE on q and k at once
    at::Tensor q = qk.narrow(2, 0, H).transpose(1, 2);          // [B, H, T, D]
    at::Tensor k = qk.narrow(2, H, KV).transpose(1, 2);         // [B, KV, T, D]
    at::Tensor v = qkv.narrow(2, H + KV, KV).transpose(1, 2);   // [B, KV, T, D]
    at::Tensor& ck = cache->k[static_cast<size_t>(l)];
    at::Tensor& cv = cache->v[static_cast<size_t>(l)];
    ck.narrow(2, start, T).copy_(k);
    cv.narrow(2, start, T).copy_(v);
    at::Tensor keys = ck.narrow(2, 0, S).unsqueeze(2);    // [B, KV, 1, S, D]
    at::Tensor values = cv.narrow(2, 0, S).unsqueeze(2);  // [B, KV, 1, S, D]
    at::Tensor qg = q.reshape({B, KV, G, T, D});          // query heads grouped by their kv head
    at::Tensor scores = at::matmul(qg, keys.transpose(-1, -2));  // [B, KV, G, T, S], pre-scaled
    if (mask.defined()) scores.add_(mask);
    at::Tensor att = at::matmul(at::softmax(scores, -1), values);  // [B, KV, G, T, D]
    at::Tensor o = att.reshape({B, H, T, D}).transpose(1, 2).reshape({N, H * D});
    x = x + Linear(o, w.w_o, w.c_o, {});
    at::Tensor gu = Linear(RmsNormalize(x, c.rms_norm_eps), w.w_gate_up, w.c_gate_up, {});
    at::Tensor act = at::silu(gu.narrow(1, 0, F)).mul_(gu.narrow(1, F, F));
    x = x + Linear(act, w.w_down, w.c_down, {});
  }
  cache->length = S;
  return x;
}

bool LlamaModel::UseDecodeKernel(int64_t batch, int64_t tokens) const {
  // The kernel decodes one sequence at the memory's speed, and several where the model is small
  // enough to be dispatch-bound; bigger batches of bigger f32 models are better served by one
  // matrix-matrix product per weight (prefill_kernel.h). One sequence always takes the kernel, so
  // continuous batching's lone sequence gets the same numbers as a batch-1 decode.
  // Compact weights are read only by the kernel: it serves every decode step then.
  return decode_kernel_enabled_ && tokens == 1 &&
         (precision_ != WeightPrecision::kF32 || batch == 1 || batch * config_.hidden_size <= 1024);
}

std::vector<DecodeLayer> LlamaModel::DecodeLayers() const {
  std::vector<DecodeLayer> layers;
  for (const PreparedLayer& p : prepared_)
    layers.push_back({ViewOf(p.w_qkv, p.c_qkv), p.b_qkv.defined() ? p.b_qkv.data_ptr<float>() : nullptr,
                      ViewOf(p.w_o, p.c_o), ViewOf(p.w_gate_up, p.c_gate_up), ViewOf(p.w_down, p.c_down)});
  return layers;
}

at::Tensor LlamaModel::RunDecodeKernel(const std::vector<int64_t>& tokens, const std::vector<int64_t>& positions,
                                       std::vector<DecodeSequence>* seqs) const {
  const ModelConfig& c = config_;
  const int64_t n = static_cast<int64_t>(tokens.size());
  const RopeTable rope = Rope(*std::max_element(positions.begin(), positions.end()) + 1);
  const DecodeShape shape{c.hidden_size, c.num_heads, c.num_kv_heads, c.head_dim, c.intermediate_size,
                          c.vocab_size, c.rms_norm_eps};
  std::vector<float> x(static_cast<size_t>(n * c.hidden_size));
  const float* embed = weights_.embed.data_ptr<float>();
  for (int64_t b = 0; b < n; ++b) {
    const float* e = embed + tokens[static_cast<size_t>(b)] * c.hidden_size;
    std::copy(e, e + c.hidden_size, x.begin() + b * c.hidden_size);
    DecodeSequence& q = (*seqs)[static_cast<size_t>(b)];
    q.cos = rope.cos.data_ptr<float>() + positions[static_cast<size_t>(b)] * c.head_dim;
    q.sin = rope.sin.data_ptr<float>() + positions[static_cast<size_t>(b)] * c.head_dim;
  }
  at::Tensor logits = at::empty({n, c.vocab_size}, at::kFloat);
  DecodeScratch scratch;
  DecodeTokens(shape, DecodeLayers(), ViewOf(lm_head_prepared_, lm_head_compact_), *seqs, x.data(),
               logits.data_ptr<float>(), &scratch, SplitRows);
  return logits;
}

at::Tensor LlamaModel::ForwardDecodeKernel(const at::Tensor& tokens, const at::Tensor& positions,
                                           const at::Tensor& key_valid, KVCache* cache) const {
  const ModelConfig& c = config_;
  const int64_t B = tokens.size(0), slot = cache->length;
  TORCH_CHECK(tokens.size(1) == 1 && slot + 1 <= cache->capacity, "decode kernel: one token, room in the cache");
  at::Tensor valid = key_valid.defined() ? key_valid.contiguous() : at::Tensor();
  const int64_t per_seq = c.num_kv_heads * cache->capacity * c.head_dim;
  at::Tensor tok = tokens.contiguous(), pos = positions.contiguous();
  std::vector<int64_t> ids(static_cast<size_t>(B)), where(static_cast<size_t>(B));
  std::vector<DecodeSequence> seqs(static_cast<size_t>(B));
  for (int64_t b = 0; b < B; ++b) {
    ids[static_cast<size_t>(b)] = tok.data_ptr<int64_t>()[b];
    where[static_cast<size_t>(b)] = pos.data_ptr<int64_t>()[b];
    DecodeSequence& q = seqs[static_cast<size_t>(b)];
    for (int64_t l = 0; l < c.num_layers; ++l) {
      q.k_cache.push_back(cache->k[static_cast<size_t>(l)].data_ptr<float>() + b * per_seq);
      q.v_cache.push_back(cache->v[static_cast<size_t>(l)].data_ptr<float>() + b * per_seq);
    }
    q.cache_capacity = cache->capacity;
    q.slot = slot;
    q.key_valid = valid.defined() ? valid.data_ptr<bool>() + b * valid.size(1) : nullptr;
  }
  at::Tensor logits = RunDecodeKernel(ids, where, &seqs);
  cache->length = slot + 1;
  return logits;
}

at::Tensor LlamaModel::DecodeSequences(const std::vector<int64_t>& tokens, const std::vector<int64_t>& positions,
                                       const std::vector<KVCache*>& caches) const {
  const ModelConfig& c = config_;
  TORCH_CHECK(tokens.size() == positions.size() && tokens.size() == caches.size() && !tokens.empty(),
              "DecodeSequences: one token, position and cache per sequence");
  std::vector<DecodeSequence> seqs(tokens.size());
  for (size_t b = 0; b < tokens.size(); ++b) {
    KVCache* cache = caches[b];
    TORCH_CHECK(cache->k.size() == static_cast<size_t>(c.num_layers) && cache->k[0].size(0) == 1 &&
                    cache->length + 1 <= cache->capacity,
                "DecodeSequences: a cache of one sequence with room for the token");
    TORCH_CHECK(tokens[b] >= 0 && tokens[b] < c.vocab_size && positions[b] >= 0, "DecodeSequences: bad token");
    DecodeSequence& q = seqs[b];
    for (int64_t l = 0; l < c.num_layers; ++l) {
      q.k_cache.push_back(cache->k[static_cast<size_t>(l)].data_ptr<float>());
      q.v_cache.push_back(cache->v[static_cast<size_t>(l)].data_ptr<float>());
    }
    q.cache_capacity = cache->capacity;
    q.slot = cache->length;
  }
  at::Tensor logits = RunDecodeKernel(tokens, positions, &seqs);
  for (KVCache* cache : caches) ++cache->length;
  return logits;
}

}  // namespace lathe::engine
