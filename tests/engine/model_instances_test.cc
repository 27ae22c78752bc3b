// Instances over one set of weights (LanguageModel::NewInstance), on the real stories260K model:
// they share the weights, generate exactly what a separately loaded model generates, also from
// two threads at once, and keep the weights alive on their own.
#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "engine/language_model.h"
#include "engine/llama2c_import.h"
#include "test_util.h"

namespace lathe::engine {
namespace {

using lathe::testing::SharedDir;
using lathe::testing::TempDir;

const std::vector<std::string> kPrompts = {"Once upon a time", "The little dog", "Lily and Tom went to the park",
                                           "One day"};

std::vector<std::vector<int>> GreedyTokens(LanguageModel& m) {
  std::vector<std::vector<int>> out;
  for (const auto& p : kPrompts) {
    auto r = m.Generate({p}, {.max_tokens = 40});
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    out.push_back(r.ok() ? (*r)[0].tokens : std::vector<int>{});
  }
  return out;
}

TEST(ModelInstances, ShareOneSetOfWeightsAndGenerateLikeASeparateLoadFromTwoThreads) {
  LATHE_REQUIRE_SHARED("models/stories260K");
  TempDir tmp;
  const std::string stories = SharedDir() + "/models/stories260K";
  ASSERT_TRUE(ImportLlama2c(stories + "/stories260K.bin", stories + "/tok512.model", tmp.File("m")).ok());
  auto separate = LanguageModel::Load(tmp.File("m"));
  auto loaded = LanguageModel::Load(tmp.File("m"));
  ASSERT_TRUE(separate.ok() && loaded.ok());
  const std::vector<std::vector<int>> expected = GreedyTokens(**separate);

  std::unique_ptr<LanguageModel> a = (*loaded)->NewInstance(), b = (*loaded)->NewInstance();
  EXPECT_EQ((*loaded)->WeightUsers(), 3);
  EXPECT_EQ((*separate)->WeightUsers(), 1);  // a separate load shares nothing
  EXPECT_EQ(a->WeightBytes(), (*loaded)->WeightBytes());
  // The service budgets on the estimate from config.json: it must be what loading really holds.
  EXPECT_EQ(EstimateMemory(a->config()).weight_bytes, a->WeightBytes());
  EXPECT_GT(EstimateMemory(a->config()).kv_bytes_per_sequence, 0);

  std::vector<std::vector<int>> from_a, from_b;
  std::thread ta([&] { for (int i = 0; i < 3; ++i) from_a = GreedyTokens(*a); });
  std::thread tb([&] { for (int i = 0; i < 3; ++i) from_b = GreedyTokens(*b); });
  ta.join();
  tb.join();
  EXPECT_EQ(from_a, expected);
  EXPECT_EQ(from_b, expected);

  // The first instance gone, the others still hold the weights.
  loaded->reset();
  a.reset();
  EXPECT_EQ(b->WeightUsers(), 1);
  EXPECT_EQ(GreedyTokens(*b), expected);
  EXPECT_EQ(b->NewInstance()->WeightUsers(), 2);
}

}  // namespace
}  // namespace lathe::engine
