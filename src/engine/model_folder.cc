#include "engine/model_folder.h"

#include <algorithm>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "core/env.h"
#include "engine/safetensors.h"
#include "text/tokenizer.h"

namespace lathe::engine {
namespace {

using nlohmann::json;

// A message about a file of the folder names it relative to the folder.
Status Relative(const Status& s, const std::string& dir) {
  if (s.ok()) return s;
  std::string m = s.message();
  const std::string prefix = dir + "/";
  for (size_t at; (at = m.find(prefix)) != std::string::npos;) m.erase(at, prefix.size());
  // The same code, the message relative to the folder (Status keeps its constructor private).
  switch (s.code()) {
    case Status::Code::kNotFound: return Status::NotFound(m);
    case Status::Code::kCorruption: return Status::Corruption(m);
    case Status::Code::kUnsupported: return Status::Unsupported(m);
    case Status::Code::kIOError: return Status::IOError(m);
    default: return Status::InvalidArgument(m);
  }
}

// The folder's file `name` is within MaxFolderFileBytes(name): checked before anything reads it.
Status CheckFileSize(const std::string& dir, const std::string& name) {
  uint64_t size = 0;
  LATHE_RETURN_IF_ERROR(Relative(Env::Default()->GetFileSize(dir + "/" + name, &size), dir));
  if (size > MaxFolderFileBytes(name))
    return Status::InvalidArgument(name + " is " + std::to_string(size) + " bytes; at most " +
                                   std::to_string(MaxFolderFileBytes(name)) + " are read");
  return Status::Ok();
}

Status ReadSmallFile(const std::string& dir, const std::string& name, std::string* out) {
  LATHE_RETURN_IF_ERROR(CheckFileSize(dir, name));
  return Relative(ReadFileToString(Env::Default(), dir + "/" + name, out), dir);
}

bool PlainShardName(const std::string& n) {
  if (n.empty() || n.size() > kMaxShardNameLength || n[0] == '.' || !n.ends_with(".safetensors")) return false;
  return std::all_of(n.begin(), n.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
           c == '-';
  });
}

struct FoundTensor {
  std::vector<int64_t> shape;
  std::string file;
};

// Reads one safetensors header (ParseSafetensorsHeader checks that the data tiles the file: a
// truncated file is refused here) and records its tensors.
Status ReadShardHeader(const std::string& dir, const std::string& name, std::map<std::string, FoundTensor>* found,
                       std::set<std::string>* dtypes) {
  Env* env = Env::Default();
  const std::string path = dir + "/" + name;
  uint64_t size = 0;
  if (!env->FileExists(path)) return Status::NotFound(name + " is missing (model.safetensors.index.json names it)");
  LATHE_RETURN_IF_ERROR(Relative(env->GetFileSize(path, &size), dir));
  std::unique_ptr<RandomAccessFile> file;
  LATHE_RETURN_IF_ERROR(Relative(env->NewRandomAccessFile(path, &file), dir));
  SafetensorsHeader header;
  LATHE_RETURN_IF_ERROR(Relative(ReadSafetensorsHeader(*file, size, name, &header), dir));
  for (const TensorInfo& t : header.tensors) {
    if (t.dtype != DType::kF32 && t.dtype != DType::kF16 && t.dtype != DType::kBF16 && t.dtype != DType::kF64)
      return Status::Unsupported(name + ": tensor " + t.name + " has dtype " + DTypeName(t.dtype) +
                                 "; model weights must be F32, F16, BF16 or F64 (quantized weights are not supported)");
    dtypes->insert(t.dtype == DType::kBF16 ? "bfloat16" : t.dtype == DType::kF16 ? "float16" : "float32");
    auto [it, fresh] = found->emplace(t.name, FoundTensor{t.shape, name});
    if (!fresh) return Status::Corruption(name + ": tensor " + t.name + " is also in " + it->second.file);
  }
  return Status::Ok();
}

std::string ShapeText(const std::vector<int64_t>& shape) {
  std::string s;
  for (int64_t d : shape) s += (s.empty() ? "" : ", ") + std::to_string(d);
  return "[" + s + "]";
}

// Every tensor the config implies, with its shape; nothing it does not explain.
Status CheckTensors(const ModelConfig& config, const std::map<std::string, FoundTensor>& found) {
  std::string missing;
  std::set<std::string> expected;
  for (const auto& [name, shape] : ExpectedTensors(config)) {
    expected.insert(name);
    auto it = found.find(name);
    if (it == found.end()) {
      missing += (missing.empty() ? "" : ", ") + name;
      continue;
    }
    if (it->second.shape != shape)
      return Status::InvalidArgument(it->second.file + ": tensor " + name + " has shape " + ShapeText(it->second.shape) +
                                     " but config.json implies " + ShapeText(shape));
  }
  if (!missing.empty()) {
    if (missing.size() > 1000) missing = missing.substr(0, 1000) + "...";
    return Status::InvalidArgument("missing tensors for a " + config.architecture + ": " + missing);
  }
  std::string unexpected;
  for (const auto& [name, t] : found) {
    const bool harmless = (name.size() > 20 && name.ends_with("rotary_emb.inv_freq")) ||
                          (config.tie_word_embeddings && name == "lm_head.weight");
    if (!expected.count(name) && !harmless) unexpected += (unexpected.empty() ? "" : ", ") + name;
  }
  if (unexpected.size() > 1000) unexpected = unexpected.substr(0, 1000) + "...";
  if (!unexpected.empty())
    return Status::InvalidArgument("unexpected tensors for a " + config.architecture + ": " + unexpected);
  return Status::Ok();
}

}  // namespace

