// Reading a Hugging Face model directory into tensors (shared by generation and training).
#include "engine/model_loader.h"

#include <filesystem>
#include <set>

#include <nlohmann/json.hpp>

#include "core/env.h"
#include "engine/safetensors.h"

namespace lathe::engine {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

Result<at::ScalarType> TorchType(DType d, const std::string& tensor) {
  switch (d) {
    case DType::kF32: return at::kFloat;
    case DType::kF16: return at::kHalf;
    case DType::kBF16: return at::kBFloat16;
    case DType::kF64: return at::kDouble;
    default:
      return Status::Unsupported("tensor " + tensor + " has dtype " + DTypeName(d) +
                                 "; model weights must be F32, F16, BF16 or F64");
  }
}

// Reads every tensor of one safetensors file into float32 tensors.
Status ReadSafetensors(const std::string& path, std::map<std::string, at::Tensor>* out,
                       std::string* dtype_seen) {
  Env* env = Env::Default();
  uint64_t size = 0;
  LATHE_RETURN_IF_ERROR(env->GetFileSize(path, &size));
  std::unique_ptr<RandomAccessFile> file;
  LATHE_RETURN_IF_ERROR(env->NewRandomAccessFile(path, &file));
  SafetensorsHeader header;
  LATHE_RETURN_IF_ERROR(ReadSafetensorsHeader(*file, size, path, &header));
  for (const TensorInfo& t : header.tensors) {
    auto type = TorchType(t.dtype, t.name);
    if (!type.ok()) return type.status();
    at::Tensor raw = at::empty(t.shape, at::TensorOptions().dtype(*type));
    LATHE_RETURN_IF_ERROR(file->Read(header.data_offset + t.begin, t.end - t.begin,
                                     static_cast<char*>(raw.data_ptr())));
    if (out->count(t.name)) return Status::Corruption(path + ": tensor " + t.name + " appears twice");
    (*out)[t.name] = raw.to(at::kFloat);
    if (t.dtype == DType::kBF16) *dtype_seen = "bfloat16";
    else if (t.dtype == DType::kF16) *dtype_seen = "float16";
  }
  return Status::Ok();
}

Status ReadModelWeights(const std::string& dir, std::map<std::string, at::Tensor>* named,
                        std::string* dtype) {
  const std::string single = dir + "/model.safetensors", index = dir + "/model.safetensors.index.json";
  *dtype = "float32";
  if (fs::exists(single)) return ReadSafetensors(single, named, dtype);
  if (!fs::exists(index))
    return Status::NotFound(dir + " has no model.safetensors or model.safetensors.index.json");
  std::string text;
  LATHE_RETURN_IF_ERROR(ReadFileToString(Env::Default(), index, &text));
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.contains("weight_map") || !j["weight_map"].is_object())
    return Status::InvalidArgument(index + ": expected {\"weight_map\": {tensor: file}}");
  std::set<std::string> shards;
  for (const auto& item : j["weight_map"].items()) {
    if (!item.value().is_string()) return Status::InvalidArgument(index + ": weight_map values must be file names");
    std::string shard = item.value().get<std::string>();
    if (shard.find('/') != std::string::npos)
      return Status::InvalidArgument(index + ": shard name " + shard + " must be a plain file name");
    shards.insert(shard);
  }
  std::map<std::string, std::string> origin;  // tensor -> the shard it was read from
  for (const auto& shard : shards) {
    const size_t before = named->size();
    std::map<std::string, at::Tensor> part;
    LATHE_RETURN_IF_ERROR(ReadSafetensors(dir + "/" + shard, &part, dtype));
    for (auto& [name, t] : part) {
      origin[name] = shard;
      (*named)[name] = std::move(t);
    }
    if (named->size() != before + part.size())
      return Status::Corruption(dir + "/" + shard + " repeats a tensor of another shard");
  }
  for (const auto& item : j["weight_map"].items())
    if (origin[item.key()] != item.value().get<std::string>())
      return Status::Corruption(index + ": " + item.key() + " is not in " + item.value().get<std::string>());
  return Status::Ok();
}

json ReadJsonIfPresent(const std::string& path) {
  std::string text;
  if (!fs::exists(path) || !ReadFileToString(Env::Default(), path, &text).ok()) return json::object();
  json j = json::parse(text, nullptr, false);
  return j.is_object() ? j : json::object();
}

}  // namespace

