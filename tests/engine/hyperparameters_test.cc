#include "engine/hyperparameters.h"

#include <gtest/gtest.h>

namespace lathe::engine {
namespace {

TEST(Hyperparameters, DefaultsAndBedrockNames) {
  auto h = ParseHyperparameters({}, DefaultHyperparameterSpecs());
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->epoch_count, 2);
  EXPECT_EQ(h->method, "lora");
  // The tutorial's values, as strings like boto3 sends them.
  h = ParseHyperparameters({{"epochCount", "3"}, {"batchSize", "1"}, {"learningRate", "0.00001"},
                            {"learningRateWarmupSteps", "5"}},
                           DefaultHyperparameterSpecs());
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  EXPECT_EQ(h->epoch_count, 3);
  EXPECT_EQ(h->batch_size, 1);
  EXPECT_DOUBLE_EQ(h->learning_rate, 1e-5);
  EXPECT_EQ(h->warmup_steps, 5);
}

TEST(Hyperparameters, RejectionsNameKeyValueAndRange) {
  const auto& specs = DefaultHyperparameterSpecs();
  auto msg = [&](std::map<std::string, std::string> v) { return ParseHyperparameters(v, specs).status().message(); };
  EXPECT_EQ(msg({{"epochCount", "0"}}), "hyperparameter epochCount=\"0\" is invalid: expected an integer from 1 to 100");
  EXPECT_EQ(msg({{"epochCount", "2.5"}}), "hyperparameter epochCount=\"2.5\" is invalid: expected an integer from 1 to 100");
  EXPECT_EQ(msg({{"learningRate", "fast"}}),
            "hyperparameter learningRate=\"fast\" is invalid: expected a number from 1e-07 to 1");
  EXPECT_EQ(msg({{"learningRate", "1e999"}}),
            "hyperparameter learningRate=\"1e999\" is invalid: expected a number from 1e-07 to 1");
  EXPECT_EQ(msg({{"method", "qlora"}}), "hyperparameter method=\"qlora\" is invalid: expected one of lora, full");
  EXPECT_EQ(msg({{"batchSize", ""}}), "hyperparameter batchSize=\"\" is invalid: expected an integer from 1 to 256");
  EXPECT_NE(msg({{"epochs", "2"}}).find("unknown hyperparameter \"epochs\" (known: epochCount, batchSize"), std::string::npos);
}

TEST(Hyperparameters, WorkersDefaultToOneAndNeedARecordOfEachBatch) {
  auto h = ParseHyperparameters({}, DefaultHyperparameterSpecs());
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->workers, 1);  // one process: no torch.distributed at all
  h = ParseHyperparameters({{"workers", "8"}, {"batchSize", "8"}}, DefaultHyperparameterSpecs());
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  EXPECT_EQ(h->workers, 8);
  EXPECT_EQ(ParseHyperparameters({{"workers", "9"}, {"batchSize", "8"}}, DefaultHyperparameterSpecs()).status().message(),
            "hyperparameter workers=9 exceeds batchSize=8: every worker needs at least one record of each batch");
  EXPECT_EQ(ParseHyperparameters({{"workers", "17"}, {"batchSize", "64"}}, DefaultHyperparameterSpecs()).status().message(),
            "hyperparameter workers=\"17\" is invalid: expected an integer from 1 to 16");
}

TEST(Hyperparameters, LoraTargetsNameModuleSets) {
  auto h = ParseHyperparameters({{"loraTargets", "all"}}, DefaultHyperparameterSpecs());
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  EXPECT_EQ(LoraTargetModules(h->lora_targets, {"q_proj"}).size(), 7u);
  EXPECT_EQ(LoraTargetModules("attention", {"q_proj"}),
            (std::vector<std::string>{"q_proj", "k_proj", "v_proj", "o_proj"}));
  EXPECT_EQ(LoraTargetModules("default", {"q_proj"}), std::vector<std::string>{"q_proj"});
  auto bad = ParseHyperparameters({{"loraTargets", "mlp"}}, DefaultHyperparameterSpecs());
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("loraTargets=\"mlp\""), std::string::npos) << bad.status().message();
}

}  // namespace
}  // namespace lathe::engine
