// lathe's trainer on the real stories260K model: a new domain (the banking sample) lowers the
// held-out loss; outputs follow PEFT's and Bedrock's formats; runs are reproducible.
#include "engine/trainer.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "core/env.h"
#include "data/split.h"
#include "engine/language_model.h"
#include "engine/llama2c_import.h"
#include "engine/safetensors.h"
#include "test_util.h"

namespace lathe::engine {
namespace {

using lathe::testing::ReadFile;
using lathe::testing::SharedDir;
using lathe::testing::TempDir;

struct Fixture {
  TempDir tmp;
  std::string model, train, validation;
  Fixture() {
    const std::string dir = SharedDir() + "/models/stories260K";
    model = tmp.File("stories");
    EXPECT_TRUE(ImportLlama2c(dir + "/stories260K.bin", dir + "/tok512.model", model).ok());
    data::SplitOptions o;
    o.seed = 3;
    o.out_dir = tmp.File("split");
    EXPECT_TRUE(data::SplitDataset(Env::Default(), std::string(LATHE_SOURCE_DIR) + "/samples/banking_support.jsonl", o).ok());
    train = tmp.File("split/train.jsonl");
    validation = tmp.File("split/validation.jsonl");
  }
  TrainRequest Request(const std::string& out) const {
    TrainRequest r;
    r.model_dir = model;
    r.train_file = train;
    r.validation_file = validation;
    r.out_dir = tmp.File(out);
    r.hyperparameters = {{"epochCount", "2"}, {"learningRate", "0.003"}, {"batchSize", "8"}, {"loraDropout", "0"}};
    return r;
  }
};

TEST(Trainer, LoraOnANewDomainLowersHeldOutLossAndWritesPeftFiles) {
  LATHE_REQUIRE_SHARED("models/stories260K");
  Fixture f;
  int progress_calls = 0;
  auto r = Train(f.Request("run"), [&](const TrainProgress& p) {
    ++progress_calls;
    EXPECT_LE(p.step, p.total_steps);
  }, nullptr);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->steps, 10);  // 40 records / batch 8 = 5 steps per epoch
  EXPECT_EQ(progress_calls, 10);
  EXPECT_LT(r->best_validation_loss, r->initial_validation_loss - 0.2);

  const std::string out = f.tmp.File("run");
  auto config = nlohmann::json::parse(ReadFile(out + "/adapter_config.json"));
  EXPECT_EQ(config["peft_type"], "LORA");
  EXPECT_EQ(config["r"], 8);
  EXPECT_EQ(config["target_modules"], nlohmann::json({"q_proj", "v_proj"}));
  std::string st = ReadFile(out + "/adapter_model.safetensors");
  SafetensorsHeader h;
  ASSERT_TRUE(ParseSafetensorsHeader(st, st.size(), "adapter", &h).ok());
  EXPECT_EQ(h.tensors.size(), 5u * 2 * 2);  // layers x modules x (A, B)
  const TensorInfo* a = h.Find("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight");
  const TensorInfo* b = h.Find("base_model.model.model.layers.4.self_attn.v_proj.lora_B.weight");
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(a->shape, (std::vector<int64_t>{8, 64}));  // [r, hidden]
  EXPECT_EQ(b->shape, (std::vector<int64_t>{32, 8}));  // [kv_heads * head_dim, r]

  std::string csv = ReadFile(out + "/training_artifacts/step_wise_training_metrics.csv");
  EXPECT_EQ(csv.substr(0, csv.find('\n')), "step_number,epoch_number,training_loss,perplexity");
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 11);
  std::string val = ReadFile(out + "/validation_artifacts/post_fine_tuning_validation/validation/validation_metrics.csv");
  EXPECT_EQ(std::count(val.begin(), val.end(), '\n'), 3);  // header + 2 epochs
}

TEST(Trainer, SameSeedSameLossesAndMergedModelLoads) {
  LATHE_REQUIRE_SHARED("models/stories260K");
  Fixture f;
  TrainRequest a = f.Request("a"), b = f.Request("b");
  b.save_merged = true;
  ASSERT_TRUE(Train(a, {}, nullptr).ok());
  ASSERT_TRUE(Train(b, {}, nullptr).ok());
  const std::string csv = "/training_artifacts/step_wise_training_metrics.csv";
  EXPECT_EQ(ReadFile(f.tmp.File("a") + csv), ReadFile(f.tmp.File("b") + csv));
  auto merged = LanguageModel::Load(f.tmp.File("b/model"));
  ASSERT_TRUE(merged.ok()) << merged.status().ToString();
  GenerationOptions o;
  o.max_tokens = 8;
  EXPECT_TRUE((*merged)->Generate({"How do I check my balance?"}, o).ok());
}

