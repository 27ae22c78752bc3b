// Hugging Face tokenizer.json / GPT-2 BPE: conformance against the reference encodings in
// ../shared/tokenizers (every line of every family), and handmade tokenizers for each rule.
#include "text/hf_tokenizer.h"

#include <gtest/gtest.h>
#include <unicode/normalizer2.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>

#include "test_util.h"
#include "text/bpe_model.h"
#include "text/tokenizer.h"

namespace lathe::text {
namespace {

using nlohmann::json;
using testing::SharedDir;
using testing::TempDir;

struct Vector {
  std::string text;
  std::vector<int> ids;
};

std::vector<Vector> ReadVectors(const std::string& path) {
  std::vector<Vector> out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    json j = json::parse(line);
    out.push_back({j["text"].get<std::string>(), j["ids"].get<std::vector<int>>()});
  }
  return out;
}

std::string Nfc(const std::string& s) {
  UErrorCode err = U_ZERO_ERROR;
  std::string out;
  icu::StringByteSink<std::string> sink(&out);
  icu::Normalizer2::getNFCInstance(err)->normalizeUTF8(0, s, sink, nullptr, err);
  EXPECT_TRUE(U_SUCCESS(err));
  return out;
}

enum class RoundTrip { kNone, kExact, kNfc };

// Encodes every line; expects identical ids, and that Decode gives the text
// back exactly, or its NFC form for a tokenizer that normalizes to NFC (Qwen: decomposed input
// cannot come back decomposed, as with Hugging Face's own decode).
void CheckFamily(const std::string& family, const std::string& tokenizer_path, RoundTrip round_trip) {
  std::string dir = SharedDir() + "/tokenizers/" + family;
  auto tok = LoadTokenizer(tokenizer_path.empty() ? dir : dir + "/" + tokenizer_path);
  ASSERT_TRUE(tok.ok()) << tok.status().ToString();
  auto vectors = ReadVectors(dir + "/vectors.jsonl");
  ASSERT_EQ(vectors.size(), 70u);
  int matched = 0, decoded = 0;
  for (size_t i = 0; i < vectors.size(); ++i) {
    std::vector<int> ids;
    Status st = (*tok)->Encode(vectors[i].text, &ids);
    EXPECT_TRUE(st.ok()) << "line " << i + 1 << ": " << st.ToString();
    EXPECT_EQ(ids, vectors[i].ids) << family << " line " << i + 1 << ": " << vectors[i].text;
    if (ids == vectors[i].ids) ++matched;
    EXPECT_EQ((*tok)->CountTokens(vectors[i].text), vectors[i].ids.size());
    if (round_trip != RoundTrip::kNone) {
      std::string text;
      ASSERT_TRUE((*tok)->Decode(vectors[i].ids, &text).ok());
      std::string want = round_trip == RoundTrip::kNfc ? Nfc(vectors[i].text) : vectors[i].text;
      EXPECT_EQ(text, want) << family << " line " << i + 1;
      if (text == want) ++decoded;
    }
  }
  std::printf("%s: %d/70 lines encode identically", family.c_str(), matched);
  if (round_trip != RoundTrip::kNone) std::printf(", %d/70 decode exactly", decoded);
  std::printf("\n");
}

TEST(HfTokenizerConformance, Gpt2EncoderJsonAndVocabBpe) {
  LATHE_REQUIRE_SHARED("tokenizers/gpt2");
  CheckFamily("gpt2", "", RoundTrip::kExact);
}

TEST(HfTokenizerConformance, Llama3IgnoreMerges) {
  LATHE_REQUIRE_SHARED("tokenizers/llama3");
  CheckFamily("llama3", "tokenizer.json", RoundTrip::kExact);
}

TEST(HfTokenizerConformance, Qwen3NfcAndPairMerges) {
  LATHE_REQUIRE_SHARED("tokenizers/qwen3");
  CheckFamily("qwen3", "", RoundTrip::kNfc);  // the directory: no tokenizer.model, so tokenizer.json
}

TEST(HfTokenizerConformance, Llama2TokenizerJsonSentencePieceStyle) {
  LATHE_REQUIRE_SHARED("tokenizers/llama2");
  CheckFamily("llama2", "tokenizer.json", RoundTrip::kExact);
}

// ---- handmade tokenizers --------------------------------------------------------------------

// A character-level BPE tokenizer.json with no normalizer or pre-tokenizer unless `extra` sets them.
json SmallTokenizer(const std::vector<std::string>& tokens, const json& merges, json model_extra = {},
                    json extra = {}) {
  json vocab = json::object();
  for (size_t i = 0; i < tokens.size(); ++i) vocab[tokens[i]] = int(i);
  json model = {{"type", "BPE"}, {"vocab", vocab}, {"merges", merges}};
  if (!model_extra.is_null()) model.update(model_extra);
  json root = {{"version", "1.0"}, {"added_tokens", json::array()}, {"normalizer", nullptr},
               {"pre_tokenizer", nullptr}, {"decoder", nullptr}, {"model", model}};
  if (!extra.is_null()) root.update(extra);
  return root;
}

Result<std::unique_ptr<Tokenizer>> LoadJson(const TempDir& dir, const json& j,
                                            const std::string& name = "tokenizer.json") {
  return LoadTokenizer(dir.Write(name, j.dump()));
}

std::vector<int> EncodeOk(const Tokenizer& tok, std::string_view text) {
  std::vector<int> ids;
  Status st = tok.Encode(text, &ids);
  EXPECT_TRUE(st.ok()) << st.ToString();
  return ids;
}

TEST(HfTokenizer, LowerRankMergeWinsWhateverItsPosition) {
  TempDir dir;
  // a=0 b=1 c=2 ab=3 bc=4
  std::vector<std::string> vocab = {"a", "b", "c", "ab", "bc"};
  auto bc_first = LoadJson(dir, SmallTokenizer(vocab, {"b c", "a b"}));
  ASSERT_TRUE(bc_first.ok()) << bc_first.status().ToString();
  EXPECT_EQ(EncodeOk(**bc_first, "abc"), (std::vector<int>{0, 4}));
  auto ab_first = LoadJson(dir, SmallTokenizer(vocab, json::array({json::array({"a", "b"}),
                                                                   json::array({"b", "c"})})));
  ASSERT_TRUE(ab_first.ok()) << ab_first.status().ToString();
  EXPECT_EQ(EncodeOk(**ab_first, "abc"), (std::vector<int>{3, 2}));
  // Equal ranks apply leftmost first: "aaa" with a+a -> [aa, a], never [a, aa].
  auto aa = LoadJson(dir, SmallTokenizer({"a", "aa", "aaaa"}, {"a a", "aa aa"}));
  ASSERT_TRUE(aa.ok()) << aa.status().ToString();
  EXPECT_EQ(EncodeOk(**aa, "aaa"), (std::vector<int>{1, 0}));
  EXPECT_EQ(EncodeOk(**aa, "aaaaa"), (std::vector<int>{2, 0}));
}

TEST(HfTokenizer, LongWordsMergeCompletely) {
  TempDir dir;
  auto tok = LoadJson(dir, SmallTokenizer({"a", "aa", "aaaa"}, {"a a", "aa aa"}));
  ASSERT_TRUE(tok.ok());
  std::vector<int> ids = EncodeOk(**tok, std::string(100001, 'a'));
  ASSERT_EQ(ids.size(), 25001u);
  EXPECT_EQ(ids.back(), 0);
  EXPECT_EQ(std::count(ids.begin(), ids.end(), 2), 25000);
}

TEST(HfTokenizer, IgnoreMergesEmitsAWholeVocabWord) {
  TempDir dir;
  // "abc" is a token, but no merge path reaches it (no "ab c" / "a bc" merge).
  std::vector<std::string> vocab = {"a", "b", "c", "ab", "abc"};
  auto merging = LoadJson(dir, SmallTokenizer(vocab, {"a b"}));
  ASSERT_TRUE(merging.ok());
  EXPECT_EQ(EncodeOk(**merging, "abc"), (std::vector<int>{3, 2}));
  auto ignoring = LoadJson(dir, SmallTokenizer(vocab, {"a b"}, {{"ignore_merges", true}}));
  ASSERT_TRUE(ignoring.ok());
  EXPECT_EQ(EncodeOk(**ignoring, "abc"), (std::vector<int>{4}));
  EXPECT_EQ(EncodeOk(**ignoring, "abab"), (std::vector<int>{3, 3}));
}

TEST(HfTokenizer, ByteFallbackEncodesAndDecodesUnknownCharacters) {
  TempDir dir;
  std::vector<std::string> vocab = {"<unk>", "a"};
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof name, "<0x%02X>", b);
    vocab.push_back(name);
  }
  json decoder = {{"type", "Sequence"},
                  {"decoders", {{{"type", "ByteFallback"}}, {{"type", "Fuse"}}}}};
  auto tok = LoadJson(dir, SmallTokenizer(vocab, json::array(),
                                          {{"unk_token", "<unk>"}, {"byte_fallback", true}},
                                          {{"decoder", decoder}}));
  ASSERT_TRUE(tok.ok()) << tok.status().ToString();
  // "é" is C3 A9: ids 2 + 0xC3 and 2 + 0xA9.
  std::vector<int> ids = EncodeOk(**tok, "a\xC3\xA9");
  EXPECT_EQ(ids, (std::vector<int>{1, 2 + 0xC3, 2 + 0xA9}));
  std::string text;
  ASSERT_TRUE((*tok)->Decode(ids, &text).ok());
  EXPECT_EQ(text, "a\xC3\xA9");
  // A lone continuation byte is not UTF-8: one U+FFFD per byte, as Hugging Face decodes it.
  ASSERT_TRUE((*tok)->Decode({1, 2 + 0xA9}, &text).ok());
  EXPECT_EQ(text, "a\xEF\xBF\xBD");
}

