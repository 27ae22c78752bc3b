// `lathe demo`: a guided tour on the built-in banking-support sample. Each step prints the command
// a user would type and runs exactly that command, so the demo doubles as a smoke test.
#include <cstdio>
#include <filesystem>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/model_resolution.h"
#include "core/env.h"
#include "engine/default_model.h"
#include "engine/language_model.h"

namespace lathe::cli {

std::string_view builtin_sample_jsonl();  // generated from samples/banking_support.jsonl

namespace {

// The sample with a few typical mistakes planted at known lines, so the validator has something
// to find: a missing field, broken JSON, an empty prompt and a record in another format.
std::string BrokenCopy(std::string_view sample) {
  std::vector<std::string> lines;
  std::istringstream in{std::string(sample)};
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  lines[2] = R"({"prompt": "How do I report a lost or stolen card?"})";
  lines[6] = R"({"prompt": "How do I dispute a charge?", "completion": "Open the transaction and choose Dispute.)";
  lines[11] = R"({"prompt": "   ", "completion": "Sign in to online banking, open the account and choose Statements."})";
  lines[19] = R"({"messages": [{"role": "user", "content": "What happens if I miss a loan payment?"}, {"role": "assistant", "content": "A late fee applies after 15 days."}]})";
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

struct Step {
  std::string title;
  std::vector<std::string> args;  // after "lathe"
  int expected_exit = kExitOk;
};

int RunStep(const Step& s, int number) {
  std::string shown = "lathe";
  for (const auto& a : s.args) shown += " " + a;
  std::printf("\n── Step %d: %s\n$ %s\n", number, s.title.c_str(), shown.c_str());
  std::fflush(stdout);
  std::vector<const char*> argv = {"lathe"};
  for (const auto& a : s.args) argv.push_back(a.c_str());
  int rc = RunLathe(static_cast<int>(argv.size()), argv.data());
  std::fflush(stdout);
  if (rc != s.expected_exit) {
    std::fprintf(stderr, "lathe demo: step %d exited %d, expected %d\n", number, rc, s.expected_exit);
    return rc == kExitOk ? kExitBadInput : rc;
  }
  if (rc != kExitOk) std::printf("(exit code %d, as expected)\n", rc);
  return kExitOk;
}

struct DemoOptions {
  std::string dir = "lathe-demo";
  bool data_only = false;
  uint64_t default_max_records = 48000;
};

// The first `n` prompts of a JSONL file of prompt/completion records.
std::vector<std::string> FirstPrompts(const std::string& path, size_t n) {
  std::vector<std::string> out;
  std::string text;
  if (!ReadFileToString(Env::Default(), path, &text).ok()) return out;
  std::istringstream in(text);
  for (std::string line; out.size() < n && std::getline(in, line);) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_object() && j.contains("prompt")) out.push_back(j["prompt"].get<std::string>());
  }
  return out;
}

// Base and fine-tuned answers to the same held-out questions, one under the other.
int CompareAnswers(const std::string& base_dir, const std::string& tuned_dir, const std::vector<std::string>& prompts) {
  auto base = engine::LanguageModel::Load(base_dir);
  auto tuned = engine::LanguageModel::Load(tuned_dir);
  if (!base.ok()) return ReportError(base.status());
  if (!tuned.ok()) return ReportError(tuned.status());
  engine::GenerationOptions o;  // sampled (seeded): greedy decoding loops on a model this small
  o.max_tokens = 48;
  o.temperature = 0.7f;
  o.top_p = 0.9f;
  o.seed = 1;
  o.stop_sequences = {"\n"};
  auto a = (*base)->Generate(prompts, o);
  auto b = (*tuned)->Generate(prompts, o);
  if (!a.ok()) return ReportError(a.status());
  if (!b.ok()) return ReportError(b.status());
  for (size_t i = 0; i < prompts.size(); ++i)
    std::printf("\n  Q: %s\n  base model : %s\n  fine-tuned : %s\n", prompts[i].c_str(), (*a)[i].text.c_str(),
                (*b)[i].text.c_str());
  return kExitOk;
}

