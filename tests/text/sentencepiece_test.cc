#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "test_util.h"
#include "text/tokenizer.h"

namespace lathe::text {
namespace {

using lathe::testing::ReadFile;
using lathe::testing::SharedDir;

struct Vector {
  int line = 0;
  std::string text;
  std::vector<int> ids, ids_bos;
  std::string src;
};

std::string FamilyDir(const std::string& family) { return SharedDir() + "/tokenizers/" + family; }

std::vector<Vector> LoadVectors(const std::string& family) {
  std::vector<Vector> out;
  std::string data = ReadFile(FamilyDir(family) + "/vectors.jsonl");
  size_t start = 0;
  int line = 0;
  while (start < data.size()) {
    size_t nl = data.find('\n', start);
    if (nl == std::string::npos) nl = data.size();
    ++line;
    nlohmann::json j = nlohmann::json::parse(data.substr(start, nl - start));
    out.push_back({line, j.at("text").get<std::string>(), j.at("ids").get<std::vector<int>>(),
                   j.at("ids_bos").get<std::vector<int>>(), j.at("src").get<std::string>()});
    start = nl + 1;
  }
  return out;
}

std::unique_ptr<Tokenizer> Load(const std::string& path) {
  auto tok = LoadTokenizer(path);
  EXPECT_TRUE(tok.ok()) << tok.status().ToString();
  return tok.ok() ? std::move(tok).value() : nullptr;
}

// What SentencePiece's remove_extra_whitespaces leaves of text: runs of ' ' become one, leading
// and trailing ' ' go. Tabs, CR and LF are not whitespace to it (README of shared/tokenizers).
std::string CollapseSpaces(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == ' ' && (out.empty() || out.back() == ' ')) continue;
    out += c;
  }
  if (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

// Checks every line of family/vectors.jsonl: Encode gives exactly ids, ids_bos is [bos] + ids,
// CountTokens agrees, and Decode(ids) gives expected_decode(text).
void CheckFamily(const std::string& family, int vocab_size,
                 std::string (*expected_decode)(const std::string&)) {
  auto tok = Load(FamilyDir(family) + "/tokenizer.model");
  ASSERT_NE(tok, nullptr);
  EXPECT_EQ(tok->vocab_size(), vocab_size);
  EXPECT_EQ(tok->bos_id(), 1);
  EXPECT_EQ(tok->eos_id(), 2);
  std::vector<Vector> vectors = LoadVectors(family);
  ASSERT_EQ(vectors.size(), 70u) << "README: every family has 70 lines";
  for (const Vector& v : vectors) {
    SCOPED_TRACE(family + "/vectors.jsonl line " + std::to_string(v.line) + " (" + v.src + ")");
    std::vector<int> ids = {-7};  // Encode must replace, not append
    ASSERT_TRUE(tok->Encode(v.text, &ids).ok());
    EXPECT_EQ(ids, v.ids);
    std::vector<int> with_bos = {tok->bos_id()};
    with_bos.insert(with_bos.end(), ids.begin(), ids.end());
    EXPECT_EQ(with_bos, v.ids_bos);
    EXPECT_EQ(tok->CountTokens(v.text), v.ids.size());
    std::string decoded = "stale";
    ASSERT_TRUE(tok->Decode(v.ids, &decoded).ok());
    EXPECT_EQ(decoded, expected_decode(v.text));
  }
}

TEST(SentencePiece, Llama2MatchesEveryReferenceVectorAndRoundTrips) {
  LATHE_REQUIRE_SHARED("tokenizers/llama2");
  // Identity normalizer, remove_extra_whitespaces=false, byte fallback: decoding gives the
  // input back exactly (the README checked 46/46 upstream lines; the extras hold no unk).
  CheckFamily("llama2", 32000, [](const std::string& t) { return t; });
}

TEST(SentencePiece, Stories260kMatchesEveryReferenceVector) {
  LATHE_REQUIRE_SHARED("tokenizers/stories260k-tok512");
  // remove_extra_whitespaces=true: decoding gives the text with its spaces collapsed, which is
  // the text itself wherever it has no leading, trailing or repeated spaces.
  CheckFamily("stories260k-tok512", 512, CollapseSpaces);
}

TEST(SentencePiece, Stories260kRoundTripsTextWithoutExtraSpaces) {
  LATHE_REQUIRE_SHARED("tokenizers/stories260k-tok512");
  auto tok = Load(FamilyDir("stories260k-tok512"));  // a directory finds tokenizer.model
  ASSERT_NE(tok, nullptr);
  int round_trips = 0;
  for (const Vector& v : LoadVectors("stories260k-tok512")) {
    if (CollapseSpaces(v.text) != v.text) continue;
    std::string decoded;
    ASSERT_TRUE(tok->Decode(v.ids, &decoded).ok());
    EXPECT_EQ(decoded, v.text) << "line " << v.line;
    ++round_trips;
  }
  EXPECT_GT(round_trips, 40);  // most lines have no extra spaces
  // README: "     " encodes to nothing.
  std::vector<int> ids = {5};
  ASSERT_TRUE(tok->Encode("     ", &ids).ok());
  EXPECT_TRUE(ids.empty());
}

TEST(SentencePiece, DecodeRejectsIdsOutsideTheVocabulary) {
  LATHE_REQUIRE_SHARED("tokenizers/stories260k-tok512");
  auto tok = Load(FamilyDir("stories260k-tok512") + "/tokenizer.model");
  ASSERT_NE(tok, nullptr);
  std::string text;
  Status s = tok->Decode({1, 512}, &text);
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(s.message(), "token id 512 is outside the 512-token vocabulary");
  EXPECT_EQ(tok->Decode({-1}, &text).code(), Status::Code::kInvalidArgument);
  // BOS and EOS are control pieces: they decode to nothing.
  std::vector<int> ids;
  ASSERT_TRUE(tok->Encode("Hello", &ids).ok());
  std::vector<int> framed = {tok->bos_id()};
  framed.insert(framed.end(), ids.begin(), ids.end());
  framed.push_back(tok->eos_id());
  ASSERT_TRUE(tok->Decode(framed, &text).ok());
  EXPECT_EQ(text, "Hello");
}

TEST(LoadTokenizer, ErrorsSayWhatIsWrong) {
  lathe::testing::TempDir dir;
  auto missing = LoadTokenizer(dir.File("nope.model"));
  EXPECT_EQ(missing.status().code(), Status::Code::kNotFound);
  auto empty_dir = LoadTokenizer(dir.path());
  EXPECT_EQ(empty_dir.status().code(), Status::Code::kNotFound);
  EXPECT_NE(empty_dir.status().message().find("looked for tokenizer.model, tokenizer.json, encoder.json + vocab.bpe"),
            std::string::npos) << empty_dir.status().message();
  auto json = LoadTokenizer(dir.Write("tokenizer.json", "{}"));  // a tokenizer.json without a model
  EXPECT_FALSE(json.ok());
  EXPECT_NE(json.status().message().find("tokenizer.json"), std::string::npos) << json.status().message();
  auto garbage = LoadTokenizer(dir.Write("bad.model", "this is not a protobuf"));
  EXPECT_EQ(garbage.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(garbage.status().message().find("cannot load SentencePiece model"), std::string::npos);
}

}  // namespace
}  // namespace lathe::text
