#include "engine/training_data.h"

#include <gtest/gtest.h>

namespace lathe::engine {
namespace {

// One token per byte: makes expected ids and masks easy to write down.
class ByteTokenizer final : public text::Tokenizer {
 public:
  Status Encode(std::string_view text, std::vector<int>* ids) const override {
    ids->clear();
    for (unsigned char c : text) ids->push_back(c);
    return Status::Ok();
  }
  Status Decode(const std::vector<int>& ids, std::string* text) const override {
    text->clear();
    for (int id : ids) text->push_back(static_cast<char>(id));
    return Status::Ok();
  }
  int vocab_size() const override { return 258; }
  int bos_id() const override { return 256; }
  int eos_id() const override { return 257; }
};

data::Example Pc(const std::string& p, const std::string& c) {
  data::Example e;
  e.format = data::Format::kPromptCompletion;
  e.turns = {{data::Role::kUser, p}, {data::Role::kAssistant, c}};
  return e;
}

TEST(TrainingData, PromptCompletionLearnsOnlyTheCompletionAndEos) {
  ByteTokenizer tok;
  SequenceStats stats;
  auto s = BuildSequence(Pc("Q?", "Ab"), tok, {256, 257, 64, text::ChatTemplate::kPlain}, &stats);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->ids, (std::vector<int>{256, 'Q', '?', 'A', 'b', 257}));
  EXPECT_EQ(s->target, (std::vector<uint8_t>{0, 0, 0, 1, 1, 1}));
  EXPECT_EQ(stats.target_tokens, 3u);
}

TEST(TrainingData, ChatLearnsOnlyAssistantTurnsThroughTheTemplate) {
  ByteTokenizer tok;
  data::Example e;
  e.format = data::Format::kChat;
  e.system = "S";
  e.turns = {{data::Role::kUser, "u1"}, {data::Role::kAssistant, "a1"}, {data::Role::kUser, "u2"},
             {data::Role::kAssistant, "a2"}};
  SequenceStats stats;
  auto s = BuildSequence(e, tok, {-1, -1, 1000, text::ChatTemplate::kChatML}, &stats);
  ASSERT_TRUE(s.ok());
  std::string text, learned;
  for (size_t i = 0; i < s->ids.size(); ++i) {
    text.push_back(static_cast<char>(s->ids[i]));
    if (s->target[i]) learned.push_back(static_cast<char>(s->ids[i]));
  }
  EXPECT_EQ(text, *text::RenderChat(text::ChatTemplate::kChatML, {{"system", "S"}, {"user", "u1"}, {"assistant", "a1"},
                                                                  {"user", "u2"}, {"assistant", "a2"}}, false));
  EXPECT_EQ(learned, "a1<|im_end|>\na2<|im_end|>\n");
}

TEST(TrainingData, LongSequencesAreCutAndCounted) {
  ByteTokenizer tok;
  SequenceStats stats;
  auto s = BuildSequence(Pc("0123456789", "abcdefghij"), tok, {-1, -1, 12, text::ChatTemplate::kPlain}, &stats);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->ids.size(), 12u);
  EXPECT_EQ(stats.truncated, 1u);
}

TEST(TrainingData, PretrainingIsPackedIntoFullWindows) {
  ByteTokenizer tok;
  std::vector<data::Example> recs(3);
  for (auto& r : recs) r.format = data::Format::kPretraining;
  recs[0].input = "aaaa";
  recs[1].input = "bbbbbb";
  recs[2].input = "cc";
  SequenceStats stats;
  auto packed = PackPretraining(recs, tok, {-1, 257, 5, text::ChatTemplate::kPlain}, &stats);
  ASSERT_TRUE(packed.ok());
  // aaaa<eos>bbbbbb<eos>cc<eos> = 15 tokens -> three windows of 5, every token a target.
  ASSERT_EQ(packed->size(), 3u);
  EXPECT_EQ((*packed)[0].ids, (std::vector<int>{'a', 'a', 'a', 'a', 257}));
  EXPECT_EQ((*packed)[1].ids, (std::vector<int>{'b', 'b', 'b', 'b', 'b'}));
  EXPECT_EQ((*packed)[2].ids, (std::vector<int>{'b', 257, 'c', 'c', 257}));
  EXPECT_EQ(stats.target_tokens, 15u);
  EXPECT_EQ((*packed)[2].source_line, 2u);
}

TEST(TrainingData, BatchesCoverEverySequenceOnceWithLittlePadding) {
  std::vector<TrainingSequence> seqs(200);
  Rng fill(1);
  for (auto& s : seqs) s.ids.assign(1 + fill.Below(300), 1);
  Rng a(7), b(7);
  auto batches = MakeLengthBucketedBatches(seqs, 8, &a);
  EXPECT_EQ(batches, MakeLengthBucketedBatches(seqs, 8, &b));  // deterministic
  std::vector<int> seen(seqs.size(), 0);
  size_t padded = 0, real = 0;
  for (const auto& batch : batches) {
    size_t longest = 0;
    for (size_t i : batch) {
      seen[i]++;
      longest = std::max(longest, seqs[i].ids.size());
      real += seqs[i].ids.size();
    }
    padded += longest * batch.size();
  }
  for (int n : seen) EXPECT_EQ(n, 1);
  EXPECT_LT(static_cast<double>(padded) / static_cast<double>(real), 1.15);  // random batching: ~1.9
}

}  // namespace
}  // namespace lathe::engine
