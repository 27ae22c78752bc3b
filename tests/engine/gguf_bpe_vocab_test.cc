// GGUF's byte-level BPE ("gpt2") vocabularies: the real Llama 3 and Qwen 3 tokenizer.json files go
// to GGUF's tokens/types/merges/pre and back to a tokenizer.json that encodes the reference texts
// (../shared/tokenizers/*/vectors.jsonl, ids from Hugging Face and llama.cpp) to the same ids; a
// model with Llama 3's vocabulary survives `export-gguf` and `import` with the same logits and
// tokens; what lathe cannot carry is refused naming it.
#include "engine/gguf_bpe_vocab.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "engine/gguf_convert.h"
#include "engine/language_model.h"
#include "test_util.h"
#include "text/hf_tokenizer.h"
#include "tiny_model.h"

namespace lathe::engine {
namespace {

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Every id the tokenizer.json uses, plus one: the embedding a model with it would have.
int64_t IdsIn(const std::string& json_text) {
  const auto j = nlohmann::json::parse(json_text);
  int64_t n = 0;
  for (const auto& [token, id] : j["model"]["vocab"].items()) n = std::max<int64_t>(n, id.get<int64_t>() + 1);
  for (const auto& t : j["added_tokens"]) n = std::max<int64_t>(n, t["id"].get<int64_t>() + 1);
  return n;
}

// The reference encodings of vectors.jsonl, through the tokenizer.json at `path`.
void ExpectReferenceIds(const std::string& path, const std::string& vectors) {
  auto tok = text::LoadHfTokenizerJson(path);
  ASSERT_TRUE(tok.ok()) << tok.status().ToString();
  std::ifstream in(vectors);
  std::string line;
  int checked = 0;
  while (std::getline(in, line)) {
    const auto v = nlohmann::json::parse(line);
    std::vector<int> ids;
    ASSERT_TRUE((*tok)->Encode(v["text"].get<std::string>(), &ids).ok()) << v["text"];
    EXPECT_EQ(ids, v["ids"].get<std::vector<int>>()) << v["text"];
    ++checked;
  }
  EXPECT_GE(checked, 50);
}

TEST(GgufBpeVocab, Llama3AndQwen3TokenizersSurviveTheRoundTrip) {
  LATHE_REQUIRE_SHARED("tokenizers/llama3");
  for (auto [name, pre, nfc] : {std::tuple{"llama3", "llama-bpe", false}, std::tuple{"qwen3", "qwen2", true}}) {
    SCOPED_TRACE(name);
    const std::string src = testing::SharedDir() + "/tokenizers/" + name;
    const std::string json = Slurp(src + "/tokenizer.json");
    const int64_t n = IdsIn(json);
    auto vocab = BpeVocabFromTokenizerJson(json, n + 3, "tokenizer.json");  // 3 ids of padding
    ASSERT_TRUE(vocab.ok()) << vocab.status().ToString();
    EXPECT_EQ(vocab->pre, pre);
    ASSERT_EQ(vocab->tokens.size(), static_cast<size_t>(n + 3));
    EXPECT_EQ(vocab->tokens[n], "[PAD" + std::to_string(n) + "]");
    EXPECT_EQ(vocab->types[n], static_cast<int32_t>(GgufTokenType::kUnused));
    // The first added token (<|begin_of_text|>, <|endoftext|>) is special: a control token.
    const int64_t first_added = nlohmann::json::parse(json)["added_tokens"][0]["id"].get<int64_t>();
    EXPECT_EQ(vocab->types[first_added], static_cast<int32_t>(GgufTokenType::kControl));
    EXPECT_EQ(vocab->types[0], static_cast<int32_t>(GgufTokenType::kNormal));
    auto files = HfTokenizerFromBpeVocab(*vocab, -1, n - 1, "t.gguf");
    ASSERT_TRUE(files.ok()) << files.status().ToString();
    EXPECT_EQ(nlohmann::json::parse(files->tokenizer_json)["normalizer"].is_null(), !nfc);
    testing::TempDir dir;
    dir.Write("tokenizer.json", files->tokenizer_json);
    dir.Write("tokenizer_config.json", files->tokenizer_config_json);
    ExpectReferenceIds(dir.File("tokenizer.json"), src + "/vectors.jsonl");
  }
}

TEST(GgufBpeVocab, AModelWithLlama3sVocabularySurvivesExportAndImport) {
  LATHE_REQUIRE_SHARED("tokenizers/llama3");
  const std::string src = testing::SharedDir() + "/tokenizers/llama3";
  ModelConfig c;
  c.architecture = "LlamaForCausalLM";
  c.vocab_size = IdsIn(Slurp(src + "/tokenizer.json"));
  c.hidden_size = 16;
  c.intermediate_size = 32;
  c.num_layers = 1;
  c.num_heads = 2;
  c.num_kv_heads = 1;
  c.head_dim = 8;
  c.max_position_embeddings = 64;
  c.bos_token_id = 128000;
  c.eos_token_ids = {128001};
  testing::TempDir dir;
  const std::string hf = dir.File("hf");
  testing::WriteModelDir(hf, c, testing::RandomWeights(c, 7), testing::SharedDir() + "/tokenizers/llama2/tokenizer.model");
  std::filesystem::remove(hf + "/tokenizer.model");
  std::filesystem::copy_file(src + "/tokenizer.json", hf + "/tokenizer.json");
  std::filesystem::copy_file(src + "/tokenizer_config.json", hf + "/tokenizer_config.json");
  auto exported = ExportGguf(hf, dir.File("m.gguf"), GgmlType::kF32);
  ASSERT_TRUE(exported.ok()) << exported.status().ToString();
  auto imported = ImportGguf(dir.File("m.gguf"), dir.File("back"));
  ASSERT_TRUE(imported.ok()) << imported.status().ToString();
  EXPECT_EQ(imported->config.bos_token_id, 128000);
  EXPECT_FALSE(std::filesystem::exists(dir.File("back/tokenizer.model")));
  ExpectReferenceIds(dir.File("back/tokenizer.json"), src + "/vectors.jsonl");

  auto before = LanguageModel::Load(hf);
  auto after = LanguageModel::Load(dir.File("back"));
  ASSERT_TRUE(before.ok()) << before.status().ToString();
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  const std::string text = "Äpfel and 3.14159 <|end_of_text|> cost 12,500 yen";
  auto a = (*before)->EncodePrompt(text, {});
  auto b = (*after)->EncodePrompt(text, {});
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(*a, *b);
  auto la = (*before)->Logits(*a);
  auto lb = (*after)->Logits(*b);
  ASSERT_TRUE(la.ok() && lb.ok());
  ASSERT_EQ(la->size(), lb->size());
  for (size_t i = 0; i < la->size(); ++i) ASSERT_NEAR((*la)[i], (*lb)[i], 1e-5) << i;
}

TEST(GgufBpeVocab, RefusesWhatItCannotCarryNamingIt) {
  // A pre-tokenizer lathe has no regex for.
  const std::string metaspace = R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []},
      "pre_tokenizer": {"type": "Metaspace"}})";
  auto r = BpeVocabFromTokenizerJson(metaspace, 1, "tokenizer.json");
  EXPECT_EQ(r.status().code(), Status::Code::kUnsupported);
  EXPECT_NE(r.status().message().find("llama-bpe"), std::string::npos) << "names what it knows";
  // Wrong types never throw; ids outside the embedding are named.
  const std::string bad_id = R"({"model": {"type": "BPE", "vocab": {"a": 7}, "merges": [], "ignore_merges": "yes"},
      "pre_tokenizer": {"type": "ByteLevel", "use_regex": true}})";
  r = BpeVocabFromTokenizerJson(bad_id, 4, "tokenizer.json");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("id 7"), std::string::npos) << r.status().ToString();
  r = BpeVocabFromTokenizerJson(std::string(100, '[') + std::string(100, ']'), 4, "tokenizer.json");
  EXPECT_FALSE(r.ok());
  r = BpeVocabFromTokenizerJson("not json", 4, "tokenizer.json");
  EXPECT_FALSE(r.ok());
  // A GGUF vocabulary naming a pre-tokenizer lathe does not know.
  GgufFile g;
  g.metadata["tokenizer.ggml.tokens"] = GgufValue::StringArray({"a", "b"});
  g.metadata["tokenizer.ggml.merges"] = GgufValue::StringArray({"a b"});
  g.metadata["tokenizer.ggml.pre"] = GgufValue::String("deepseek-coder");
  auto v = BpeVocabFromGguf(g, "x.gguf");
  EXPECT_EQ(v.status().code(), Status::Code::kUnsupported);
  EXPECT_NE(v.status().message().find("deepseek-coder"), std::string::npos);
  g.metadata["tokenizer.ggml.pre"] = GgufValue::String("gpt-2");
  g.metadata["tokenizer.ggml.token_type"] = GgufValue::NumberArray(GgufType::kI32, {1, 6});
  v = BpeVocabFromGguf(g, "x.gguf");
  EXPECT_FALSE(v.ok()) << "byte tokens belong to SentencePiece vocabularies";
}

}  // namespace
}  // namespace lathe::engine
