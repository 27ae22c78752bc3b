// tokenizer.model read and written by hand: real models (stories260K's tok512, Llama 2's) survive
// parse -> serialize -> libsentencepiece with the same encodings as the originals; hostile bytes
// are refused without a crash.
#include "text/spm_model_proto.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>

#include "test_util.h"
#include "text/tokenizer.h"

namespace lathe::text {
namespace {

void ExpectSameEncodings(const std::string& original_path, const std::vector<std::string>& texts) {
  SpmModelProto m;
  const std::string bytes = testing::ReadFile(original_path);
  ASSERT_TRUE(ParseSpmModelProto(bytes, original_path, &m).ok());
  testing::TempDir dir;
  const std::string copy = dir.Write("tokenizer.model", SerializeSpmModelProto(m));
  auto a = LoadTokenizer(original_path);
  auto b = LoadTokenizer(copy);
  ASSERT_TRUE(a.ok() && b.ok()) << b.status().ToString();
  EXPECT_EQ((*a)->vocab_size(), (*b)->vocab_size());
  EXPECT_EQ((*a)->bos_id(), (*b)->bos_id());
  EXPECT_EQ((*a)->eos_id(), (*b)->eos_id());
  for (const auto& t : texts) {
    std::vector<int> x, y;
    ASSERT_TRUE((*a)->Encode(t, &x).ok());
    ASSERT_TRUE((*b)->Encode(t, &y).ok());
    EXPECT_EQ(x, y) << t;
  }
}

TEST(SpmModelProto, ReadsTok512AsItIs) {
  LATHE_REQUIRE_SHARED("models/stories260K/tok512.model");
  SpmModelProto m;
  const std::string path = testing::SharedDir() + "/models/stories260K/tok512.model";
  ASSERT_TRUE(ParseSpmModelProto(testing::ReadFile(path), path, &m).ok());
  ASSERT_EQ(m.pieces.size(), 512u);
  EXPECT_EQ(m.pieces[0].piece, "<unk>");
  EXPECT_EQ(m.pieces[0].type, SpmPiece::kUnknown);
  EXPECT_EQ(m.pieces[1].type, SpmPiece::kControl);
  EXPECT_EQ(m.pieces[3].piece, "<0x00>");
  EXPECT_EQ(m.pieces[3].type, SpmPiece::kByte);
  EXPECT_EQ(m.model_type, 2);  // BPE, as llama2.c trains
  EXPECT_TRUE(m.byte_fallback);
  EXPECT_EQ(m.unk_id, 0);
  EXPECT_EQ(m.bos_id, 1);
  EXPECT_EQ(m.eos_id, 2);
  EXPECT_EQ(m.pad_id, -1);
  EXPECT_EQ(m.normalizer_name, "identity");
  EXPECT_TRUE(m.add_dummy_prefix);
}

TEST(SpmModelProto, RewrittenModelsEncodeAsTheOriginals) {
  LATHE_REQUIRE_SHARED("tokenizers/llama2");
  std::vector<std::string> texts = {"Once upon a time, there was a little girl named Lily.",
                                    "  two  spaces and\ttabs\nnewlines", "Äpfel ½ 日本語 🙂", ""};
  std::ifstream vectors(testing::SharedDir() + "/tokenizers/llama2/vectors.jsonl");
  for (std::string line; std::getline(vectors, line);) texts.push_back(nlohmann::json::parse(line)["text"]);
  ExpectSameEncodings(testing::SharedDir() + "/models/stories260K/tok512.model", texts);
  ExpectSameEncodings(testing::SharedDir() + "/tokenizers/llama2/tokenizer.model", texts);
}

TEST(SpmModelProto, RefusesHostileBytesAtEveryTruncation) {
  SpmModelProto m;
  m.pieces = {{"<unk>", 0, SpmPiece::kUnknown}, {"<s>", 0, SpmPiece::kControl}, {"a", -1, SpmPiece::kNormal}};
  const std::string good = SerializeSpmModelProto(m);
  SpmModelProto back;
  ASSERT_TRUE(ParseSpmModelProto(good, "t.model", &back).ok());
  EXPECT_EQ(back.pieces.size(), 3u);
  EXPECT_EQ(back.pieces[2].score, -1.0f);
  // Every prefix either parses (a cut between fields) or fails with a message naming the file.
  for (size_t n = 0; n < good.size(); ++n) {
    Status s = ParseSpmModelProto(std::string_view(good).substr(0, n), "t.model", &back);
    if (!s.ok()) {
      EXPECT_NE(s.message().find("t.model"), std::string::npos) << s.message();
    }
  }
  EXPECT_FALSE(ParseSpmModelProto("", "t.model", &back).ok());                       // no pieces
  EXPECT_FALSE(ParseSpmModelProto("\x0a\xff\xff\xff\xff\x0f", "t.model", &back).ok());  // length past the end
  EXPECT_FALSE(ParseSpmModelProto(std::string(11, '\xff'), "t.model", &back).ok());   // endless varint
  EXPECT_FALSE(ParseSpmModelProto("\x0f", "t.model", &back).ok());                    // wire type 7
  SpmModelProto bad_type = m;
  bad_type.pieces[2].type = 9;
  Status s = ParseSpmModelProto(SerializeSpmModelProto(bad_type), "t.model", &back);
  EXPECT_NE(s.message().find("unknown type 9"), std::string::npos) << s.message();
  EXPECT_FALSE(ParseSpmModelProto(std::string(kMaxSpmModelBytes + 1, '\0'), "t.model", &back).ok());
}

}  // namespace
}  // namespace lathe::text