TEST(HfTokenizer, UnknownCharactersUseUnkTokenFusedOrNot) {
  TempDir dir;
  std::vector<std::string> vocab = {"<unk>", "a"};
  auto fused = LoadJson(dir, SmallTokenizer(vocab, json::array(),
                                            {{"unk_token", "<unk>"}, {"fuse_unk", true}}));
  ASSERT_TRUE(fused.ok());
  EXPECT_EQ(EncodeOk(**fused, "xya\xE2\x82\xAC"), (std::vector<int>{0, 1, 0}));
  auto separate = LoadJson(dir, SmallTokenizer(vocab, json::array(), {{"unk_token", "<unk>"}}));
  ASSERT_TRUE(separate.ok());
  EXPECT_EQ(EncodeOk(**separate, "xya"), (std::vector<int>{0, 0, 1}));
  auto none = LoadJson(dir, SmallTokenizer(vocab, json::array()));
  ASSERT_TRUE(none.ok());
  std::vector<int> ids;
  Status st = (*none)->Encode("ax", &ids);
  EXPECT_EQ(st.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(st.message().find("unk_token"), std::string::npos) << st.message();
  EXPECT_EQ((*none)->CountTokens("ax"), 0u);
}

TEST(HfTokenizer, AddedTokensAreCutOutOfTheTextAndNameBosEos) {
  TempDir dir;
  json added = json::array({{{"id", 3}, {"content", "<s>"}, {"special", true}},
                            {{"id", 4}, {"content", "</s>"}, {"special", true}}});
  json post = {{"type", "TemplateProcessing"},
               {"single", {{{"SpecialToken", {{"id", "<s>"}, {"type_id", 0}}}},
                           {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}}},
               {"special_tokens", {{"<s>", {{"id", "<s>"}, {"ids", {3}}, {"tokens", {"<s>"}}}}}}};
  auto tok = LoadJson(dir, SmallTokenizer({"a", "b", "ab"}, {"a b"}, {},
                                          {{"added_tokens", added}, {"post_processor", post}}));
  ASSERT_TRUE(tok.ok()) << tok.status().ToString();
  EXPECT_EQ(EncodeOk(**tok, "<s>ab</s>a"), (std::vector<int>{3, 2, 4, 0}));
  EXPECT_EQ((*tok)->bos_id(), 3);
  EXPECT_EQ((*tok)->eos_id(), -1);
  EXPECT_EQ((*tok)->vocab_size(), 5);
  std::string text;
  ASSERT_TRUE((*tok)->Decode({3, 2, 4}, &text).ok());
  EXPECT_EQ(text, "<s>ab</s>");
  EXPECT_FALSE((*tok)->Decode({5}, &text).ok());
  EXPECT_FALSE((*tok)->Decode({-1}, &text).ok());

  // tokenizer_config.json beside tokenizer.json names both, in either of its spellings.
  dir.Write("tokenizer_config.json",
            R"({"bos_token": {"content": "<s>"}, "eos_token": "</s>", "add_bos_token": true})");
  auto configured = LoadTokenizer(dir.path());
  ASSERT_TRUE(configured.ok()) << configured.status().ToString();
  EXPECT_EQ((*configured)->bos_id(), 3);
  EXPECT_EQ((*configured)->eos_id(), 4);
  dir.Write("tokenizer_config.json", R"({"eos_token": "<nope>"})");
  auto bad = LoadTokenizer(dir.path());
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("eos_token"), std::string::npos) << bad.status().message();
}