TEST(Trainer, FullFineTuningWritesAModel) {
  LATHE_REQUIRE_SHARED("models/stories260K");
  Fixture f;
  TrainRequest r = f.Request("full");
  r.hyperparameters["method"] = "full";
  r.hyperparameters["learningRate"] = "0.001";
  auto s = Train(r, {}, nullptr);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_LT(s->best_validation_loss, s->initial_validation_loss);
  EXPECT_TRUE(LanguageModel::Load(f.tmp.File("full/model")).ok());
}

TEST(Trainer, Fp32AndAutoPrecisionBothLearn) {
  LATHE_REQUIRE_SHARED("models/stories260K");
  Fixture f;
  TrainRequest fp32 = f.Request("fp32"), autop = f.Request("auto");
  fp32.hyperparameters["precision"] = "fp32";
  auto a = Train(fp32, {}, nullptr), b = Train(autop, {}, nullptr);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->precision, "fp32");
  EXPECT_TRUE(b->precision == "bf16" || b->precision == "fp32");  // bf16 where the CPU has AVX512_BF16
  EXPECT_LT(a->best_validation_loss, a->initial_validation_loss - 0.2);
  EXPECT_LT(b->best_validation_loss, b->initial_validation_loss - 0.2);
  EXPECT_NE(ReadFile(f.tmp.File("auto/training_summary.json")).find("\"precision\": \"" + b->precision + "\""),
            std::string::npos);
}

// An F32 tensor of a safetensors file's bytes, as floats.
std::vector<float> F32Tensor(const std::string& file, const std::string& name) {
  SafetensorsHeader h;
  EXPECT_TRUE(ParseSafetensorsHeader(file, file.size(), name, &h).ok());
  const TensorInfo* t = h.Find(name);
  EXPECT_NE(t, nullptr) << name;
  if (t == nullptr || t->dtype != DType::kF32) return {};
  std::vector<float> out(t->numel());
  std::memcpy(out.data(), file.data() + h.data_offset + t->begin, t->end - t->begin);
  return out;
}

TEST(Trainer, Bf16LoraMergesIntoTheBaseAsLoaded) {
  // LoRA in bf16 holds the frozen base in bf16; the merged model must still be the fp32 base
  // plus the adapter, saved as float32 like the base.
  LATHE_REQUIRE_SHARED("models/stories260K");
  Fixture f;
  TrainRequest r = f.Request("bf16");
  r.hyperparameters["precision"] = "bf16";
  r.hyperparameters["epochCount"] = "1";
  r.save_merged = true;
  auto s = Train(r, {}, nullptr);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->precision, "bf16");
  EXPECT_EQ(nlohmann::json::parse(ReadFile(f.tmp.File("bf16/model/config.json")))["torch_dtype"], "float32");
  const std::string base = ReadFile(f.model + "/model.safetensors");
  const std::string merged = ReadFile(f.tmp.File("bf16/model/model.safetensors"));
  const std::string adapter = ReadFile(f.tmp.File("bf16/adapter_model.safetensors"));
  const std::string q = "model.layers.2.self_attn.q_proj.weight", k = "model.layers.2.self_attn.k_proj.weight";
  const std::vector<float> w = F32Tensor(base, q), m = F32Tensor(merged, q);
  const std::vector<float> a = F32Tensor(adapter, "base_model.model." + q.substr(0, q.size() - 7) + ".lora_A.weight");
  const std::vector<float> b = F32Tensor(adapter, "base_model.model." + q.substr(0, q.size() - 7) + ".lora_B.weight");
  const size_t dim = 64, rank = 8;  // q_proj [64, 64], A [8, 64], B [64, 8]
  ASSERT_EQ(w.size(), dim * dim);
  ASSERT_EQ(m.size(), dim * dim);
  ASSERT_EQ(a.size(), rank * dim);
  ASSERT_EQ(b.size(), dim * rank);
  double max_err = 0, max_delta = 0;
  for (size_t i = 0; i < dim; ++i)
    for (size_t j = 0; j < dim; ++j) {
      double delta = 0;
      for (size_t k2 = 0; k2 < rank; ++k2) delta += static_cast<double>(b[i * rank + k2]) * a[k2 * dim + j];
      delta *= 16.0 / 8.0;  // alpha / rank
      max_delta = std::max(max_delta, std::abs(delta));
      max_err = std::max(max_err, std::abs(m[i * dim + j] - (w[i * dim + j] + delta)));
    }
  EXPECT_GT(max_delta, 1e-4);  // training moved the adapter
  EXPECT_LT(max_err, 1e-6);    // fp32 rounding only; a bf16 base would be off by ~1e-3
  EXPECT_EQ(F32Tensor(merged, k), F32Tensor(base, k));  // not adapted: the base's exact values
}