Result<LoadedModel> LoadModelDirectory(const std::string& dir) {
  if (!fs::is_directory(dir)) return Status::NotFound("model directory " + dir + " does not exist");
  auto config = LoadModelConfig(dir + "/config.json");
  if (!config.ok()) return config.status();
  auto tokenizer = text::LoadTokenizer(dir);
  if (!tokenizer.ok()) return tokenizer.status();
  if ((*tokenizer)->vocab_size() > config->vocab_size)
    return Status::InvalidArgument(dir + ": the tokenizer has " + std::to_string((*tokenizer)->vocab_size()) +
                                   " tokens but config.json's vocab_size is " + std::to_string(config->vocab_size));
  std::map<std::string, at::Tensor> named;
  std::string dtype;
  LATHE_RETURN_IF_ERROR(ReadModelWeights(dir, &named, &dtype));
  config->torch_dtype = dtype;
  // Names the config does not explain are refused, except buffers some exporters add.
  std::set<std::string> expected;
  for (const auto& [name, shape] : ExpectedTensors(*config)) expected.insert(name);
  std::string unexpected;
  for (auto it = named.begin(); it != named.end();) {
    const std::string& name = it->first;
    bool harmless = name.size() > 20 && name.ends_with("rotary_emb.inv_freq");
    harmless = harmless || (config->tie_word_embeddings && name == "lm_head.weight");
    if (!expected.count(name)) {
      if (!harmless) unexpected += (unexpected.empty() ? "" : ", ") + name;
      it = named.erase(it);
    } else {
      ++it;
    }
  }
  if (!unexpected.empty())
    return Status::InvalidArgument(dir + ": unexpected tensors for a " + config->architecture + ": " + unexpected);
  auto weights = WeightsFromNamed(*config, std::move(named));
  if (!weights.ok()) return Status::InvalidArgument(dir + ": " + weights.status().message());

  // End tokens: config.json, generation_config.json and the tokenizer's own.
  std::set<int> eos(config->eos_token_ids.begin(), config->eos_token_ids.end());
  json gen = ReadJsonIfPresent(dir + "/generation_config.json");
  if (auto it = gen.find("eos_token_id"); it != gen.end()) {
    if (it->is_number_integer()) eos.insert(it->get<int>());
    if (it->is_array())
      for (const auto& e : *it)
        if (e.is_number_integer()) eos.insert(e.get<int>());
  }
  if ((*tokenizer)->eos_id() >= 0) eos.insert((*tokenizer)->eos_id());
  if (config->bos_token_id < 0 && gen.contains("bos_token_id") && gen["bos_token_id"].is_number_integer())
    config->bos_token_id = gen["bos_token_id"].get<int64_t>();
  json tok_config = ReadJsonIfPresent(dir + "/tokenizer_config.json");
  bool add_bos = tok_config.value("add_bos_token", true);
  // chat_template is a string, or a list of {"name", "template"} of which "default" is used.
  std::string jinja;
  if (auto it = tok_config.find("chat_template"); it != tok_config.end()) {
    if (it->is_string()) jinja = it->get<std::string>();
    if (it->is_array())
      for (const auto& e : *it)
        if (e.is_object() && e.value("name", "") == "default") jinja = e.value("template", "");
  }
  text::ChatTemplate chat = text::DetectChatTemplate(jinja, config->architecture);
  LoadedModel m;
  m.config = *config;
  m.weights = std::move(weights).value();
  m.tokenizer = std::move(tokenizer).value();
  m.eos = std::move(eos);
  m.add_bos = add_bos;
  m.chat_template = chat;
  return m;
}

Status SaveModelDirectory(const std::string& dir, const ModelConfig& config, const LlamaWeights& weights,
                          const std::string& source_dir) {
  Env* env = Env::Default();
  LATHE_RETURN_IF_ERROR(env->CreateDirs(dir));
  const std::string& dt = config.torch_dtype;
  at::ScalarType type = dt == "bfloat16" ? at::kBFloat16 : dt == "float16" ? at::kHalf : at::kFloat;
  DType out_type = type == at::kBFloat16 ? DType::kBF16 : type == at::kHalf ? DType::kF16 : DType::kF32;
  std::vector<at::Tensor> keep;
  std::vector<TensorToWrite> tensors;
  for (auto& [name, t] : NamedFromWeights(config, weights)) {
    keep.push_back(t.detach().to(type).contiguous());
    const at::Tensor& c = keep.back();
    tensors.push_back({name, out_type, c.sizes().vec(),
                       std::string_view(static_cast<const char*>(c.data_ptr()), c.nbytes())});
  }
  auto bytes = SerializeSafetensors(tensors, {{"format", "pt"}});
  if (!bytes.ok()) return bytes.status();
  LATHE_RETURN_IF_ERROR(WriteFileAtomically(env, dir + "/model.safetensors", *bytes));
  LATHE_RETURN_IF_ERROR(WriteFileAtomically(env, dir + "/config.json", ModelConfigToJson(config).dump(2) + "\n"));
  std::error_code ec;
  if (fs::equivalent(source_dir, dir, ec)) return Status::Ok();
  for (const char* name : {"tokenizer.model", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
                           "generation_config.json"}) {
    const std::string src = source_dir + "/" + name;
    if (!fs::exists(src)) continue;
    std::string content;
    LATHE_RETURN_IF_ERROR(ReadFileToString(env, src, &content));
    LATHE_RETURN_IF_ERROR(WriteFileAtomically(env, dir + "/" + name, content));
  }
  return Status::Ok();
}

}  // namespace lathe::engine
