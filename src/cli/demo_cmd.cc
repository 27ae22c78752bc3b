// `lathe demo`: a guided tour on the built-in banking-support sample. Each step prints the command
// a user would type and runs exactly that command, so the demo doubles as a smoke test.
#include <cstdio>
#include <filesystem>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "core/env.h"

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

int RunDemo(const std::string& dir) {
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

  std::printf(
      "\n── Done. The dataset is ready in %s.\n"
      "Next, as lathe grows: fine-tune the built-in default model on it (lathe train), serve the\n"
      "custom model and invoke it like Bedrock Runtime (lathe serve), compare base and fine-tuned\n"
      "answers side by side, and automate retraining when new data arrives.\n",
      split.c_str());
  return kExitOk;
}

}  // namespace

void AddDemoCommand(CLI::App* app, Context* ctx) {
  auto dir = std::make_shared<std::string>("lathe-demo");
  CLI::App* cmd = app->add_subcommand(
      "demo", "Walk through the dataset workflow on the built-in banking-support sample");
  cmd->add_option("--dir", *dir, "Folder for the demo's files")->capture_default_str();
  cmd->callback([dir, ctx] { ctx->exit_code = RunDemo(*dir); });
}

}  // namespace lathe::cli