const std::vector<std::string>& ModelFolderFixedFiles() {
  static const std::vector<std::string> files = {
      "config.json",          "generation_config.json", "tokenizer.json",          "tokenizer.model",
      "tokenizer_config.json", "special_tokens_map.json", "model.safetensors.index.json", "model.safetensors"};
  return files;
}

uint64_t MaxFolderFileBytes(const std::string& name) {
  if (name == "config.json") return kMaxModelConfigBytes;
  if (name == "tokenizer.json") return kMaxTokenizerJsonBytes;
  if (name == "model.safetensors.index.json") return kMaxWeightIndexBytes;
  if (name.ends_with(".safetensors")) return UINT64_MAX;
  return kMaxSmallFileBytes;
}

Result<std::vector<std::string>> WeightShardNames(const std::string& index_text) {
  const std::string index = "model.safetensors.index.json";
  json j = json::parse(index_text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("weight_map") || !j["weight_map"].is_object())
    return Status::InvalidArgument(index + ": expected {\"weight_map\": {tensor: file}}");
  std::set<std::string> shards;
  for (const auto& item : j["weight_map"].items()) {
    if (!item.value().is_string()) return Status::InvalidArgument(index + ": weight_map values must be file names");
    const std::string shard = item.value().get<std::string>();
    if (!PlainShardName(shard))
      return Status::InvalidArgument(index + ": shard name \"" + shard.substr(0, 64) +
                                     "\" is not a plain *.safetensors file name ([A-Za-z0-9._-], at most " +
                                     std::to_string(kMaxShardNameLength) + " bytes)");
    shards.insert(shard);
    if (shards.size() > kMaxWeightShards)
      return Status::InvalidArgument(index + ": names more than " + std::to_string(kMaxWeightShards) + " shards");
  }
  if (shards.empty()) return Status::InvalidArgument(index + ": weight_map is empty");
  return std::vector<std::string>(shards.begin(), shards.end());
}

Result<ModelFolderFacts> CheckModelFolder(const std::string& dir) {
  Env* env = Env::Default();
  ModelFolderFacts facts;
  auto present = [&](const std::string& name) { return env->FileExists(dir + "/" + name); };
  if (!present("config.json")) return Status::NotFound("config.json is missing");
  std::string text;
  LATHE_RETURN_IF_ERROR(ReadSmallFile(dir, "config.json", &text));
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded()) return Status::InvalidArgument("config.json: invalid JSON");
  auto config = ParseModelConfig(j, "config.json");
  if (!config.ok()) return config.status();
  facts.config = *config;
  facts.parameters = config->ParameterCount();

  if (!present("tokenizer.json") && !present("tokenizer.model"))
    return Status::NotFound("no tokenizer: the folder needs tokenizer.json (Hugging Face) or tokenizer.model "
                            "(SentencePiece)");
  for (const char* file : {"tokenizer.json", "tokenizer.model"})  // the tokenizer reads its file whole
    if (present(file)) LATHE_RETURN_IF_ERROR(CheckFileSize(dir, file));
  auto tokenizer = text::LoadTokenizer(dir);
  if (!tokenizer.ok()) return Relative(tokenizer.status(), dir);
  if ((*tokenizer)->vocab_size() > config->vocab_size)
    return Status::InvalidArgument("the tokenizer has " + std::to_string((*tokenizer)->vocab_size()) +
                                   " tokens but config.json's vocab_size is " + std::to_string(config->vocab_size));
  for (const char* small : {"generation_config.json", "tokenizer_config.json", "special_tokens_map.json"}) {
    if (!present(small)) continue;
    std::string content;
    LATHE_RETURN_IF_ERROR(ReadSmallFile(dir, small, &content));
    json parsed = json::parse(content, nullptr, false);
    if (parsed.is_discarded() || !parsed.is_object())
      return Status::InvalidArgument(std::string(small) + ": not a JSON object");
    if (std::string(small) == "tokenizer_config.json") facts.chat_template = parsed.contains("chat_template");
  }

  std::vector<std::string> shards;
  if (present("model.safetensors")) {
    shards = {"model.safetensors"};
  } else if (present("model.safetensors.index.json")) {
    LATHE_RETURN_IF_ERROR(ReadSmallFile(dir, "model.safetensors.index.json", &text));
    auto names = WeightShardNames(text);
    if (!names.ok()) return names.status();
    shards = std::move(*names);
  } else {
    return Status::NotFound("no weights: the folder needs model.safetensors or model.safetensors.index.json "
                            "with its shards (*.bin and *.pt weights are not read)");
  }
  std::map<std::string, FoundTensor> found;
  std::set<std::string> dtypes;
  for (const auto& shard : shards) LATHE_RETURN_IF_ERROR(ReadShardHeader(dir, shard, &found, &dtypes));
  LATHE_RETURN_IF_ERROR(CheckTensors(*config, found));
  facts.dtype = dtypes.count("float32") ? "float32" : dtypes.count("bfloat16") ? "bfloat16" : "float16";

  for (const auto& name : ModelFolderFixedFiles())
    if (name != "model.safetensors" && present(name)) facts.files.push_back(name);
  for (const auto& shard : shards) facts.files.push_back(shard);
  for (const auto& name : facts.files) {
    uint64_t size = 0;
    if (env->GetFileSize(dir + "/" + name, &size).ok()) facts.bytes += size;
  }
  return facts;
}

}  // namespace lathe::engine
