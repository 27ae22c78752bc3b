// The engine Generator on the real stories260K checkpoint: a batch answers exactly as the same
// cases one at a time (greedy), prompts are rendered as InvokeModel renders them, a case too long
// for the context fails alone, and the reference loss is the hand-computed teacher-forced NLL.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <stdexcept>

#include "engine/language_model.h"
#include "engine/llama2c_import.h"
#include "eval/engine_generator.h"
#include "test_util.h"

namespace lathe::eval {
namespace {

using testing::SharedDir;
using testing::TempDir;

class EngineGeneratorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (SharedDir().empty()) GTEST_SKIP() << "../shared is absent: this test needs models/stories260K from it";
    const std::string src = SharedDir() + "/models/stories260K";
    auto imported = engine::ImportLlama2c(src + "/stories260K.bin", src + "/tok512.model", tmp_.File("m"));
    ASSERT_TRUE(imported.ok()) << imported.status().message();
    auto loaded = engine::LanguageModel::Load(tmp_.File("m"));
    ASSERT_TRUE(loaded.ok()) << loaded.status().message();
    model_ = std::shared_ptr<engine::LanguageModel>(std::move(*loaded));
    generator_ = EngineGenerator(model_);
  }

  static TestCase Prompt(const std::string& id, const std::string& text, const std::string& reference = "") {
    TestCase c;
    c.id = id;
    c.prompt = text;
    c.reference = reference;
    return c;
  }

  TempDir tmp_;
  std::shared_ptr<engine::LanguageModel> model_;
  std::shared_ptr<Generator> generator_;
};

TEST_F(EngineGeneratorTest, ABatchAnswersAsTheCasesOneByOne) {
  // Eight prompts of different lengths: the batch's shards (engine calls) hold several each, so
  // padding and the batch's other sequences are exercised.
  const std::vector<TestCase> cases = {
      Prompt("a", "Once upon a time"), Prompt("b", "The cat"), Prompt("c", "Lily went to the park and saw a big"),
      Prompt("d", "One day"),          Prompt("e", "Tom had a red ball. He"), Prompt("f", "The sun"),
      Prompt("g", "Mom said"),         Prompt("h", "There was a little dog who liked to play in the")};
  GenerationSettings s;
  s.max_tokens = 24;
  s.temperature = 0;
  std::vector<const TestCase*> all;
  for (const auto& c : cases) all.push_back(&c);
  auto batched = generator_->Generate(all, s);
  ASSERT_TRUE(batched.ok()) << batched.status().message();
  ASSERT_EQ(batched->size(), cases.size());
  for (size_t i = 0; i < cases.size(); ++i) {
    auto one = generator_->Generate({&cases[i]}, s);
    ASSERT_TRUE(one.ok());
    const Answer& a = (*batched)[i];
    EXPECT_TRUE(a.ok) << a.error;
    EXPECT_EQ(a.text, (*one)[0].text) << cases[i].prompt;
    EXPECT_EQ(a.output_tokens, (*one)[0].output_tokens);
    EXPECT_EQ(a.stop_reason, (*one)[0].stop_reason);
    // The prompt is sent verbatim, as InvokeModel sends a Titan inputText.
    engine::GenerationOptions o;
    o.max_tokens = 24;
    auto direct = model_->Generate({cases[i].prompt}, o);
    ASSERT_TRUE(direct.ok());
    EXPECT_EQ(a.text, (*direct)[0].text);
  }
  // Sampled, a batch repeats exactly (each case samples from its own seed).
  s.temperature = 0.9;
  s.seed = 3;
  auto x = generator_->Generate(all, s), y = generator_->Generate(all, s);
  ASSERT_TRUE(x.ok() && y.ok());
  for (size_t i = 0; i < cases.size(); ++i) EXPECT_EQ((*x)[i].text, (*y)[i].text) << i;
  // The checkpoint's golden greedy continuation (README.txt in ../shared).
  EXPECT_EQ((*batched)[0].text.rfind(", there was a little girl named Lily.", 0), 0u) << (*batched)[0].text;
}

