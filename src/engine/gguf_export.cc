// Hugging Face model folder -> GGUF (gguf_convert.h): the keys and tensor names llama.cpp's own
// converter writes for the "llama" architecture, so llama.cpp loads the file as it loads its own.
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>

#include "core/env.h"
#include "engine/gguf_bpe_vocab.h"
#include "engine/gguf_convert.h"
#include "engine/gguf_rope_freqs.h"
#include "engine/model_folder.h"
#include "engine/rotary_permute.h"
#include "engine/safetensors.h"
#include "text/spm_model_proto.h"

namespace lathe::engine {
namespace {

// Every tensor of the folder's safetensors files as float32, by name.
Status ReadWeightsF32(const std::string& dir, const std::vector<std::string>& files,
                      std::map<std::string, std::vector<float>>* out) {
  Env* env = Env::Default();
  for (const auto& name : files) {
    if (name.size() < 12 || name.compare(name.size() - 12, 12, ".safetensors") != 0) continue;
    const std::string path = dir + "/" + name;
    uint64_t size = 0;
    LATHE_RETURN_IF_ERROR(env->GetFileSize(path, &size));
    std::unique_ptr<RandomAccessFile> f;
    LATHE_RETURN_IF_ERROR(env->NewRandomAccessFile(path, &f));
    SafetensorsHeader h;
    LATHE_RETURN_IF_ERROR(ReadSafetensorsHeader(*f, size, name, &h));
    for (const auto& t : h.tensors) {
      std::string raw(t.end - t.begin, '\0');
      LATHE_RETURN_IF_ERROR(f->Read(h.data_offset + t.begin, raw.size(), raw.data()));
      std::vector<float> v(t.numel());
      if (t.dtype == DType::kF32) {
        std::memcpy(v.data(), raw.data(), raw.size());
      } else if (t.dtype == DType::kF64) {
        for (size_t i = 0; i < v.size(); ++i) {
          double d;
          std::memcpy(&d, raw.data() + 8 * i, 8);
          v[i] = static_cast<float>(d);
        }
      } else if (t.dtype == DType::kBF16 || t.dtype == DType::kF16) {
        LATHE_RETURN_IF_ERROR(
            DequantizeGguf(t.dtype == DType::kBF16 ? GgmlType::kBF16 : GgmlType::kF16, raw, v.size(), v.data()));
      } else {
        return Status::Unsupported(name + ": tensor " + t.name + " is " + DTypeName(t.dtype) +
                                   "; GGUF export reads F32, F16, BF16 and F64 weights");
      }
      (*out)[t.name] = std::move(v);
    }
  }
  return Status::Ok();
}

GgufValue U32(int64_t v) { return GgufValue::U32(static_cast<uint32_t>(v)); }

// The model's keys: architecture, sizes, file type.
std::map<std::string, GgufValue> MetadataFor(const ModelConfig& c, const std::string& name, GgmlType type) {
  std::map<std::string, GgufValue> m;
  auto u32 = U32;
  m["general.architecture"] = GgufValue::String("llama");
  m["general.name"] = GgufValue::String(name);
  // llama.cpp's LLAMA_FTYPE: 0 all F32, 1 mostly F16, 7 mostly Q8_0.
  m["general.file_type"] = u32(type == GgmlType::kF32 ? 0 : type == GgmlType::kF16 ? 1 : 7);
  m["general.alignment"] = u32(32);
  m["llama.context_length"] = u32(c.max_position_embeddings);
  m["llama.embedding_length"] = u32(c.hidden_size);
  m["llama.block_count"] = u32(c.num_layers);
  m["llama.feed_forward_length"] = u32(c.intermediate_size);
  m["llama.rope.dimension_count"] = u32(c.head_dim);
  m["llama.attention.head_count"] = u32(c.num_heads);
  m["llama.attention.head_count_kv"] = u32(c.num_kv_heads);
  m["llama.attention.key_length"] = u32(c.head_dim);
  m["llama.attention.value_length"] = u32(c.head_dim);
  m["llama.attention.layer_norm_rms_epsilon"] = GgufValue::F32(static_cast<float>(c.rms_norm_eps));
  m["llama.rope.freq_base"] = GgufValue::F32(static_cast<float>(c.rope_theta));
  m["llama.vocab_size"] = u32(c.vocab_size);
  return m;
}

// A SentencePiece vocabulary (tokenizer.model) as GGUF's "llama" vocabulary.
void AddSpmVocab(const ModelConfig& c, const text::SpmModelProto& tok, std::map<std::string, GgufValue>* metadata) {
  std::map<std::string, GgufValue>& m = *metadata;
  auto u32 = U32;
  std::vector<std::string> tokens;
  std::vector<double> scores, types;
  for (const auto& p : tok.pieces) {
    tokens.push_back(p.piece);
    scores.push_back(p.score);
    types.push_back(p.type);
  }
  m["tokenizer.ggml.model"] = GgufValue::String("llama");
  m["tokenizer.ggml.tokens"] = GgufValue::StringArray(std::move(tokens));
  m["tokenizer.ggml.scores"] = GgufValue::NumberArray(GgufType::kF32, std::move(scores));
  m["tokenizer.ggml.token_type"] = GgufValue::NumberArray(GgufType::kI32, std::move(types));
  m["tokenizer.ggml.bos_token_id"] = u32(c.bos_token_id >= 0 ? c.bos_token_id : tok.bos_id);
  m["tokenizer.ggml.eos_token_id"] = u32(c.eos_token_ids.empty() ? tok.eos_id : c.eos_token_ids.front());
  if (tok.unk_id >= 0) m["tokenizer.ggml.unknown_token_id"] = u32(tok.unk_id);
  if (tok.pad_id >= 0) m["tokenizer.ggml.padding_token_id"] = u32(tok.pad_id);
  m["tokenizer.ggml.add_bos_token"] = GgufValue::Bool(true);
  m["tokenizer.ggml.add_eos_token"] = GgufValue::Bool(false);
  m["tokenizer.ggml.add_space_prefix"] = GgufValue::Bool(tok.add_dummy_prefix);
}

// The model folder's vocabulary as GGUF keys: tokenizer.model (SentencePiece) as a "llama"
// vocabulary, else a byte-level BPE tokenizer.json as a "gpt2" one (gguf_bpe_vocab.h).
Status AddVocab(const std::string& dir, const ModelConfig& c, std::map<std::string, GgufValue>* m) {
  Env* env = Env::Default();
  if (env->FileExists(dir + "/tokenizer.model")) {
    std::string tok_bytes;
    LATHE_RETURN_IF_ERROR(ReadFileToString(env, dir + "/tokenizer.model", &tok_bytes));
    text::SpmModelProto tok;
    LATHE_RETURN_IF_ERROR(text::ParseSpmModelProto(tok_bytes, "tokenizer.model", &tok));
    if (static_cast<int64_t>(tok.pieces.size()) != c.vocab_size)
      return Status::InvalidArgument(dir + ": tokenizer.model has " + std::to_string(tok.pieces.size()) +
                                     " pieces but config.json's vocab_size is " + std::to_string(c.vocab_size));
    AddSpmVocab(c, tok, m);
    return Status::Ok();
  }
  if (!env->FileExists(dir + "/tokenizer.json"))
    return Status::Unsupported(dir + ": GGUF export needs a SentencePiece tokenizer.model or a byte-level BPE "
                               "tokenizer.json");
  uint64_t size = 0;
  LATHE_RETURN_IF_ERROR(env->GetFileSize(dir + "/tokenizer.json", &size));
  if (size > kMaxTokenizerJsonBytes)
    return Status::InvalidArgument(dir + "/tokenizer.json: over " + std::to_string(kMaxTokenizerJsonBytes >> 20) + " MiB");
  std::string json;
  LATHE_RETURN_IF_ERROR(ReadFileToString(env, dir + "/tokenizer.json", &json));
  auto vocab = BpeVocabFromTokenizerJson(json, c.vocab_size, dir + "/tokenizer.json");
  if (!vocab.ok()) return vocab.status();
  AddBpeVocabToGguf(*vocab, m);
  if (c.bos_token_id >= 0) (*m)["tokenizer.ggml.bos_token_id"] = U32(c.bos_token_id);
  if (!c.eos_token_ids.empty()) (*m)["tokenizer.ggml.eos_token_id"] = U32(c.eos_token_ids.front());
  (*m)["tokenizer.ggml.add_bos_token"] = GgufValue::Bool(c.bos_token_id >= 0);
  (*m)["tokenizer.ggml.add_eos_token"] = GgufValue::Bool(false);
  return Status::Ok();
}

}  // namespace

Result<GgufExportResult> ExportGguf(const std::string& dir, const std::string& out_path, GgmlType type) {
  if (type != GgmlType::kF32 && type != GgmlType::kF16 && type != GgmlType::kQ8_0)
    return Status::InvalidArgument(std::string("GGUF export writes F32, F16 or Q8_0, not ") + GgmlTypeName(type));
  auto facts = CheckModelFolder(dir);
  if (!facts.ok()) return facts.status();
  const ModelConfig& c = facts->config;
  if (c.architecture != "LlamaForCausalLM" && c.architecture != "MistralForCausalLM")
    return Status::Unsupported(dir + ": " + c.architecture + "; GGUF export writes Llama-family models so far");
  if (c.attention_bias || (!c.rope_scaling.type.empty() && c.rope_scaling.type != "llama3"))
    return Status::Unsupported(dir + ": attention biases or rope scaling other than Llama 3's have no place in "
                               "GGUF's llama architecture");
  Env* env = Env::Default();
  const std::string model_name = std::filesystem::path(dir).filename().string();
  auto metadata = MetadataFor(c, model_name.empty() ? "lathe model" : model_name, type);
  LATHE_RETURN_IF_ERROR(AddVocab(dir, c, &metadata));

  std::map<std::string, std::vector<float>> weights;
  LATHE_RETURN_IF_ERROR(ReadWeightsF32(dir, facts->files, &weights));
  std::vector<std::string> owned_bytes;
  std::vector<GgufTensorToWrite> tensors;
  const auto expected = ExpectedTensors(c);
  owned_bytes.reserve(expected.size() + 1);  // the tensors hold views into these strings
  for (const auto& [hf_name, shape] : expected) {
    auto it = weights.find(hf_name);
    if (it == weights.end()) return Status::InvalidArgument(dir + ": tensor " + hf_name + " is missing");
    const std::string name = GgufTensorName(hf_name);
    std::vector<float>& v = it->second;
    const bool q = name.find(".attn_q.") != std::string::npos, k = name.find(".attn_k.") != std::string::npos;
    if (q || k)
      v = PermuteRotaryRows(v.data(), q ? c.num_heads : c.num_kv_heads, c.head_dim, c.hidden_size,
                            /*to_interleaved=*/true);
    std::vector<uint64_t> dims(shape.rbegin(), shape.rend());
    // Vectors (the norms) stay F32; matrices take the chosen type where their rows are whole blocks.
    GgmlType t = dims.size() == 1 ? GgmlType::kF32 : type;
    if (t == GgmlType::kQ8_0 && dims[0] % 32 != 0) t = GgmlType::kF16;
    if (t == GgmlType::kF32)
      owned_bytes.emplace_back(reinterpret_cast<const char*>(v.data()), v.size() * 4);
    else if (t == GgmlType::kF16)
      owned_bytes.push_back(QuantizeGgufF16(v.data(), v.size()));
    else
      owned_bytes.push_back(QuantizeGgufQ8_0(v.data(), v.size()));
    std::vector<float>().swap(v);
    tensors.push_back({name, std::move(dims), t, owned_bytes.back()});
  }
  // Llama 3's rope scaling: llama.cpp reads it from this tensor (gguf_rope_freqs.h).
  if (c.rope_scaling.type == "llama3") {
    const std::vector<float> freqs = Llama3RopeFreqs(c);
    owned_bytes.emplace_back(reinterpret_cast<const char*>(freqs.data()), freqs.size() * 4);
    tensors.push_back({"rope_freqs.weight", {freqs.size()}, GgmlType::kF32, owned_bytes.back()});
  }
  auto bytes = SerializeGguf(metadata, tensors);
  if (!bytes.ok()) return bytes.status();
  LATHE_RETURN_IF_ERROR(WriteFileAtomically(env, out_path, *bytes));
  return GgufExportResult{c, bytes->size(), static_cast<int>(tensors.size())};
}

}  // namespace lathe::engine
