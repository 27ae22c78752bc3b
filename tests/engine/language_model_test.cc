// The engine on real and tiny models: golden greedy tokens of stories260K (llama2.c's run.c),
// logits against an independent plain-loop reference (GQA, llama3 RoPE scaling, Qwen2 biases,
// tied and untied heads, bf16 weights), batching, sampling, stop sequences, save/load.
#include "engine/language_model.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "engine/llama2c_import.h"
#include "test_util.h"
#include "tiny_model.h"

namespace lathe::engine {
namespace {

using lathe::testing::SharedDir;
using lathe::testing::TempDir;

std::string StoriesDir() { return SharedDir() + "/models/stories260K"; }

// Imports stories260K once per test into a temp dir and loads it.
std::unique_ptr<LanguageModel> LoadStories(const TempDir& tmp) {
  auto r = ImportLlama2c(StoriesDir() + "/stories260K.bin", StoriesDir() + "/tok512.model", tmp.File("stories"));
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  auto m = LanguageModel::Load(tmp.File("stories"));
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  return m.ok() ? std::move(m).value() : nullptr;
}

// golden_greedy.txt: "prompt_ids (...): 1 403 ..." and "next_ids (N): ..." per case.
struct GoldenCase {
  std::vector<int> prompt, next;
};
std::vector<GoldenCase> ReadGolden() {
  std::ifstream in(StoriesDir() + "/golden_greedy.txt");
  std::vector<GoldenCase> cases;
  for (std::string line; std::getline(in, line);) {
    auto ints = [&] {
      std::vector<int> v;
      std::istringstream ss(line.substr(line.find(':') + 1));
      for (int x; ss >> x;) v.push_back(x);
      return v;
    };
    if (line.rfind("prompt_ids", 0) == 0) cases.push_back({ints(), {}});
    if (line.rfind("next_ids", 0) == 0) cases.back().next = ints();
  }
  return cases;
}

TEST(Stories260K, GreedyDecodingReproducesBothGoldenCases) {
  LATHE_REQUIRE_SHARED("models/stories260K");
  TempDir tmp;
  auto model = LoadStories(tmp);
  ASSERT_NE(model, nullptr);
  auto cases = ReadGolden();
  ASSERT_EQ(cases.size(), 2u);
  for (const auto& c : cases) {
    // run.c forces the prompt tokens first: next_ids[0 .. prompt-2] are the prompt itself.
    const size_t forced = c.prompt.size() - 1;
    std::vector<int> expected(c.next.begin() + static_cast<long>(forced), c.next.end());
    GenerationOptions opt;
    opt.max_tokens = static_cast<int>(expected.size());
    auto r = model->GenerateTokens({c.prompt}, opt);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ((*r)[0].tokens, expected);
    EXPECT_EQ((*r)[0].reason, StopReason::kLength);
  }
}

TEST(Stories260K, TextPromptsBatchedWithDifferentLengthsMatchSingleRuns) {
  LATHE_REQUIRE_SHARED("models/stories260K");
  TempDir tmp;
  auto model = LoadStories(tmp);
  ASSERT_NE(model, nullptr);
  const std::vector<std::string> prompts = {"Once upon a time", "The cat", "Lily and Ben went to the park to play"};
  GenerationOptions opt;
  opt.max_tokens = 24;
  auto batch = model->Generate(prompts, opt);
  ASSERT_TRUE(batch.ok()) << batch.status().ToString();
  for (size_t i = 0; i < prompts.size(); ++i) {
    auto single = model->Generate({prompts[i]}, opt);
    ASSERT_TRUE(single.ok());
    EXPECT_EQ((*batch)[i].tokens, (*single)[0].tokens) << prompts[i];
    EXPECT_EQ((*batch)[i].text, (*single)[0].text);
    EXPECT_FALSE((*batch)[i].text.empty());
  }
  // The first golden continuation, as text.
  auto once = model->Generate({"Once upon a time"}, opt);
  ASSERT_TRUE(once.ok()) << once.status().ToString();
  EXPECT_EQ((*once)[0].text.rfind(", there was a little girl named Lily.", 0), 0u) << (*once)[0].text;
}

TEST(Stories260K, SamplingIsReproducibleForASeed) {
  LATHE_REQUIRE_SHARED("models/stories260K");
  TempDir tmp;
  auto model = LoadStories(tmp);
  ASSERT_NE(model, nullptr);
  GenerationOptions opt;
  opt.max_tokens = 40;
  opt.temperature = 1.0f;
  opt.top_p = 0.9f;
  opt.seed = 1234;
  auto a = model->Generate({"One day"}, opt), b = model->Generate({"One day"}, opt);
  opt.seed = 99;
  auto c = model->Generate({"One day"}, opt);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ((*a)[0].tokens, (*b)[0].tokens);
  EXPECT_NE((*a)[0].tokens, (*c)[0].tokens);
}

// With a seed per prompt, a prompt samples the same tokens alone or anywhere in a batch; a
// wrong number of seeds is refused.
TEST(Stories260K, PerPromptSeedsMakeASampleIndependentOfItsBatch) {
  LATHE_REQUIRE_SHARED("models/stories260K");
  TempDir tmp;
  auto model = LoadStories(tmp);
  ASSERT_NE(model, nullptr);
  GenerationOptions opt;
  opt.max_tokens = 24;
  opt.temperature = 1.0f;
  opt.seeds = {7, 8, 7};
  auto batch = model->Generate({"One day", "The cat", "One day"}, opt);
  ASSERT_TRUE(batch.ok()) << batch.status().ToString();
  opt.seeds = {8};
  auto alone = model->Generate({"The cat"}, opt);
  ASSERT_TRUE(alone.ok());
  EXPECT_EQ((*batch)[1].tokens, (*alone)[0].tokens);
  EXPECT_EQ((*batch)[0].tokens, (*batch)[2].tokens);  // same prompt, same seed
  opt.seeds = {7, 8};
  EXPECT_FALSE(model->Generate({"One day"}, opt).ok());
}

TEST(Stories260K, StopSequenceOnTextAndStreamingPieces) {
  LATHE_REQUIRE_SHARED("models/stories260K");
  TempDir tmp;
  auto model = LoadStories(tmp);
  ASSERT_NE(model, nullptr);
  GenerationOptions opt;
  opt.max_tokens = 60;
  opt.stop_sequences = {"Lily."};  // spans several tokens of the golden text
  std::string streamed;
  auto r = model->Generate({"Once upon a time"}, opt, [&](size_t i, std::string_view piece) {
    EXPECT_EQ(i, 0u);
    streamed += piece;
    return true;
  });
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[0].reason, StopReason::kStopSequence);
  EXPECT_EQ((*r)[0].text, ", there was a little girl named ");
  EXPECT_EQ(streamed, (*r)[0].text);
  // Cancelling from the callback stops that sequence.
  int calls = 0;
  opt.stop_sequences.clear();
  auto cancelled = model->Generate({"Once upon a time"}, opt, [&](size_t, std::string_view) { return ++calls < 3; });
  EXPECT_EQ((*cancelled)[0].reason, StopReason::kCancelled);
  EXPECT_LT((*cancelled)[0].tokens.size(), 60u);
}

TEST(Stories260K, SaveThenLoadGivesIdenticalLogits) {
  LATHE_REQUIRE_SHARED("models/stories260K");
  TempDir tmp;
  auto model = LoadStories(tmp);
  ASSERT_NE(model, nullptr);
  ASSERT_TRUE(model->Save(tmp.File("saved")).ok());
  auto again = LanguageModel::Load(tmp.File("saved"));
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  std::vector<int> ids = {1, 403, 407, 261, 378, 432};
  auto a = model->Logits(ids), b = (*again)->Logits(ids);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(*a, *b);
}

ModelConfig TinyConfig(const std::string& arch) {
  ModelConfig c;
  c.architecture = arch;
  c.vocab_size = 512;  // tok512.model's vocabulary
  c.hidden_size = 32;
  c.intermediate_size = 48;
  c.num_layers = 2;
  c.num_heads = 4;
  c.num_kv_heads = 2;
  c.head_dim = 8;
  c.max_position_embeddings = 64;
  c.rope_theta = 500.0;
  c.bos_token_id = 1;
  c.eos_token_ids = {2};
  return c;
}

void ExpectMatchesReference(const ModelConfig& c, bool bf16) {
  TempDir tmp;
  auto w = lathe::testing::RandomWeights(c, 42);
  if (bf16)  // the reference sees the same rounded weights the model loads
    for (auto& [name, v] : w)
      for (float& x : v) {
        uint32_t u;
        std::memcpy(&u, &x, 4);
        u = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16) << 16;
        std::memcpy(&x, &u, 4);
      }
  lathe::testing::WriteModelDir(tmp.File("m"), c, w, StoriesDir() + "/tok512.model", bf16);
  auto model = LanguageModel::Load(tmp.File("m"));
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  const std::vector<int> ids = {1, 5, 300, 42, 7, 511, 260, 3, 9, 100};
  auto logits = (*model)->Logits(ids);
  ASSERT_TRUE(logits.ok());
  auto ref = lathe::testing::ReferenceLogits(c, w, ids);
  double worst = 0;
  for (size_t t = 0; t < ids.size(); ++t)
    for (int64_t v = 0; v < c.vocab_size; ++v)
      worst = std::max(worst, std::abs(static_cast<double>((*logits)[t * static_cast<size_t>(c.vocab_size) + static_cast<size_t>(v)]) -
                                       ref[t][static_cast<size_t>(v)]));
  EXPECT_LT(worst, 2e-4) << c.architecture;
  if (bf16) {  // saved back in the dtype it came in
    ASSERT_TRUE((*model)->Save(tmp.File("saved")).ok());
    EXPECT_LT(std::filesystem::file_size(tmp.File("saved/model.safetensors")),
              std::filesystem::file_size(tmp.File("m/model.safetensors")) + 64);
  }
}

