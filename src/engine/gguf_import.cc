// GGUF -> Hugging Face model folder (gguf_convert.h).
#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <set>

#include <nlohmann/json.hpp>

#include "core/env.h"
#include "engine/gguf_bpe_vocab.h"
#include "engine/gguf_convert.h"
#include "engine/gguf_rope_freqs.h"
#include "engine/rotary_permute.h"
#include "engine/safetensors.h"
#include "text/spm_model_proto.h"

namespace lathe::engine {
namespace {

// An optional integer key: its value, `fallback` when absent, an error when of another type.
Result<int64_t> IntegerOr(const GgufFile& g, const std::string& key, int64_t fallback) {
  if (!g.Find(key)) return fallback;
  return g.Integer(key);
}
Result<double> RealOr(const GgufFile& g, const std::string& key, double fallback) {
  if (!g.Find(key)) return fallback;
  return g.Real(key);
}

Result<ModelConfig> ConfigFromGguf(const GgufFile& g, int64_t vocab, const std::string& file) {
  auto prefixed = [&](const Status& s) { return Status::InvalidArgument(file + ": " + s.message()); };
  ModelConfig c;
  c.architecture = "LlamaForCausalLM";
  c.vocab_size = vocab;
  struct Field {
    const char* key;
    int64_t* to;
    int64_t fallback;  // -1: required
  };
  const Field fields[] = {
      {"llama.embedding_length", &c.hidden_size, -1},    {"llama.block_count", &c.num_layers, -1},
      {"llama.feed_forward_length", &c.intermediate_size, -1}, {"llama.attention.head_count", &c.num_heads, -1},
      {"llama.context_length", &c.max_position_embeddings, 2048},
  };
  for (const auto& f : fields) {
    auto v = f.fallback < 0 ? g.Integer(f.key) : IntegerOr(g, f.key, f.fallback);
    if (!v.ok()) return prefixed(v.status());
    *f.to = *v;
  }
  auto kv = IntegerOr(g, "llama.attention.head_count_kv", c.num_heads);
  if (!kv.ok()) return prefixed(kv.status());
  c.num_kv_heads = *kv;
  c.head_dim = c.num_heads > 0 ? c.hidden_size / c.num_heads : 0;
  auto key_length = IntegerOr(g, "llama.attention.key_length", c.head_dim);
  if (!key_length.ok()) return prefixed(key_length.status());
  c.head_dim = *key_length;
  auto eps = RealOr(g, "llama.attention.layer_norm_rms_epsilon", 1e-5);
  auto theta = RealOr(g, "llama.rope.freq_base", 10000.0);
  if (!eps.ok()) return prefixed(eps.status());
  if (!theta.ok()) return prefixed(theta.status());
  c.rms_norm_eps = *eps;
  c.rope_theta = *theta;
  if (g.Find("llama.rope.scaling.type"))
    return Status::Unsupported(file + ": rope scaling by llama.rope.scaling.* (linear, YaRN) is not imported yet; "
                               "Llama 3's (rope_freqs.weight) is");
  c.tie_word_embeddings = g.FindTensor("output.weight") == nullptr;
  auto bos = IntegerOr(g, "tokenizer.ggml.bos_token_id", 1);
  auto eos = IntegerOr(g, "tokenizer.ggml.eos_token_id", 2);
  if (!bos.ok()) return prefixed(bos.status());
  if (!eos.ok()) return prefixed(eos.status());
  c.bos_token_id = *bos;
  c.eos_token_ids = {*eos};
  Status valid = c.Validate();
  if (!valid.ok()) return Status::InvalidArgument(file + ": " + valid.message());
  return c;
}

// tokenizer.ggml.{tokens,scores,token_type} as a SentencePiece BPE model (what a "llama"
// vocabulary is: llama.cpp's SPM tokenizer merges by score).
Result<std::string> TokenizerModelFromGguf(const GgufFile& g, const std::string& file) {
  auto model = g.String("tokenizer.ggml.model");
  if (!model.ok()) return Status::InvalidArgument(file + ": " + model.status().message());
  if (*model != "llama")
    return Status::Unsupported(file + ": tokenizer.ggml.model is \"" + model->substr(0, 64) +
                               "\"; lathe imports SentencePiece (\"llama\") and byte-level BPE (\"gpt2\") vocabularies");
  const GgufValue* tokens = g.Find("tokenizer.ggml.tokens");
  if (!tokens || tokens->type != GgufType::kArray || tokens->array_type != GgufType::kString || tokens->strings.empty())
    return Status::InvalidArgument(file + ": tokenizer.ggml.tokens must be a non-empty array of strings");
  const size_t n = tokens->strings.size();
  if (n > text::kMaxSpmPieces) return Status::InvalidArgument(file + ": vocabulary over the piece limit");
  auto numbers = [&](const char* key) -> const std::vector<double>* {
    const GgufValue* v = g.Find(key);
    if (!v || v->type != GgufType::kArray || v->array_type == GgufType::kString || v->numbers.size() != n)
      return nullptr;
    return &v->numbers;
  };
  const std::vector<double>* scores = numbers("tokenizer.ggml.scores");
  const std::vector<double>* types = numbers("tokenizer.ggml.token_type");
  if (!scores || !types)
    return Status::InvalidArgument(file + ": tokenizer.ggml.scores and token_type must be numeric arrays as long as "
                                   "the " + std::to_string(n) + " tokens");
  text::SpmModelProto m;
  m.model_type = 2;  // BPE
  m.pad_id = -1;
  for (size_t i = 0; i < n; ++i) {
    text::SpmPiece p{tokens->strings[i], static_cast<float>((*scores)[i]), static_cast<int>((*types)[i])};
    if (p.type < text::SpmPiece::kNormal || p.type > text::SpmPiece::kByte)
      return Status::InvalidArgument(file + ": token " + std::to_string(i) + " has unknown type " +
                                     std::to_string(p.type));
    if (p.type == text::SpmPiece::kByte) m.byte_fallback = true;
    m.pieces.push_back(std::move(p));
  }
  auto id = [&](const char* key, int fallback) -> Result<int> {
    auto v = IntegerOr(g, key, fallback);
    if (!v.ok()) return Status::InvalidArgument(file + ": " + v.status().message());
    if (*v == 0xffffffffLL) return -1;  // "none" (-1) as llama.cpp writes it, a u32
    if (*v < -1 || *v >= static_cast<int64_t>(n))
      return Status::InvalidArgument(file + ": " + key + " " + std::to_string(*v) + " is not a token id");
    return static_cast<int>(*v);
  };
  auto unk = id("tokenizer.ggml.unknown_token_id", 0), bos = id("tokenizer.ggml.bos_token_id", 1),
       eos = id("tokenizer.ggml.eos_token_id", 2), pad = id("tokenizer.ggml.padding_token_id", -1);
  for (auto* r : {&unk, &bos, &eos, &pad})
    if (!r->ok()) return r->status();
  m.unk_id = *unk;
  m.bos_id = *bos;
  m.eos_id = *eos;
  m.pad_id = *pad;
  if (const GgufValue* space = g.Find("tokenizer.ggml.add_space_prefix")) m.add_dummy_prefix = space->boolean;
  // llama.cpp's tokenizer keeps runs of spaces; so does the imported model.
  m.remove_extra_whitespaces = false;
  return text::SerializeSpmModelProto(m);
}

Status ReadRange(RandomAccessFile* f, uint64_t offset, uint64_t n, std::string* out) {
  out->resize(n);
  return f->Read(offset, n, out->data());
}

}  // namespace

std::string GgufTensorName(const std::string& hf) {
  static const std::map<std::string, std::string> kFixed = {
      {"model.embed_tokens.weight", "token_embd.weight"},
      {"model.norm.weight", "output_norm.weight"},
      {"lm_head.weight", "output.weight"},
  };
  static const std::map<std::string, std::string> kLayer = {
      {"input_layernorm.weight", "attn_norm.weight"},   {"self_attn.q_proj.weight", "attn_q.weight"},
      {"self_attn.k_proj.weight", "attn_k.weight"},     {"self_attn.v_proj.weight", "attn_v.weight"},
      {"self_attn.o_proj.weight", "attn_output.weight"}, {"post_attention_layernorm.weight", "ffn_norm.weight"},
      {"mlp.gate_proj.weight", "ffn_gate.weight"},      {"mlp.down_proj.weight", "ffn_down.weight"},
      {"mlp.up_proj.weight", "ffn_up.weight"},
  };
  if (auto it = kFixed.find(hf); it != kFixed.end()) return it->second;
  const std::string prefix = "model.layers.";
  if (hf.compare(0, prefix.size(), prefix) != 0) return "";
  const size_t dot = hf.find('.', prefix.size());
  if (dot == std::string::npos || dot == prefix.size() || dot - prefix.size() > 4) return "";
  const std::string layer = hf.substr(prefix.size(), dot - prefix.size());
  if (!std::all_of(layer.begin(), layer.end(), [](char ch) { return ch >= '0' && ch <= '9'; })) return "";
  auto it = kLayer.find(hf.substr(dot + 1));
  return it == kLayer.end() ? "" : "blk." + layer + "." + it->second;
}

Result<GgufImportResult> ImportGguf(const std::string& path, const std::string& out_dir) {
  Env* env = Env::Default();
  uint64_t size = 0;
  LATHE_RETURN_IF_ERROR(env->GetFileSize(path, &size));
  std::unique_ptr<RandomAccessFile> file;
  LATHE_RETURN_IF_ERROR(env->NewRandomAccessFile(path, &file));
  std::string prefix;
  LATHE_RETURN_IF_ERROR(ReadRange(file.get(), 0, std::min(size, kMaxGgufHeaderBytes), &prefix));
  GgufFile g;
  LATHE_RETURN_IF_ERROR(ParseGguf(prefix, size, path, &g));
  prefix.clear();
  prefix.shrink_to_fit();
  auto arch = g.String("general.architecture");
  if (!arch.ok()) return Status::InvalidArgument(path + ": " + arch.status().message());
  if (*arch != "llama")
    return Status::Unsupported(path + ": architecture \"" + *arch + "\"; lathe imports GGUF's \"llama\" "
                               "architecture (Llama 1/2, Mistral, TinyLlama) so far");
  // The vocabulary: a SentencePiece tokenizer.model, or a byte-level BPE tokenizer.json and its
  // tokenizer_config.json (gguf_bpe_vocab.h).
  std::map<std::string, std::string> tokenizer_files;
  auto vocab_model = g.String("tokenizer.ggml.model");
  std::optional<GgufBpeVocab> bpe;
  if (vocab_model.ok() && *vocab_model == "gpt2") {
    auto v = BpeVocabFromGguf(g, path);
    if (!v.ok()) return v.status();
    bpe = std::move(*v);
  } else {
    auto tokenizer = TokenizerModelFromGguf(g, path);
    if (!tokenizer.ok()) return tokenizer.status();
    tokenizer_files["tokenizer.model"] = std::move(*tokenizer);
  }
  auto config = ConfigFromGguf(g, static_cast<int64_t>(g.Find("tokenizer.ggml.tokens")->strings.size()), path);
  if (!config.ok()) return config.status();
  // Llama 3's rope scaling, as llama.cpp's converter stores it (gguf_rope_freqs.h).
  const GgufTensorInfo* rope_freqs = g.FindTensor("rope_freqs.weight");
  if (rope_freqs) {
    if (rope_freqs->dims.size() != 1 || rope_freqs->numel() != static_cast<uint64_t>(config->head_dim / 2))
      return Status::InvalidArgument(path + ": tensor rope_freqs.weight is not one value per rotary frequency");
    std::string raw;
    LATHE_RETURN_IF_ERROR(ReadRange(file.get(), g.data_offset + rope_freqs->offset, rope_freqs->bytes, &raw));
    std::vector<float> freqs(rope_freqs->numel());
    LATHE_RETURN_IF_ERROR(DequantizeGguf(static_cast<GgmlType>(rope_freqs->type), raw, rope_freqs->numel(), freqs.data()));
    LATHE_RETURN_IF_ERROR(RopeScalingFromFreqs(freqs, path, &*config));
  }
  const ModelConfig& c = *config;
  if (bpe) {
    auto files = HfTokenizerFromBpeVocab(*bpe, c.bos_token_id, c.eos_token_ids.front(), path);
    if (!files.ok()) return files.status();
    tokenizer_files["tokenizer.json"] = std::move(files->tokenizer_json);
    tokenizer_files["tokenizer_config.json"] = std::move(files->tokenizer_config_json);
  }

  std::map<std::string, int> type_counts;
  std::set<std::string> used;
  if (rope_freqs) used.insert(rope_freqs->name);
  std::vector<std::vector<float>> owned;
  std::vector<TensorToWrite> tensors;
  const auto expected = ExpectedTensors(c);
  owned.reserve(expected.size());
  for (const auto& [hf_name, shape] : expected) {
    const std::string name = GgufTensorName(hf_name);
    const GgufTensorInfo* t = name.empty() ? nullptr : g.FindTensor(name);
    if (!t) return Status::InvalidArgument(path + ": tensor " + (name.empty() ? hf_name : name) + " is missing");
    std::vector<uint64_t> want(shape.rbegin(), shape.rend());  // GGUF lists the innermost first
    if (t->dims != want) {
      std::string got;
      for (uint64_t d : t->dims) got += (got.empty() ? "" : ", ") + std::to_string(d);
      return Status::InvalidArgument(path + ": tensor " + name + " has dimensions [" + got +
                                     "], not what the header's sizes imply for " + hf_name);
    }
    std::string raw;
    LATHE_RETURN_IF_ERROR(ReadRange(file.get(), g.data_offset + t->offset, t->bytes, &raw));
    std::vector<float> values(t->numel());
    const auto type = static_cast<GgmlType>(t->type);
    LATHE_RETURN_IF_ERROR(DequantizeGguf(type, raw, t->numel(), values.data()));
    ++type_counts[GgmlTypeName(type)];
    const bool q = name.find(".attn_q.") != std::string::npos, k = name.find(".attn_k.") != std::string::npos;
    if (q || k)
      values = PermuteRotaryRows(values.data(), q ? c.num_heads : c.num_kv_heads, c.head_dim, c.hidden_size);
    owned.push_back(std::move(values));
    used.insert(name);
    tensors.push_back({hf_name, DType::kF32, shape,
                       std::string_view(reinterpret_cast<const char*>(owned.back().data()), owned.back().size() * 4)});
  }
  for (const auto& t : g.tensors)
    if (!used.count(t.name))
      return Status::Unsupported(path + ": tensor " + t.name + " has no place in a Llama model; lathe does not drop "
                                 "weights silently");

  auto safetensors = SerializeSafetensors(tensors, {{"format", "pt"}, {"source", "GGUF import"}});
  if (!safetensors.ok()) return safetensors.status();
  owned.clear();
  LATHE_RETURN_IF_ERROR(env->CreateDirs(out_dir));
  LATHE_RETURN_IF_ERROR(WriteFileAtomically(env, out_dir + "/model.safetensors", *safetensors));
  for (const auto& [name, bytes] : tokenizer_files)
    LATHE_RETURN_IF_ERROR(WriteFileAtomically(env, out_dir + "/" + name, bytes));
  LATHE_RETURN_IF_ERROR(WriteFileAtomically(env, out_dir + "/config.json", ModelConfigToJson(c).dump(2) + "\n"));
  nlohmann::json gen = {{"bos_token_id", c.bos_token_id}, {"eos_token_id", c.eos_token_ids.front()}};
  LATHE_RETURN_IF_ERROR(WriteFileAtomically(env, out_dir + "/generation_config.json", gen.dump(2) + "\n"));
  GgufImportResult r{c, c.ParameterCount(), ""};
  for (const auto& [type, count] : type_counts)
    r.tensor_types += (r.tensor_types.empty() ? "" : ", ") + type + " " + std::to_string(count);
  return r;
}

}  // namespace lathe::engine