TEST_F(EngineGeneratorTest, SettingsReachTheEngine) {
  const TestCase c = Prompt("a", "Once upon a time");
  GenerationSettings s;
  s.max_tokens = 20;
  s.stop_sequences = {"Lily"};
  auto r = generator_->Generate({&c}, s);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[0].text, ", there was a little girl named ");
  EXPECT_EQ((*r)[0].stop_reason, "stop_sequence");
  s.stop_sequences.clear();
  s.max_tokens = 5;
  r = generator_->Generate({&c}, s);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[0].output_tokens, 5);
  EXPECT_EQ((*r)[0].stop_reason, "length");
  // Sampling is reproducible for a seed.
  s.temperature = 0.9;
  s.max_tokens = 16;
  s.seed = 42;
  auto x = generator_->Generate({&c}, s), y = generator_->Generate({&c}, s);
  ASSERT_TRUE(x.ok() && y.ok());
  EXPECT_EQ((*x)[0].text, (*y)[0].text);
}

TEST_F(EngineGeneratorTest, AChatIsRenderedInTheModelsFormatAndTrimmed) {
  TestCase chat;
  chat.id = "chat";
  chat.messages = {{"user", "Tell me a story."}};
  GenerationSettings s;
  s.max_tokens = 16;
  auto r = generator_->Generate({&chat}, s);
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE((*r)[0].ok) << (*r)[0].error;
  auto rendered = text::RenderChat(model_->chat_template(), chat.messages, true);
  ASSERT_TRUE(rendered.ok());
  engine::GenerationOptions o;
  o.max_tokens = 16;
  o.stop_sequences = text::ChatStopSequences(model_->chat_template());
  auto direct = model_->Generate({*rendered}, o);
  ASSERT_TRUE(direct.ok());
  std::string expected = (*direct)[0].text;
  expected.erase(0, expected.find_first_not_of(" \t\r\n"));
  EXPECT_EQ((*r)[0].text.substr(0, 8), expected.substr(0, 8));
  EXPECT_TRUE((*r)[0].text.empty() || (*r)[0].text[0] != ' ');
}

TEST_F(EngineGeneratorTest, ACaseTooLongForTheContextFailsAlone) {
  std::string longer;
  for (int i = 0; i < 700; ++i) longer += "cat ";
  const std::vector<TestCase> cases = {Prompt("ok", "Once upon a time"), Prompt("long", longer)};
  GenerationSettings s;
  s.max_tokens = 8;
  auto r = generator_->Generate({&cases[0], &cases[1]}, s);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_TRUE((*r)[0].ok);
  EXPECT_FALSE((*r)[1].ok);
  EXPECT_NE((*r)[1].error.find("the model's context is 512"), std::string::npos) << (*r)[1].error;
  EXPECT_EQ((*r)[1].stop_reason, "error");
  // Nor has it a reference loss.
  TestCase with_ref = cases[1];
  with_ref.reference = "The end.";
  EXPECT_FALSE(generator_->LossOfReference(with_ref).has_value());
}

TEST_F(EngineGeneratorTest, ReferenceLossIsTheTeacherForcedNllOfTheReference) {
  const TestCase c = Prompt("a", "Once upon a time", ", there was a little girl named Lily.");
  auto loss = generator_->LossOfReference(c);
  ASSERT_TRUE(loss.has_value());
  EXPECT_TRUE(std::isfinite(loss->mean_nll));
  // By hand: BOS, the prompt's tokens, the reference's tokens; the logits of each position
  // before a reference token give that token's log-probability.
  std::vector<int> prompt, ref;
  ASSERT_TRUE(model_->tokenizer().Encode(c.prompt, &prompt).ok());
  ASSERT_TRUE(model_->tokenizer().Encode(c.reference, &ref).ok());
  std::vector<int> ids = {static_cast<int>(model_->config().bos_token_id)};
  ids.insert(ids.end(), prompt.begin(), prompt.end());
  const size_t start = ids.size();
  ids.insert(ids.end(), ref.begin(), ref.end());
  auto logits = model_->Logits(ids);
  ASSERT_TRUE(logits.ok());
  const size_t V = static_cast<size_t>(model_->config().vocab_size);
  long double sum = 0;
  for (size_t t = start; t < ids.size(); ++t) {
    long double z = 0;
    for (size_t v = 0; v < V; ++v) z += std::exp(static_cast<long double>((*logits)[(t - 1) * V + v]));
    sum += std::log(z) - (*logits)[(t - 1) * V + static_cast<size_t>(ids[t])];
  }
  EXPECT_EQ(loss->tokens, static_cast<int>(ref.size()));
  EXPECT_NEAR(loss->mean_nll, static_cast<double>(sum / ref.size()), 1e-9);
  // The model's own greedy continuation is likelier than a reversed one.
  const TestCase odd = Prompt("b", "Once upon a time", " Lily named girl little a was there,");
  EXPECT_LT(loss->mean_nll, generator_->LossOfReference(odd)->mean_nll);
  EXPECT_FALSE(generator_->LossOfReference(Prompt("c", "x")).has_value());  // no reference
}

