// Continuous batching in the engine (GenerationBatch) on the real stories260K model: requests that
// join a running batch at different steps, with different max tokens, stop sequences and sampling
// options, get exactly what each gets alone from GenerateTokens (tokens, text, stop reason), and
// the batch refuses what GenerateTokens refuses.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "engine/language_model.h"
#include "engine/llama2c_import.h"
#include "test_util.h"

namespace lathe::engine {
namespace {

using lathe::testing::SharedDir;
using lathe::testing::TempDir;

struct Request {
  std::string prompt;
  GenerationOptions options;
  int joins_at_step = 0;  // how many steps the batch has run when it is added
};

std::unique_ptr<LanguageModel> LoadStories(const TempDir& tmp) {
  const std::string stories = SharedDir() + "/models/stories260K";
  EXPECT_TRUE(ImportLlama2c(stories + "/stories260K.bin", stories + "/tok512.model", tmp.File("m")).ok());
  auto m = LanguageModel::Load(tmp.File("m"));
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  return m.ok() ? std::move(*m) : nullptr;
}

// Runs `requests` through one batch of `capacity`, each added at its step (or as soon as there
// is room after it), streaming into texts[i]; returns the results in request order.
std::vector<GenerationResult> RunBatched(LanguageModel& model, const std::vector<Request>& requests, int capacity,
                                         std::vector<std::string>* streamed, size_t* widest) {
  auto batch = model.NewGenerationBatch(capacity);
  EXPECT_TRUE(batch.ok()) << batch.status().ToString();
  std::vector<GenerationResult> results(requests.size());
  streamed->assign(requests.size(), "");
  std::map<uint64_t, size_t> which;
  size_t next = 0, done = 0;
  *widest = 0;
  for (int step = 0; done < requests.size() && step < 10000; ++step) {
    while (next < requests.size() && requests[next].joins_at_step <= step && (*batch)->size() < (*batch)->capacity()) {
      const Request& r = requests[next];
      auto ids = model.EncodePrompt(r.prompt, r.options);
      EXPECT_TRUE(ids.ok());
      const size_t index = next;
      auto id = (*batch)->Add(*ids, r.options, [streamed, index](size_t i, std::string_view piece) {
        EXPECT_EQ(i, 0u);
        (*streamed)[index].append(piece);
        return true;
      });
      EXPECT_TRUE(id.ok()) << id.status().ToString();
      which[*id] = next++;
    }
    *widest = std::max(*widest, (*batch)->size());
    auto finished = (*batch)->Step();
    EXPECT_TRUE(finished.ok()) << finished.status().ToString();
    for (FinishedSequence& f : *finished) {
      results[which.at(f.id)] = std::move(f.result);
      ++done;
    }
  }
  EXPECT_EQ(done, requests.size());
  EXPECT_EQ((*batch)->size(), 0u);
  return results;
}

// Returns the stop reasons the requests ended with.
std::set<StopReason> ExpectSameAsAlone(LanguageModel& model, const std::vector<Request>& requests, int capacity,
                                       size_t expected_widest) {
  std::set<StopReason> reasons;
  std::vector<std::string> streamed;
  size_t widest = 0;
  const std::vector<GenerationResult> batched = RunBatched(model, requests, capacity, &streamed, &widest);
  EXPECT_EQ(widest, expected_widest) << "the requests did not share steps as planned";
  for (size_t i = 0; i < requests.size(); ++i) {
    SCOPED_TRACE("request " + std::to_string(i) + ": " + requests[i].prompt);
    auto ids = model.EncodePrompt(requests[i].prompt, requests[i].options);
    EXPECT_TRUE(ids.ok());
    if (!ids.ok()) continue;
    std::string alone_streamed;
    auto alone = model.GenerateTokens({*ids}, requests[i].options, [&](size_t, std::string_view piece) {
      alone_streamed.append(piece);
      return true;
    });
    EXPECT_TRUE(alone.ok()) << alone.status().ToString();
    if (!alone.ok()) continue;
    const GenerationResult& a = (*alone)[0];
    EXPECT_EQ(batched[i].tokens, a.tokens);
    EXPECT_EQ(batched[i].text, a.text);
    EXPECT_EQ(batched[i].reason, a.reason);
    EXPECT_EQ(batched[i].stop_sequence, a.stop_sequence);
    EXPECT_EQ(batched[i].prompt_tokens, a.prompt_tokens);
    EXPECT_EQ(streamed[i], alone_streamed);
    EXPECT_EQ(streamed[i], a.text);
    reasons.insert(batched[i].reason);
  }
  return reasons;
}

TEST(GenerationBatch, ConcurrentGreedyRequestsGetTheTokensOfEachRunAlone) {
  LATHE_REQUIRE_SHARED("models/stories260K");
  TempDir tmp;
  auto model = LoadStories(tmp);
  ASSERT_TRUE(model);
  std::vector<Request> requests;
  for (const char* p : {"Once upon a time", "The little dog", "Lily and Tom went to the park", "One day",
                        "The sun was", "Tim had a red ball", "A cat sat", "Mom said"})
    requests.push_back({p, {.max_tokens = 48}, 0});
  ExpectSameAsAlone(*model, requests, 8, 8);
}

// Different max tokens and stop sequences end the sequences at different steps, and later
// requests join the running batch at other steps (continuous batching), one waiting for room.
TEST(GenerationBatch, RequestsEndingAndJoiningAtDifferentStepsMatchTheirRunsAlone) {
  LATHE_REQUIRE_SHARED("models/stories260K");
  TempDir tmp;
  auto model = LoadStories(tmp);
  ASSERT_TRUE(model);
  std::vector<Request> requests = {
      {"Once upon a time", {.max_tokens = 5}, 0},
      {"The little dog", {.max_tokens = 60, .stop_sequences = {"."}}, 0},
      {"Lily and Tom went to the park", {.max_tokens = 30, .stop_sequences = {"ball", "\n"}}, 0},
      {"One day", {.max_tokens = 0}, 2},
      {"The sun was", {.max_tokens = 25}, 3},
      {"Tim had a red ball", {.max_tokens = 200}, 7},  // the longest: others join and leave around it
      {"A cat sat", {.max_tokens = 12, .temperature = 0.9f, .top_p = 0.9f, .seed = 7}, 8},
      {"Mom said", {.max_tokens = 20, .temperature = 0.7f, .top_k = 20, .seeds = {99}}, 9},
  };
  const std::set<StopReason> reasons = ExpectSameAsAlone(*model, requests, 3, 3);
  // (stories260K's greedy stories run past 200 tokens without an end token: that way of ending
  // is the same SequenceState code, checked by GenerateTokens' own tests.)
  EXPECT_TRUE(reasons.count(StopReason::kLength) && reasons.count(StopReason::kStopSequence))
      << "the cases are meant to end by length and by stop sequence";
}

TEST(GenerationBatch, RefusesWhatGenerateRefusesAndAFullBatch) {
  LATHE_REQUIRE_SHARED("models/stories260K");
  TempDir tmp;
  auto model = LoadStories(tmp);
  ASSERT_TRUE(model);
  auto batch = model->NewGenerationBatch(1);
  ASSERT_TRUE(batch.ok());
  EXPECT_EQ((*batch)->Add({}, {}).status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ((*batch)->Add({1, 100000}, {}).status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ((*batch)->Add({1, 2}, {.max_tokens = -1}).status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ((*batch)->Add({1, 2}, {.seeds = {1, 2}}).status().code(), Status::Code::kInvalidArgument);
  std::vector<int> whole_context(static_cast<size_t>(model->config().max_position_embeddings), 1);
  EXPECT_EQ((*batch)->Add(whole_context, {.max_tokens = 1}).status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ((*batch)->size(), 0u);
  auto first = (*batch)->Add({1, 2, 3}, {.max_tokens = 50});
  ASSERT_TRUE(first.ok());
  EXPECT_EQ((*batch)->Add({1, 2, 3}, {}).status().code(), Status::Code::kThrottled);
  // Cancelled, it ends at the next step with what it had.
  ASSERT_TRUE((*batch)->Step().ok());
  (*batch)->Cancel(*first);
  (*batch)->Cancel(*first + 100);  // unknown: ignored
  auto finished = (*batch)->Step();
  ASSERT_TRUE(finished.ok());
  ASSERT_EQ(finished->size(), 1u);
  EXPECT_EQ((*finished)[0].id, *first);
  EXPECT_EQ((*finished)[0].result.reason, StopReason::kCancelled);
  EXPECT_EQ((*finished)[0].result.tokens.size(), 1u);
  EXPECT_EQ((*batch)->size(), 0u);
  EXPECT_TRUE((*batch)->Step()->empty());  // an empty batch steps to nothing
}

}  // namespace
}  // namespace lathe::engine
