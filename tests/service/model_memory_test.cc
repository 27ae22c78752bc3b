// Served models' memory (ModelMemory) on the real stories260K model: pools of one model share one
// set of weights, deleting gives the memory back, a pool beyond the budget is refused at once,
// and shared instances generate what a separately loaded model does. Then the same through
// ThroughputService: 16-unit provisioned throughputs created and deleted over and over.
#include "service/model_memory.h"

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "engine/gemv_kernels.h"
#include "engine/llama2c_import.h"
#include "service/bedrock_service.h"
#include "service/served_model.h"
#include "test_util.h"

namespace lathe::service {
namespace {

using lathe::testing::Eventually;
using lathe::testing::SharedDir;
using lathe::testing::TempDir;

// stories260K as a model directory under tmp; "" (and the test skips) without ../shared.
std::string ImportStories(const TempDir& tmp) {
  if (SharedDir().empty()) return "";
  const std::string stories = SharedDir() + "/models/stories260K";
  auto imported = engine::ImportLlama2c(stories + "/stories260K.bin", stories + "/tok512.model", tmp.File("stories"));
  EXPECT_TRUE(imported.ok()) << imported.status().ToString();
  return tmp.File("stories");
}

std::vector<int> Greedy(engine::LanguageModel& m, const std::string& prompt) {
  auto r = m.Generate({prompt}, {.max_tokens = 32});
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? (*r)[0].tokens : std::vector<int>{};
}

TEST(ModelMemory, PoolsOfOneModelShareItsWeightsAndDeletingFreesThem) {
  LATHE_REQUIRE_SHARED("models/stories260K");
  TempDir tmp;
  const std::string dir = ImportStories(tmp);
  auto config = ReadModelConfig(dir);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  const engine::MemoryNeed need = engine::EstimateMemory(*config);

  ModelMemory memory(int64_t{1} << 30);
  auto r1 = memory.Reserve(dir, *config, 16);
  ASSERT_TRUE(r1.ok()) << r1.status().ToString();
  auto p1 = memory.LoadPool(*r1, 16);
  ASSERT_TRUE(p1.ok()) << p1.status().ToString();
  // Through another spelling of the same directory: still the same model.
  auto r2 = memory.Reserve(tmp.path() + "/./stories", *config, 16);
  ASSERT_TRUE(r2.ok()) << r2.status().ToString();
  auto p2 = memory.LoadPool(*r2, 16);
  ASSERT_TRUE(p2.ok()) << p2.status().ToString();

  EXPECT_EQ(&(*p1)->shared_model(), &(*p2)->shared_model());
  // One set: 32 slots on it, and each pool's batch of its slots (continuous batching).
  EXPECT_EQ((*p1)->shared_model().WeightUsers(), 1 + 16 + 16 + 2);
  EXPECT_EQ(memory.loaded_weight_sets(), 1);
  EXPECT_EQ(memory.used_bytes(), need.weight_bytes + 32 * need.kv_bytes_per_sequence);

  // Slots of both pools generate at once, as a model loaded on its own does.
  auto separate = engine::LanguageModel::Load(dir);
  ASSERT_TRUE(separate.ok());
  const std::vector<int> expected = Greedy(**separate, "Once upon a time");
  std::vector<int> got1, got2;
  {
    auto l1 = (*p1)->Acquire();
    auto l2 = (*p2)->Acquire();
    ASSERT_TRUE(l1.ok() && l2.ok());
    std::thread t1([&] { got1 = Greedy(l1->model(), "Once upon a time"); });
    std::thread t2([&] { got2 = Greedy(l2->model(), "Once upon a time"); });
    t1.join();
    t2.join();
  }
  EXPECT_EQ(got1, expected);
  EXPECT_EQ(got2, expected);

  std::unique_ptr<engine::LanguageModel> witness = (*p2)->shared_model().NewInstance();
  p1 = Status::NotFound("");
  r1 = Status::NotFound("");
  EXPECT_EQ(memory.used_bytes(), need.weight_bytes + 16 * need.kv_bytes_per_sequence);
  p2 = Status::NotFound("");
  r2 = Status::NotFound("");
  EXPECT_EQ(memory.used_bytes(), 0);
  EXPECT_EQ(memory.loaded_weight_sets(), 0);
  EXPECT_EQ(witness->WeightUsers(), 1);  // nothing else (no cache) keeps the weights alive
}

// The same files held in q8_0 are a second weight set: its pool generates from the compact
// weights, and the f32 pool is untouched.
TEST(ModelMemory, AModelInAnotherWeightPrecisionIsItsOwnWeightSet) {
  LATHE_REQUIRE_SHARED("models/stories260K");
  TempDir tmp;
  const std::string dir = ImportStories(tmp);
  auto config = ReadModelConfig(dir);
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  ModelMemory memory(int64_t{1} << 30);
  auto rf = memory.Reserve(dir, *config, 1);
  auto rq = memory.Reserve(dir, *config, 1, engine::WeightPrecision::kQ8_0);
  ASSERT_TRUE(rf.ok() && rq.ok());
  auto pf = memory.LoadPool(*rf, 1);
  auto pq = memory.LoadPool(*rq, 1);
  ASSERT_TRUE(pf.ok() && pq.ok()) << pq.status().ToString();
  EXPECT_EQ(memory.loaded_weight_sets(), 2);
  EXPECT_EQ((*pf)->shared_model().weight_precision(), engine::WeightPrecision::kF32);
  EXPECT_EQ((*pq)->shared_model().weight_precision(), engine::WeightPrecision::kQ8_0);
  // q8_0 holds less than f32 where the AVX-512 kernels run (the fused f32 matrices are dropped),
  // more elsewhere (the compact copies come on top); counted either way.
  if (engine::GemvVectorKernels()) {
    EXPECT_LT((*pq)->shared_model().WeightBytes(), (*pf)->shared_model().WeightBytes());
  } else {
    EXPECT_GT((*pq)->shared_model().WeightBytes(), (*pf)->shared_model().WeightBytes());
  }
  // The budget is charged before loading with what the compact model will hold (within the slack
  // of stories260K's 172-wide down matrices, held as bf16 rather than q8_0).
  const double estimate =
      static_cast<double>(engine::EstimateMemory(*config, engine::WeightPrecision::kQ8_0).weight_bytes);
  EXPECT_NEAR(estimate, static_cast<double>((*pq)->shared_model().WeightBytes()), 0.05 * estimate);
  auto q8 = (*pq)->shared_model().NewInstance();
  EXPECT_FALSE(Greedy(*q8, "Once upon a time").empty());
}

TEST(WeightPrecisionFor, ThePreciseNameWinsThenTheWildcardThenF32) {
  const std::map<std::string, std::string> table = {
      {"arn:aws:bedrock:us-east-1:123456789012:custom-model/m", "q8_0"}, {"lathe.default-v1", "bf16"}, {"*", "bf16"}};
  EXPECT_EQ(WeightPrecisionFor(table, {"arn:aws:bedrock:us-east-1:123456789012:custom-model/m", "lathe.default-v1"}),
            engine::WeightPrecision::kQ8_0);
  EXPECT_EQ(WeightPrecisionFor(table, {"", "lathe.default-v1"}), engine::WeightPrecision::kBf16);
  EXPECT_EQ(WeightPrecisionFor(table, {"other"}), engine::WeightPrecision::kBf16);
  EXPECT_EQ(WeightPrecisionFor({}, {"other"}), engine::WeightPrecision::kF32);
}

TEST(ModelMemory, APoolBeyondTheBudgetIsRefusedBeforeLoading) {
  LATHE_REQUIRE_SHARED("models/stories260K");
  TempDir tmp;
  const std::string dir = ImportStories(tmp);
  auto config = ReadModelConfig(dir);
  ASSERT_TRUE(config.ok());
  const engine::MemoryNeed need = engine::EstimateMemory(*config);
  ModelMemory memory(need.weight_bytes + 3 * need.kv_bytes_per_sequence);

  auto too_many = memory.Reserve(dir, *config, 4);
  ASSERT_FALSE(too_many.ok());
  EXPECT_EQ(too_many.status().code(), Status::Code::kQuotaExceeded);
  EXPECT_NE(too_many.status().message().find("modelMemoryBytes"), std::string::npos) << too_many.status().message();
  EXPECT_NE(too_many.status().message().find(dir), std::string::npos);
  EXPECT_EQ(memory.used_bytes(), 0);

  auto three = memory.Reserve(dir, *config, 3);
  ASSERT_TRUE(three.ok()) << three.status().ToString();
  auto one_more = memory.Reserve(dir, *config, 1);  // the weights are shared, but its KV cache does not fit
  ASSERT_FALSE(one_more.ok());
  EXPECT_EQ(one_more.status().code(), Status::Code::kQuotaExceeded);
  three = Status::NotFound("");
  EXPECT_TRUE(memory.Reserve(dir, *config, 1).ok());
}

TEST(ModelMemory, AModelRewrittenInPlaceLoadsAfresh) {
  LATHE_REQUIRE_SHARED("models/stories260K");
  TempDir tmp;
  const std::string dir = ImportStories(tmp);
  auto config = ReadModelConfig(dir);
  ASSERT_TRUE(config.ok());
  ModelMemory memory(int64_t{1} << 30);
  auto old_reservation = memory.Reserve(dir, *config, 1);
  ASSERT_TRUE(old_reservation.ok());
  auto old_pool = memory.LoadPool(*old_reservation, 1);
  ASSERT_TRUE(old_pool.ok());
  const auto file = std::filesystem::path(dir) / "model.safetensors";
  std::filesystem::last_write_time(file, std::filesystem::last_write_time(file) + std::chrono::seconds(5));
  auto new_reservation = memory.Reserve(dir, *config, 1);
  ASSERT_TRUE(new_reservation.ok());
  auto new_pool = memory.LoadPool(*new_reservation, 1);
  ASSERT_TRUE(new_pool.ok());
  EXPECT_NE(&(*old_pool)->shared_model(), &(*new_pool)->shared_model());
  EXPECT_EQ(memory.loaded_weight_sets(), 2);
}

TEST(ModelMemory, AReservationMadeBeforeTheModelExistsCoversItOnceBuilt) {
  LATHE_REQUIRE_SHARED("models/stories260K");
  TempDir tmp, later;
  const std::string built = ImportStories(tmp);
  auto config = ReadModelConfig(built);
  ASSERT_TRUE(config.ok());
  const engine::MemoryNeed need = engine::EstimateMemory(*config);
  ModelMemory memory(int64_t{1} << 30);
  // As for the built-in default model before its first build: reserved on its planned config.
  const std::string dir = later.File("default");
  auto reservation = memory.Reserve(dir, *config, 2);
  ASSERT_TRUE(reservation.ok()) << reservation.status().ToString();
  std::filesystem::copy(built, dir);
  auto pool = memory.LoadPool(*reservation, 2);
  ASSERT_TRUE(pool.ok()) << pool.status().ToString();
  EXPECT_EQ(memory.loaded_weight_sets(), 1);  // the claim moved to the files now there
  EXPECT_EQ(memory.used_bytes(), need.weight_bytes + 2 * need.kv_bytes_per_sequence);
  auto again = memory.Reserve(dir, *config, 1);  // shares them
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(memory.used_bytes(), need.weight_bytes + 3 * need.kv_bytes_per_sequence);
  pool = Status::NotFound("");
  reservation = Status::NotFound("");
  again = Status::NotFound("");
  EXPECT_EQ(memory.used_bytes(), 0);
  EXPECT_EQ(memory.loaded_weight_sets(), 0);
}

TEST(ModelMemory, ProvisionedThroughputCreatedAndDeletedRepeatedlyHoldsOneModelAtMost) {
  LATHE_REQUIRE_SHARED("models/stories260K");
  TempDir tmp;
  const std::string dir = ImportStories(tmp);
  auto model_config = ReadModelConfig(dir);
  ASSERT_TRUE(model_config.ok());
  const engine::MemoryNeed need = engine::EstimateMemory(*model_config);
  ServiceConfig config;
  config.data_dir = tmp.File("data");
  config.models["acme.stories"] = dir;
  config.model_memory_bytes = need.weight_bytes + 20 * need.kv_bytes_per_sequence;
  auto service = BedrockService::Open(config);
  ASSERT_TRUE(service.ok()) << service.status().ToString();
  ThroughputService& throughput = (*service)->throughput();
  ModelMemory& memory = (*service)->model_memory();

  for (int round = 0; round < 14; ++round) {
    // The last round's loader lets go of its share just after installing the pool.
    ASSERT_TRUE(Eventually([&] { return memory.used_bytes() == 0; })) << memory.used_bytes();
    auto created = throughput.Create(
        {{"provisionedModelName", "pt" + std::to_string(round)}, {"modelUnits", 16}, {"modelId", "acme.stories"}});
    ASSERT_TRUE(created.ok()) << created.status().ToString();
    const std::string arn = (*created)["provisionedModelArn"];
    ASSERT_TRUE(Eventually([&] { return throughput.Get(arn)->value("status", "") != "Creating"; }));
    ASSERT_EQ(throughput.Get(arn)->value("status", ""), "InService") << throughput.Get(arn)->dump();
    EXPECT_EQ(memory.used_bytes(), need.weight_bytes + 16 * need.kv_bytes_per_sequence);

    // A second 16 units would need 16 more KV caches: refused now, not failed later.
    auto second = throughput.Create({{"provisionedModelName", "extra"}, {"modelUnits", 16}, {"modelId", "acme.stories"}});
    ASSERT_FALSE(second.ok());
    EXPECT_EQ(second.status().code(), Status::Code::kQuotaExceeded) << second.status().ToString();
    EXPECT_EQ(throughput.Get("extra").status().code(), Status::Code::kNotFound);  // nothing was created

    ASSERT_TRUE(throughput.Delete(arn).ok());
  }
  // Every loader finished and was joined (none kept until shutdown), and all memory came back.
  EXPECT_TRUE(Eventually([&] { return throughput.loader_threads() == 0; }));
  EXPECT_EQ(memory.used_bytes(), 0);
  EXPECT_EQ(memory.loaded_weight_sets(), 0);
}

}  // namespace
}  // namespace lathe::service