// A sampled case's answer depends on the run's seed and the case alone: not on the batch size,
// the batch's other cases or how many workers split it. Before, the engine seeded sequence b of
// a call with seed + k*b, so the answers changed with --batch-size and the whole run drew from
// a handful of streams (two cases with the same prompt got the same sample).
TEST_F(EngineGeneratorTest, SampledAnswersDependOnTheCaseNotTheBatchOrTheWorkers) {
  std::vector<TestCase> cases;
  const char* prompts[] = {"Once upon a time", "The cat", "Once upon a time", "One day", "Tom had a red ball. He",
                           "The sun", "Once upon a time", "Mom said", "There was a little dog"};
  for (size_t i = 0; i < std::size(prompts); ++i) {
    cases.push_back(Prompt("q" + std::to_string(i), prompts[i]));
    cases.back().line = i + 1;
  }
  GenerationSettings s;
  s.max_tokens = 24;
  s.temperature = 1.0;
  s.seed = 11;
  auto answer = [&](size_t batch_size, const char* workers) {
    setenv("LATHE_EVAL_WORKERS", workers, 1);
    std::vector<std::string> out;
    for (size_t start = 0; start < cases.size(); start += batch_size) {
      std::vector<const TestCase*> batch;
      for (size_t i = start; i < std::min(cases.size(), start + batch_size); ++i) batch.push_back(&cases[i]);
      auto r = generator_->Generate(batch, s);
      EXPECT_TRUE(r.ok()) << r.status().message();
      if (!r.ok()) return out;
      for (const Answer& a : *r) out.push_back(a.text);
    }
    unsetenv("LATHE_EVAL_WORKERS");
    return out;
  };
  const std::vector<std::string> reference = answer(8, "4");
  ASSERT_EQ(reference.size(), cases.size());
  EXPECT_EQ(answer(1, "1"), reference);
  EXPECT_EQ(answer(3, "4"), reference);
  EXPECT_EQ(answer(8, "1"), reference);
  EXPECT_EQ(answer(3, "2"), reference);
  // The same prompt on three lines: three different samples.
  EXPECT_NE(reference[0], reference[2]);
  EXPECT_NE(reference[0], reference[6]);
  EXPECT_NE(reference[2], reference[6]);
  // Another run seed, other samples.
  s.seed = 12;
  EXPECT_NE(answer(8, "4"), reference);
}

// Latency of a batched case: from the batch's start to its own last token: positive, and never
// later than the whole call (it used to be the call's time divided by the batch size).
TEST_F(EngineGeneratorTest, EachCasesLatencyEndsAtItsOwnLastToken) {
  std::vector<TestCase> cases;
  for (int i = 0; i < 8; ++i) cases.push_back(Prompt("q" + std::to_string(i), "Once upon a time"));
  GenerationSettings s;
  s.max_tokens = 48;
  s.stop_sequences = {"Lily"};  // the greedy answer stops at its 8th token or so, on every case
  std::vector<const TestCase*> all;
  for (const auto& c : cases) all.push_back(&c);
  cases[7].prompt = "There was a little dog who liked to play in the";  // runs to max tokens
  const auto t0 = std::chrono::steady_clock::now();
  auto r = generator_->Generate(all, s);
  const double wall_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_TRUE(r.ok()) << r.status().message();
  for (const Answer& a : *r) {
    EXPECT_GT(a.latency_ms, 0);
    EXPECT_LE(a.latency_ms, wall_ms + 1);
  }
  EXPECT_EQ((*r)[0].stop_reason, "stop_sequence");
  EXPECT_EQ((*r)[7].stop_reason, "length");
  // (Which case finishes first is timing, which unit tests do not assert on: bench/ measures.)
}