TEST(TinyModels, LlamaWithGqaAndLlama3RopeScalingMatchesReference) {
  LATHE_REQUIRE_SHARED("models/stories260K/tok512.model");
  ModelConfig c = TinyConfig("LlamaForCausalLM");
  c.rope_scaling = {"llama3", 8.0, 1.0, 4.0, 16};  // short original context so scaling matters
  ExpectMatchesReference(c, false);
}

TEST(TinyModels, Qwen2WithBiasesAndTiedEmbeddingsMatchesReference) {
  LATHE_REQUIRE_SHARED("models/stories260K/tok512.model");
  ModelConfig c = TinyConfig("Qwen2ForCausalLM");
  c.attention_bias = true;
  c.tie_word_embeddings = true;
  ExpectMatchesReference(c, false);
}

TEST(TinyModels, MistralInBf16MatchesReferenceAndSavesBackAsBf16) {
  LATHE_REQUIRE_SHARED("models/stories260K/tok512.model");
  ExpectMatchesReference(TinyConfig("MistralForCausalLM"), true);
}

TEST(Loading, ShardedCheckpointWithIndexGivesTheSameLogits) {
  LATHE_REQUIRE_SHARED("models/stories260K/tok512.model");
  TempDir tmp;
  ModelConfig c = TinyConfig("LlamaForCausalLM");
  auto w = lathe::testing::RandomWeights(c, 3);
  const std::string tok = StoriesDir() + "/tok512.model";
  lathe::testing::WriteModelDir(tmp.File("single"), c, w, tok);
  // The same tensors split over two shard files, as Hugging Face writes large models.
  lathe::testing::Weights first, second;
  for (const auto& [name, v] : w) (name.find("layers.1.") == std::string::npos ? first : second)[name] = v;
  lathe::testing::WriteModelDir(tmp.File("a"), c, first, tok);
  lathe::testing::WriteModelDir(tmp.File("b"), c, second, tok);
  std::filesystem::create_directories(tmp.File("sharded"));
  std::filesystem::copy_file(tmp.File("single/config.json"), tmp.File("sharded/config.json"));
  std::filesystem::copy_file(tok, tmp.File("sharded/tokenizer.model"));
  std::filesystem::copy_file(tmp.File("a/model.safetensors"), tmp.File("sharded/model-00001-of-00002.safetensors"));
  std::filesystem::copy_file(tmp.File("b/model.safetensors"), tmp.File("sharded/model-00002-of-00002.safetensors"));
  nlohmann::json index = {{"metadata", {{"total_size", 0}}}, {"weight_map", nlohmann::json::object()}};
  for (const auto& [name, v] : first) index["weight_map"][name] = "model-00001-of-00002.safetensors";
  for (const auto& [name, v] : second) index["weight_map"][name] = "model-00002-of-00002.safetensors";
  std::ofstream(tmp.File("sharded/model.safetensors.index.json")) << index.dump();
  auto a = LanguageModel::Load(tmp.File("single"));
  auto b = LanguageModel::Load(tmp.File("sharded"));
  ASSERT_TRUE(a.ok() && b.ok()) << b.status().ToString();
  const std::vector<int> ids = {1, 20, 30, 40};
  EXPECT_EQ(*(*a)->Logits(ids), *(*b)->Logits(ids));
  // An index that names a tensor its shard lacks is refused.
  index["weight_map"]["model.norm.weight"] = "model-00002-of-00002.safetensors";
  std::ofstream(tmp.File("sharded/model.safetensors.index.json")) << index.dump();
  auto bad = LanguageModel::Load(tmp.File("sharded"));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("model.norm.weight is not in model-00002-of-00002.safetensors"), std::string::npos)
      << bad.status().message();
}

