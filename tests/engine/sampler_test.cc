#include "engine/sampler.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace lathe::engine {
namespace {

TEST(Sampler, GreedyPicksTheFirstMaximum) {
  std::vector<float> logits = {0.1f, 2.0f, -1.0f, 2.0f};
  Rng rng(1);
  EXPECT_EQ(SampleToken(logits.data(), logits.size(), {}, &rng), 1);
}

TEST(Sampler, SameSeedSameTokensDifferentSeedDifferentTokens) {
  std::vector<float> logits(50);
  for (size_t i = 0; i < logits.size(); ++i) logits[i] = std::sin(static_cast<float>(i));
  SamplingParams p{1.0f, 0, 1.0f};
  auto run = [&](uint64_t seed) {
    Rng rng(seed);
    std::vector<int> out;
    for (int i = 0; i < 64; ++i) out.push_back(SampleToken(logits.data(), logits.size(), p, &rng));
    return out;
  };
  EXPECT_EQ(run(7), run(7));
  EXPECT_NE(run(7), run(8));
}

TEST(Sampler, TopKOneAndTinyTopPAreGreedy) {
  std::vector<float> logits = {0.5f, 0.4f, 3.0f, 0.2f};
  Rng rng(3);
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(SampleToken(logits.data(), 4, {1.0f, 1, 1.0f}, &rng), 2);
    EXPECT_EQ(SampleToken(logits.data(), 4, {1.0f, 0, 0.01f}, &rng), 2);
  }
}

TEST(Sampler, TopKNeverReturnsExcludedTokens) {
  std::vector<float> logits = {1.0f, 1.1f, 1.2f, 1.3f, 1.4f};
  Rng rng(5);
  for (int i = 0; i < 500; ++i) EXPECT_GE(SampleToken(logits.data(), 5, {2.0f, 2, 1.0f}, &rng), 3);
}

TEST(Sampler, FrequenciesFollowTheSoftmax) {
  // logits log(1), log(2), log(7): probabilities 0.1, 0.2, 0.7 at temperature 1.
  std::vector<float> logits = {0.0f, std::log(2.0f), std::log(7.0f)};
  Rng rng(11);
  int counts[3] = {0, 0, 0};
  const int n = 20000;
  for (int i = 0; i < n; ++i) counts[SampleToken(logits.data(), 3, {1.0f, 0, 1.0f}, &rng)]++;
  EXPECT_NEAR(counts[0] / double(n), 0.1, 0.015);
  EXPECT_NEAR(counts[1] / double(n), 0.2, 0.015);
  EXPECT_NEAR(counts[2] / double(n), 0.7, 0.015);
}

TEST(Rng, UniformIsInUnitInterval) {
  Rng rng(0);
  for (int i = 0; i < 1000; ++i) {
    double u = rng.Uniform();
    EXPECT_GE(u, 0.0);
    EXPECT_LT(u, 1.0);
  }
}

}  // namespace
}  // namespace lathe::engine