// A model whose engine calls throw (as torch does on out-of-memory): the batch fails with the
// message, the loss is absent, and nothing ends the process, whichever worker threw.
class ThrowingModel : public engine::LanguageModel {
 public:
  explicit ThrowingModel(std::shared_ptr<engine::LanguageModel> inner) : inner_(std::move(inner)) {}
  std::unique_ptr<engine::LanguageModel> NewInstance() const override {
    return std::make_unique<ThrowingModel>(std::shared_ptr<engine::LanguageModel>(inner_->NewInstance()));
  }
  int64_t WeightBytes() const override { return inner_->WeightBytes(); }
  long WeightUsers() const override { return inner_->WeightUsers(); }
  const engine::ModelConfig& config() const override { return inner_->config(); }
  const text::Tokenizer& tokenizer() const override { return inner_->tokenizer(); }
  text::ChatTemplate chat_template() const override { return inner_->chat_template(); }
  Result<std::vector<int>> EncodePrompt(const std::string& prompt,
                                        const engine::GenerationOptions& options) const override {
    return inner_->EncodePrompt(prompt, options);
  }
  Result<std::vector<engine::GenerationResult>> Generate(const std::vector<std::string>& prompts,
                                                         const engine::GenerationOptions& options,
                                                         const engine::TextCallback& on_text) override {
    return inner_->Generate(prompts, options, on_text);  // AddsBos asks once; it must work
  }
  Result<std::vector<engine::GenerationResult>> GenerateTokens(const std::vector<std::vector<int>>&,
                                                               const engine::GenerationOptions&,
                                                               const engine::TextCallback&) override {
    throw std::runtime_error("CUDA out of memory (pretend)");
  }
  Result<std::vector<float>> Logits(const std::vector<int>&) override { throw std::runtime_error("no logits"); }
  Status Save(const std::string& dir) const override { return inner_->Save(dir); }

 private:
  std::shared_ptr<engine::LanguageModel> inner_;
};

TEST_F(EngineGeneratorTest, AnEngineThatThrowsFailsTheBatchNotTheProcess) {
  auto throwing = EngineGenerator(std::make_shared<ThrowingModel>(model_));
  std::vector<TestCase> cases;
  for (int i = 0; i < 8; ++i) cases.push_back(Prompt("q" + std::to_string(i), "Once upon a time", "The end."));
  std::vector<const TestCase*> all;
  for (const auto& c : cases) all.push_back(&c);
  GenerationSettings s;
  s.max_tokens = 4;
  for (const char* workers : {"4", "1"}) {
    setenv("LATHE_EVAL_WORKERS", workers, 1);
    auto r = throwing->Generate(all, s);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find("CUDA out of memory (pretend)"), std::string::npos) << r.status().message();
  }
  unsetenv("LATHE_EVAL_WORKERS");
  EXPECT_FALSE(throwing->LossOfReference(cases[0]).has_value());
  // And the run goes on: Evaluate records every case as failed.
  TestSet set;
  set.source = "t.jsonl";
  set.cases = cases;
  ModelUnderTest m;
  m.label = "throws";
  m.generator = throwing;
  RunOptions o;
  o.settings.max_tokens = 4;
  auto run = Evaluate(set, {m}, o);
  ASSERT_TRUE(run.ok()) << run.status().message();
  EXPECT_EQ(run->models[0].failed, cases.size());
}

}  // namespace
}  // namespace lathe::eval