int RunDemo(const DemoOptions& opt) {
  const std::string& dir = opt.dir;
  Env* env = Env::Default();
  if (Status s = env->CreateDirs(dir); !s.ok()) return ReportError(s);
  const std::string good = dir + "/banking_support.jsonl";
  const std::string broken = dir + "/banking_support_broken.jsonl";
  const std::string split = dir + "/split";
  if (Status s = WriteFileAtomically(env, good, builtin_sample_jsonl()); !s.ok()) return ReportError(s);
  if (Status s = WriteFileAtomically(env, broken, BrokenCopy(builtin_sample_jsonl())); !s.ok())
    return ReportError(s);

  std::printf("lathe demo: preparing a fine-tuning dataset, as in the Bedrock tutorial, on your machine.\n"
              "Files are written to %s/.\n", dir.c_str());
  const std::vector<Step> steps = {
      {"validate a file with mistakes: every problem is reported at its line and field",
       {"data", "validate", broken}, kExitBadInput},
      {"validate the clean sample against Titan Text Express's limits",
       {"data", "validate", good, "--model", "amazon.titan-text-express-v1"}},
      {"look at lengths, duplicates and balance", {"data", "stats", good}},
      {"split 80/20, reproducibly (same seed, same bytes), with a manifest for lineage",
       {"data", "split", good, "--train", "0.8", "--seed", "42", "--out-dir", split, "--force"}},
      {"check both halves before training",
       {"data", "validate", split + "/train.jsonl", "--validation", split + "/validation.jsonl"}},
      {"estimate what the same job would cost on Bedrock",
       {"data", "estimate", split + "/train.jsonl", "--epochs", "3"}},
  };
  for (size_t i = 0; i < steps.size(); ++i)
    if (int rc = RunStep(steps[i], static_cast<int>(i) + 1); rc != kExitOk) return rc;
  if (opt.data_only) {
    std::printf("\n── Done (--data-only). The dataset is ready in %s.\n", split.c_str());
    return kExitOk;
  }

  // Fine-tuning, on the built-in default model (built once, a few minutes, then cached).
  const std::string home = engine::DefaultDataDir();
  std::printf("\n── Step %zu: the built-in default model (built once into %s, then reused)\n$ lathe models build-default\n",
              steps.size() + 1, home.c_str());
  std::fflush(stdout);
  auto model = EnsureDefaultModelWithProgress({"", opt.default_max_records});
  if (!model.ok()) return ReportError(model.status());
  std::printf("  %s (held-out perplexity %.1f)\n", model->dir.c_str(), model->heldout_perplexity);

  const std::string run = dir + "/run";
  const std::vector<Step> train_steps = {
      {"fine-tune it with LoRA on the training half; the loss goes down",
       {"train", "--model", model->dir, "--train", split + "/train.jsonl", "--validation", split + "/validation.jsonl",
        "--out", run, "--merged", "--set", "epochCount=8", "--set", "learningRate=0.005", "--set", "loraRank=16",
        "--set", "batchSize=8", "--lora-targets", "q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj"}},
  };
  if (int rc = RunStep(train_steps[0], static_cast<int>(steps.size()) + 2); rc != kExitOk) return rc;
  std::printf("\n── Step %zu: questions from the held-out half, answered by both models\n", steps.size() + 3);
  if (int rc = CompareAnswers(model->dir, run + "/model", FirstPrompts(split + "/validation.jsonl", 3)); rc != kExitOk)
    return rc;

  std::printf(
      "\n── Done. Dataset: %s; adapter, metrics and merged model: %s.\n"
      "Next, as lathe grows: serve the custom model and invoke it like Bedrock Runtime (lathe serve),\n"
      "evaluate base and fine-tuned models with reports, and automate retraining when new data arrives.\n",
      split.c_str(), run.c_str());
  return kExitOk;
}

}  // namespace

void AddDemoCommand(CLI::App* app, Context* ctx) {
  auto opt = std::make_shared<DemoOptions>();
  CLI::App* cmd = app->add_subcommand("demo", "The whole workflow on a built-in banking-support sample");
  cmd->footer(
      "Validates, inspects and splits the data, estimates the Bedrock cost, then fine-tunes the\n"
      "built-in default model (built once, a few minutes) and compares its answers before and after.");
  cmd->add_option("--dir", opt->dir, "Folder for the demo's files")->capture_default_str();
  cmd->add_flag("--data-only", opt->data_only, "Stop after the dataset steps");
  cmd->add_option("--default-max-records", opt->default_max_records,
                  "Pretraining records if the default model must be built (smaller: faster, weaker)")
      ->capture_default_str();
  cmd->callback([opt, ctx] { ctx->exit_code = RunDemo(*opt); });
}

}  // namespace lathe::cli
