// Hugging Face tokenizer.json / GPT-2 BPE: conformance against the reference encodings in
// ../shared/tokenizers (every line of every family), and handmade tokenizers for each rule.
#include "text/hf_tokenizer.h"

#include <gtest/gtest.h>
#include <unicode/normalizer2.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "test_util.h"
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

// Encodes every line; expects identical ids, and (byte-level families) that Decode gives the text
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
  CheckFamily("llama2", "tokenizer.json", RoundTrip::kNone);
}

}  // namespace
}  // namespace lathe::text