TEST(HfTokenizer, RejectsInvalidUtf8Input) {
  TempDir dir;
  auto tok = LoadJson(dir, SmallTokenizer({"a"}, json::array()));
  ASSERT_TRUE(tok.ok());
  std::vector<int> ids;
  Status st = (*tok)->Encode("a\xFF", &ids);
  EXPECT_EQ(st.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(st.message().find("byte 1"), std::string::npos) << st.message();
}

// Every malformed file fails with a Status naming the file and the field.
TEST(HfTokenizer, MalformedTokenizerJsonNamesTheField) {
  TempDir dir;
  struct Case {
    std::string contents, field;
    Status::Code code;
  };
  json good = SmallTokenizer({"a", "b", "ab"}, {"a b"});
  auto with = [&](const std::function<void(json&)>& edit) {
    json j = good;
    edit(j);
    return j.dump();
  };
  std::vector<Case> cases = {
      {"{\"model\": ", "not valid JSON", Status::Code::kInvalidArgument},
      {"[]", "expected a JSON object", Status::Code::kInvalidArgument},
      {with([](json& j) { j.erase("model"); }), "model", Status::Code::kInvalidArgument},
      {with([](json& j) { j["model"]["type"] = "Unigram"; }), "model.type", Status::Code::kUnsupported},
      {with([](json& j) { j["model"]["vocab"] = json::array(); }), "model.vocab", Status::Code::kInvalidArgument},
      {with([](json& j) { j["model"]["vocab"]["a"] = "zero"; }), "model.vocab[\"a\"]", Status::Code::kInvalidArgument},
      {with([](json& j) { j["model"]["vocab"]["a"] = -3; }), "model.vocab[\"a\"]", Status::Code::kInvalidArgument},
      {with([](json& j) { j["model"]["vocab"]["a"] = 2000000000; }), "model.vocab[\"a\"]", Status::Code::kInvalidArgument},
      {with([](json& j) { j["added_tokens"] = {{{"id", 2000000000}, {"content", "<s>"}}}; }), "added_tokens[0].id", Status::Code::kInvalidArgument},
      {with([](json& j) { j["model"]["merges"] = "a b"; }), "model.merges", Status::Code::kInvalidArgument},
      {with([](json& j) { j["model"]["merges"].push_back("ab"); }), "model.merges[1]", Status::Code::kInvalidArgument},
      {with([](json& j) { j["model"]["merges"].push_back(json::array({"a"})); }), "model.merges[1]", Status::Code::kInvalidArgument},
      {with([](json& j) { j["model"]["merges"].push_back(7); }), "model.merges[1]", Status::Code::kInvalidArgument},
      {with([](json& j) { j["model"]["merges"].push_back("b a"); }), "model.merges[1]", Status::Code::kInvalidArgument},
      {with([](json& j) { j["model"]["unk_token"] = "<unk>"; }), "model.unk_token", Status::Code::kInvalidArgument},
      {with([](json& j) { j["model"]["byte_fallback"] = "yes"; }), "model.byte_fallback", Status::Code::kInvalidArgument},
      {with([](json& j) { j["model"]["continuing_subword_prefix"] = "##"; }), "model.continuing_subword_prefix", Status::Code::kUnsupported},
      {with([](json& j) { j["added_tokens"] = {{{"content", "<s>"}}}; }), "added_tokens[0].id", Status::Code::kInvalidArgument},
      {with([](json& j) { j["added_tokens"] = {{{"id", 9}, {"content", 1}}}; }), "added_tokens[0].content", Status::Code::kInvalidArgument},
      {with([](json& j) { j["normalizer"] = {{"type", "Lowercase"}}; }), "normalizer.type", Status::Code::kUnsupported},
      {with([](json& j) { j["normalizer"] = {{"type", "Sequence"}, {"normalizers", {{{"type", "Prepend"}}}}}; }), "normalizer.normalizers[0].prepend", Status::Code::kInvalidArgument},
      {with([](json& j) { j["normalizer"] = {{"type", "Replace"}, {"pattern", {{"Regex", " +"}}}, {"content", " "}}; }), "normalizer.pattern", Status::Code::kUnsupported},
      {with([](json& j) { j["pre_tokenizer"] = {{"type", "Whitespace"}}; }), "pre_tokenizer.type", Status::Code::kUnsupported},
      {with([](json& j) { j["pre_tokenizer"] = {{"type", "Split"}, {"pattern", {{"Regex", "(["}}}, {"behavior", "Isolated"}}; }), "pre_tokenizer.pattern", Status::Code::kInvalidArgument},
      {with([](json& j) { j["pre_tokenizer"] = {{"type", "Split"}, {"pattern", {{"Regex", "a"}}}, {"behavior", "Removed"}}; }), "pre_tokenizer.behavior", Status::Code::kUnsupported},
      {with([](json& j) { j["pre_tokenizer"] = {{"type", "Sequence"}, {"pretokenizers", 3}}; }), "pre_tokenizer.pretokenizers", Status::Code::kInvalidArgument},
      {with([](json& j) { j["decoder"] = {{"type", "WordPiece"}}; }), "decoder.type", Status::Code::kUnsupported},
      {with([](json& j) { j["decoder"] = {{"type", "Strip"}, {"content", " "}, {"start", "1"}}; }), "decoder.start", Status::Code::kInvalidArgument},
      {with([](json& j) { j["decoder"] = 5; }), "decoder", Status::Code::kInvalidArgument},
  };
  for (const auto& c : cases) {
    auto tok = LoadTokenizer(dir.Write("tokenizer.json", c.contents));
    ASSERT_FALSE(tok.ok()) << c.contents;
    EXPECT_EQ(tok.status().code(), c.code) << tok.status().ToString();
    EXPECT_NE(tok.status().message().find(dir.File("tokenizer.json")), std::string::npos)
        << tok.status().message();
    EXPECT_NE(tok.status().message().find(c.field), std::string::npos)
        << "want " << c.field << " in: " << tok.status().message();
  }
}

std::string ByteLevel(const std::string& bytes) {
  std::string out;
  for (unsigned char b : bytes) {
    uint32_t cp = ByteToCodePoint()[b];
    if (cp < 0x80) out.push_back(char(cp));
    else { out.push_back(char(0xC0 | (cp >> 6))); out.push_back(char(0x80 | (cp & 0x3F))); }
  }
  return out;
}

// A two-merge GPT-2 directory: the "#version" header is skipped, a merge of "#" tokens is not.
TEST(HfTokenizer, Gpt2DirectoryKeepsMergesThatStartWithHash) {
  TempDir dir;
  json encoder = json::object();
  for (int b = 0; b < 256; ++b) encoder[ByteLevel(std::string(1, char(b)))] = b;
  encoder["##"] = 256;
  encoder[ByteLevel(" h")] = 257;
  encoder["<|endoftext|>"] = 258;
  dir.Write("encoder.json", encoder.dump());
  dir.Write("vocab.bpe", "#version: 0.2\n# #\n" + ByteLevel(" ") + " h\n");
  auto tok = LoadTokenizer(dir.path());
  ASSERT_TRUE(tok.ok()) << tok.status().ToString();
  EXPECT_EQ(EncodeOk(**tok, "## h<|endoftext|>"), (std::vector<int>{256, 257, 258}));
  EXPECT_EQ((*tok)->eos_id(), 258);
  std::string text;
  ASSERT_TRUE((*tok)->Decode({256, 257, 10}, &text).ok());
  EXPECT_EQ(text, "## h\n");

  dir.Write("vocab.bpe", "#version: 0.2\n# #\nx y z\n");
  auto bad = LoadTokenizer(dir.File("encoder.json"));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("vocab.bpe:3"), std::string::npos) << bad.status().message();
}

