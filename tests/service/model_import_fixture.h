// Custom Model Import tests: a BedrockService on a temporary data directory (its job runner not
// started, so a customization job stays InProgress), and small random-weight Hugging Face folders
// written here without torch (Llama or Qwen2, F32/BF16, one file or sharded), with a handmade
// tokenizer.json.
#pragma once

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "core/random.h"
#include "engine/model_config.h"
#include "engine/safetensors.h"
#include "service/bedrock_service.h"
#include "test_util.h"

namespace lathe::service {

struct TinyFolder {
  std::string architecture = "LlamaForCausalLM";
  bool bf16 = false;
  bool sharded = false;     // model.safetensors.index.json + two shards
  bool tokenizer = true;    // tokenizer.json
  bool chat_template = false;
};

inline engine::ModelConfig TinyConfig(const std::string& architecture) {
  engine::ModelConfig c;
  c.architecture = architecture;
  c.vocab_size = 100;
  c.hidden_size = 16;
  c.intermediate_size = 32;
  c.num_layers = 2;
  c.num_heads = 4;
  c.num_kv_heads = 2;
  c.head_dim = 4;
  c.max_position_embeddings = 64;
  c.attention_bias = architecture == "Qwen2ForCausalLM";
  c.tie_word_embeddings = architecture == "Qwen2ForCausalLM";
  c.eos_token_ids = {1};
  c.bos_token_id = 0;
  return c;
}

// A BPE tokenizer.json of 100 tokens: two specials, printable ASCII, "\n", "th" and "e." (chat
// templates' text encodes too).
inline std::string TinyTokenizerJson() {
  nlohmann::json vocab = {{"<s>", 0}, {"</s>", 1}};
  int id = 2;
  for (char c = 0x20; c < 0x7f; ++c) vocab[std::string(1, c)] = id++;
  vocab["\n"] = id++;
  vocab["th"] = id++;
  vocab["e."] = id++;
  return nlohmann::json{{"version", "1.0"},
                        {"added_tokens", {{{"id", 0}, {"content", "<s>"}, {"special", true}},
                                          {{"id", 1}, {"content", "</s>"}, {"special", true}}}},
                        {"normalizer", nullptr},
                        {"pre_tokenizer", nullptr},
                        {"decoder", nullptr},
                        {"model", {{"type", "BPE"}, {"vocab", vocab}, {"merges", {"t h", "e ."}}}}}
      .dump();
}

inline void WriteBytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

inline uint16_t ToBf16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return static_cast<uint16_t>((u + 0x7FFF + ((u >> 16) & 1)) >> 16);
}

// Writes a folder whose tensors are what config.json implies (engine::ExpectedTensors), with
// deterministic small random values.
inline void WriteTinyFolder(const std::string& dir, const TinyFolder& f, uint64_t seed = 1) {
  std::filesystem::create_directories(dir);
  const engine::ModelConfig c = TinyConfig(f.architecture);
  Rng rng(seed);
  std::vector<std::string> storage;
  std::vector<engine::TensorToWrite> tensors;
  const auto expected = engine::ExpectedTensors(c);
  storage.reserve(expected.size());
  for (const auto& [name, shape] : expected) {
    size_t n = 1;
    for (int64_t d : shape) n *= static_cast<size_t>(d);
    std::string bytes;
    for (size_t i = 0; i < n; ++i) {
      float v = name.ends_with("norm.weight") ? 1.0f : static_cast<float>(rng.Uniform() - 0.5) * 0.2f;
      if (f.bf16) {
        uint16_t h = ToBf16(v);
        bytes.append(reinterpret_cast<const char*>(&h), 2);
      } else {
        bytes.append(reinterpret_cast<const char*>(&v), 4);
      }
    }
    storage.push_back(std::move(bytes));
    tensors.push_back({name, f.bf16 ? engine::DType::kBF16 : engine::DType::kF32, shape, storage.back()});
  }
  auto write = [&](const std::string& name, const std::vector<engine::TensorToWrite>& part) {
    auto bytes = engine::SerializeSafetensors(part, {{"format", "pt"}});
    ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
    WriteBytes(dir + "/" + name, *bytes);
  };
  if (f.sharded) {
    const size_t half = tensors.size() / 2;
    std::vector<engine::TensorToWrite> a(tensors.begin(), tensors.begin() + static_cast<long>(half));
    std::vector<engine::TensorToWrite> b(tensors.begin() + static_cast<long>(half), tensors.end());
    write("model-00001-of-00002.safetensors", a);
    write("model-00002-of-00002.safetensors", b);
    nlohmann::json map = nlohmann::json::object();
    for (const auto& t : a) map[t.name] = "model-00001-of-00002.safetensors";
    for (const auto& t : b) map[t.name] = "model-00002-of-00002.safetensors";
    WriteBytes(dir + "/model.safetensors.index.json",
                                     nlohmann::json{{"metadata", nlohmann::json::object()}, {"weight_map", map}}.dump());
  } else {
    write("model.safetensors", tensors);
  }
  nlohmann::json config = engine::ModelConfigToJson(c);
  config["torch_dtype"] = f.bf16 ? "bfloat16" : "float32";
  WriteBytes(dir + "/config.json", config.dump(2));
  if (f.tokenizer) WriteBytes(dir + "/tokenizer.json", TinyTokenizerJson());
  nlohmann::json tok_config = {{"add_bos_token", true}};
  if (f.chat_template) tok_config["chat_template"] = "{% for m in messages %}{{ m['content'] }}{% endfor %}";
  WriteBytes(dir + "/tokenizer_config.json", tok_config.dump());
  WriteBytes(dir + "/generation_config.json", R"({"eos_token_id": 1})");
}

class ModelImportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_.data_dir = tmp_.File("data");
    config_.file_roots = {tmp_.File("files")};
    config_.worker_binary = LATHE_BINARY;
    config_.model_aliases = DefaultModelAliases();  // as lathe serve has them
    std::filesystem::create_directories(tmp_.File("files"));
    Reopen();
  }

  // (Re)opens the service on config_ (it keeps its own copy of the config).
  void Reopen() {
    svc_.reset();
    auto opened = BedrockService::Open(config_, /*start=*/false);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    svc_ = std::move(*opened);
    svc_->import_jobs().Start();  // only the import runner: customization jobs stay InProgress
  }

  std::string Files(const std::string& name) const { return tmp_.File("files/" + name); }

  nlohmann::json ImportRequestFor(const std::string& job, const std::string& model, const std::string& uri) const {
    return {{"jobName", job},
            {"importedModelName", model},
            {"roleArn", "arn:aws:iam::123456789012:role/ImportRole"},
            {"modelDataSource", {{"s3DataSource", {{"s3Uri", uri}}}}}};
  }

  // Creates the job and waits for its end; returns GetModelImportJob's answer.
  nlohmann::json ImportAndWait(const std::string& job, const std::string& model, const std::string& uri) {
    auto created = svc_->import_jobs().Create(ImportRequestFor(job, model, uri), "us-east-1");
    EXPECT_TRUE(created.ok()) << created.status().ToString();
    if (!created.ok()) return {};
    nlohmann::json got;
    EXPECT_TRUE(lathe::testing::Eventually([&] {
      auto r = svc_->import_jobs().Get((*created)["jobArn"].get<std::string>());
      if (r.ok()) got = *r;
      return r.ok() && got.value("status", "") != "InProgress";
    }));
    return got;
  }

  lathe::testing::TempDir tmp_;
  ServiceConfig config_;
  std::unique_ptr<BedrockService> svc_;
};

}  // namespace lathe::service