TEST(Loading, NamesWhatIsWrong) {
  LATHE_REQUIRE_SHARED("models/stories260K/tok512.model");
  TempDir tmp;
  ModelConfig c = TinyConfig("LlamaForCausalLM");
  auto w = lathe::testing::RandomWeights(c, 1);
  const std::string tok = StoriesDir() + "/tok512.model";

  auto missing = w;
  missing.erase("model.layers.1.mlp.up_proj.weight");
  lathe::testing::WriteModelDir(tmp.File("missing"), c, missing, tok);
  auto r = LanguageModel::Load(tmp.File("missing"));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("missing tensors: model.layers.1.mlp.up_proj.weight"), std::string::npos)
      << r.status().message();

  auto extra = w;
  extra["model.layers.0.self_attn.q_proj.bias"] = std::vector<float>(32, 0.0f);
  lathe::testing::WriteModelDir(tmp.File("extra"), c, extra, tok);
  r = LanguageModel::Load(tmp.File("extra"));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("unexpected tensors"), std::string::npos) << r.status().message();

  ModelConfig wider = c;
  wider.intermediate_size = 64;
  lathe::testing::WriteModelDir(tmp.File("shape"), c, w, tok);
  std::ofstream(tmp.File("shape/config.json")) << ModelConfigToJson(wider).dump();
  r = LanguageModel::Load(tmp.File("shape"));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("has shape [48, 32] but config.json implies [64, 32]"), std::string::npos)
      << r.status().message();

  lathe::testing::WriteModelDir(tmp.File("trunc"), c, w, tok);
  std::filesystem::resize_file(tmp.File("trunc/model.safetensors"),
                               std::filesystem::file_size(tmp.File("trunc/model.safetensors")) - 10);
  r = LanguageModel::Load(tmp.File("trunc"));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("model.safetensors"), std::string::npos) << r.status().message();

  r = LanguageModel::Load(tmp.File("nowhere"));
  EXPECT_EQ(r.status().code(), Status::Code::kNotFound);
}

TEST(Llama2cImport, RejectsTruncatedAndForeignFiles) {
  LATHE_REQUIRE_SHARED("models/stories260K");
  TempDir tmp;
  std::string bin = lathe::testing::ReadFile(StoriesDir() + "/stories260K.bin");
  std::string cut = tmp.Write("cut.bin", bin.substr(0, bin.size() - 100));
  auto r = ImportLlama2c(cut, StoriesDir() + "/tok512.model", tmp.File("out"));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("truncated"), std::string::npos) << r.status().message();
  std::string junk = tmp.Write("junk.bin", std::string(100, '\x7f'));
  r = ImportLlama2c(junk, StoriesDir() + "/tok512.model", tmp.File("out"));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("implausible header"), std::string::npos) << r.status().message();
}

}  // namespace
}  // namespace lathe::engine