TEST(HfTokenizer, DirectoryPrefersTokenizerModelAndNamesWhatItLookedFor) {
  TempDir dir;
  auto none = LoadTokenizer(dir.path());
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), Status::Code::kNotFound);
  EXPECT_NE(none.status().message().find("tokenizer.json"), std::string::npos);
  LATHE_REQUIRE_SHARED("tokenizers/llama2");
  // llama2/ holds both files: the SentencePiece model wins, and it knows eos (the json does not).
  auto sp = LoadTokenizer(SharedDir() + "/tokenizers/llama2");
  ASSERT_TRUE(sp.ok()) << sp.status().ToString();
  EXPECT_EQ((*sp)->eos_id(), 2);
  auto hf = LoadTokenizer(SharedDir() + "/tokenizers/llama2/tokenizer.json");
  ASSERT_TRUE(hf.ok()) << hf.status().ToString();
  EXPECT_EQ((*hf)->bos_id(), 1);
  EXPECT_EQ((*hf)->vocab_size(), 32000);
}

TEST(HfTokenizer, SpecialIdsOfRealFamilies) {
  LATHE_REQUIRE_SHARED("tokenizers");
  auto llama3 = LoadTokenizer(SharedDir() + "/tokenizers/llama3");
  ASSERT_TRUE(llama3.ok()) << llama3.status().ToString();
  EXPECT_EQ((*llama3)->bos_id(), 128000);
  EXPECT_EQ((*llama3)->eos_id(), 128001);
  EXPECT_EQ((*llama3)->vocab_size(), 128256);
  EXPECT_EQ(EncodeOk(**llama3, "<|begin_of_text|>Hi<|eot_id|>").front(), 128000);
  EXPECT_EQ(EncodeOk(**llama3, "<|begin_of_text|>Hi<|eot_id|>").back(), 128009);
  auto qwen3 = LoadTokenizer(SharedDir() + "/tokenizers/qwen3");
  ASSERT_TRUE(qwen3.ok()) << qwen3.status().ToString();
  EXPECT_EQ((*qwen3)->bos_id(), -1);
  EXPECT_EQ((*qwen3)->eos_id(), 151645);
}

}  // namespace
}  // namespace lathe::text