TEST(Trainer, ValidationEveryNSteps) {
  LATHE_REQUIRE_SHARED("models/stories260K");
  Fixture f;
  TrainRequest r = f.Request("val");
  r.hyperparameters["validationSteps"] = "2";
  ASSERT_TRUE(Train(r, {}, nullptr).ok());
  std::string val = ReadFile(f.tmp.File("val/validation_artifacts/post_fine_tuning_validation/validation/validation_metrics.csv"));
  // 10 steps, 5 per epoch: rows at steps 2, 4, 5 (epoch end), 6, 8, 10 (epoch end).
  EXPECT_EQ(std::count(val.begin(), val.end(), '\n'), 7) << val;
  EXPECT_NE(val.find("\n2,1,"), std::string::npos) << val;
  EXPECT_NE(val.find("\n5,1,"), std::string::npos) << val;
}

TEST(Trainer, BadHyperparametersAreRejectedBeforeAnyWork) {
  LATHE_REQUIRE_SHARED("models/stories260K");
  Fixture f;
  TrainRequest r = f.Request("bad");
  r.hyperparameters["learningRate"] = "2";
  auto s = Train(r, {}, nullptr);
  EXPECT_EQ(s.status().message(), "hyperparameter learningRate=\"2\" is invalid: expected a number from 1e-07 to 1");
  EXPECT_FALSE(std::filesystem::exists(f.tmp.File("bad")));
  r.hyperparameters["learningRate"] = "0.001";
  r.hyperparameters["maxSequenceLength"] = "4096";
  s = Train(r, {}, nullptr);
  EXPECT_NE(s.status().message().find("exceeds the model's context of 512"), std::string::npos) << s.status().message();
}

TEST(Trainer, StopFlagEndsTrainingAndKeepsTheOutputs) {
  LATHE_REQUIRE_SHARED("models/stories260K");
  Fixture f;
  std::atomic<bool> stop{false};
  auto s = Train(f.Request("stopped"), [&](const TrainProgress& p) {
    if (p.step == 3) stop = true;
  }, &stop);
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s->interrupted);
  EXPECT_EQ(s->steps, 3);
  EXPECT_TRUE(std::filesystem::exists(f.tmp.File("stopped/adapter_model.safetensors")));
}

TEST(Trainer, ResumingAfterAStopGivesTheUninterruptedRunExactly) {
  LATHE_REQUIRE_SHARED("models/stories260K");
  Fixture f;
  TrainRequest a = f.Request("whole"), b = f.Request("resumed");
  for (TrainRequest* r : {&a, &b}) {
    r->hyperparameters["checkpointSteps"] = "2";
    r->hyperparameters["loraDropout"] = "0.1";  // the dropout generator must be restored too
    r->hyperparameters["epochCount"] = "3";
  }
  ASSERT_TRUE(Train(a, {}, nullptr).ok());
  std::atomic<bool> stop{false};
  auto first = Train(b, [&](const TrainProgress& p) {
    if (p.step == 7) stop = true;  // mid-epoch 2; the last checkpoint is at step 6
  }, &stop);
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(first->interrupted);
  auto second = Train(b, {}, nullptr);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_FALSE(second->interrupted);
  EXPECT_EQ(second->steps, 15);
  for (const char* file : {"/training_artifacts/step_wise_training_metrics.csv",
                           "/validation_artifacts/post_fine_tuning_validation/validation/validation_metrics.csv",
                           "/adapter_model.safetensors"})
    EXPECT_EQ(ReadFile(f.tmp.File("whole") + file), ReadFile(f.tmp.File("resumed") + file)) << file;
  // A different job in the same folder is refused rather than mixed in.
  b.hyperparameters["learningRate"] = "0.002";
  auto other = Train(b, {}, nullptr);
  EXPECT_NE(other.status().message().find("holds a checkpoint of a different job"), std::string::npos)
      << other.status().message();
}

}  // namespace
}  // namespace lathe::engine
