// `lathe demo`: a guided tour on the built-in banking-support sample. Each step prints the command
// a user would type and runs exactly that command, so the demo doubles as a smoke test.
#include <cstdio>
#include <filesystem>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/client.h"
#include "cli/commands.h"
#include "cli/local_server.h"
#include "cli/model_resolution.h"
#include "core/env.h"
#include "engine/default_model.h"

namespace lathe::cli {

std::string_view builtin_sample_jsonl();  // generated from samples/banking_support.jsonl
std::string_view builtin_eval_jsonl();    // generated from samples/banking_eval.jsonl

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

// An argument as a user would type it in a POSIX shell.
std::string ShellQuoted(const std::string& a) {
  if (a == "\n") return "$'\\n'";
  if (!a.empty() && a.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_./=:,+@%") ==
                        std::string::npos)
    return a;
  std::string q = "'";
  for (char c : a) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

struct Step {
  std::string title;
  std::vector<std::string> args;  // after "lathe"
  int expected_exit = kExitOk;
};

int RunStep(const Step& s, int number) {
  std::string shown = "lathe";
  for (const auto& a : s.args) shown += " " + ShellQuoted(a);
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
  uint64_t default_max_records = 0;  // 0: the recipe's
};

// The fine-tuned model's folder on the server: the job's merged model, under the data directory
// of the server the demo started (GetModelCustomizationJob gives the job's id).
Result<std::string> FineTunedModelDir(BedrockClient& client, const std::string& serve_dir, const std::string& job) {
  auto r = client.Get("/model-customization-jobs/" + Encode(job));
  if (!r.ok()) return r.status();
  const std::string arn = r->value("jobArn", "");
  const std::string dir = serve_dir + "/jobs/" + arn.substr(arn.find_last_of('/') + 1) + "/run/model";
  if (arn.empty() || !Env::Default()->FileExists(dir + "/config.json"))
    return Status::NotFound("the fine-tuned model of job " + job + " is not in " + dir);
  return dir;
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

  // From here on, everything goes through `lathe serve`, as a Bedrock user's code would.
  const std::string serve_dir = dir + "/serve", config = dir + "/serve-config.json";
  std::error_code ec;
  std::filesystem::remove_all(serve_dir, ec);  // a fresh server: the demo's names are free again
  // fileRoots: the server reads the split and writes the outputs here, wherever the demo started.
  const nlohmann::json serve_config = {{"models", {{"lathe.default-v1", model->dir}}},
                                       {"fileRoots", {std::filesystem::absolute(dir, ec).string()}}};
  if (Status s = WriteFileAtomically(env, config, serve_config.dump(2)); !s.ok())
    return ReportError(s);
  size_t step = steps.size() + 2;
  std::printf("\n── Step %zu: start the Bedrock-compatible server (in the background)\n"
              "$ lathe serve --listen 127.0.0.1:0 --data-dir %s --config %s\n",
              step++, serve_dir.c_str(), config.c_str());
  auto server = LocalServer::Start({"--data-dir", serve_dir, "--config", config}, dir + "/serve.log");
  if (!server.ok()) return ReportError(server.status());
  std::printf("  listening on %s (log: %s/serve.log); its keys are in %s/credentials.json\n", server->url().c_str(),
              dir.c_str(), serve_dir.c_str());
  const std::vector<std::string> at = {"--endpoint", server->url(), "--data-dir", serve_dir};
  auto with_server = [&](std::vector<std::string> args) {
    args.insert(args.end(), at.begin(), at.end());
    return args;
  };
  const std::vector<Step> serve_steps = {
      {"fine-tune it on the server (CreateModelCustomizationJob, LoRA) and watch the loss go down",
       with_server({"jobs", "create", "--name", "bank-support", "--model-name", "bank-support-model", "--base-model",
                    "amazon.titan-text-express-v1", "--train", split + "/train.jsonl", "--validation",
                    split + "/validation.jsonl", "--output", dir + "/output", "--set", "epochCount=8", "--set",
                    "learningRate=0.005", "--set", "loraRank=16", "--set", "batchSize=8", "--set", "loraTargets=all",
                    "--watch"})},
      {"serve the custom model (CreateProvisionedModelThroughput)",
       with_server({"throughput", "create", "--name", "bank-support", "--model", "bank-support-model", "--wait"})},
  };
  for (const auto& st : serve_steps)
    if (int rc = RunStep(st, static_cast<int>(step++)); rc != kExitOk) return rc;
  ClientOptions client_options;
  client_options.endpoint = server->url();
  client_options.data_dir = serve_dir;
  BedrockClient client(client_options);
  auto tuned_dir = FineTunedModelDir(client, serve_dir, "bank-support");
  if (!tuned_dir.ok()) return ReportError(tuned_dir.status());
  // The test set: 30 banking questions the fine-tune never saw (other wordings of the sample's
  // topics), each with a reference answer and the keywords a good answer names. The settings
  // are the automation tutorial's evaluation script's (temperature 0.1, top-p 0.9), seeded so
  // that the evaluation repeats exactly.
  const std::string test_set = dir + "/banking_eval.jsonl";
  if (Status s = WriteFileAtomically(env, test_set, builtin_eval_jsonl()); !s.ok()) return ReportError(s);
  const std::string report_dir = dir + "/evaluation";
  const Step evaluate = {"evaluate base vs fine-tuned on 30 banking questions it never saw: every answer scored, "
                         "paired statistics, three reports",
                         {"eval", "run", "--dataset", test_set, "--model", "base=" + model->dir, "--model",
                          "fine-tuned=" + *tuned_dir, "--out", report_dir, "--temperature", "0.1", "--top-p", "0.9",
                          "--max-tokens", "48", "--stop", "\n", "--seed", "1"}};
  if (int rc = RunStep(evaluate, static_cast<int>(step++)); rc != kExitOk) return rc;
  std::printf("\n  Open %s/report.html in a browser: charts with confidence intervals, answers side by side.\n",
              report_dir.c_str());

  std::printf(
      "\n── Done. Dataset: %s; the job's metrics: %s/output; the server's data: %s.\n"
      "Run `lathe serve --data-dir %s --config %s` to keep using the model (boto3 with\n"
      "AWS_ENDPOINT_URL, or lathe invoke|chat); `lathe eval review %s` to score the answers yourself.\n",
      split.c_str(), dir.c_str(), serve_dir.c_str(), serve_dir.c_str(), config.c_str(), report_dir.c_str());
  return kExitOk;
}

}  // namespace

void AddDemoCommand(CLI::App* app, Context* ctx) {
  auto opt = std::make_shared<DemoOptions>();
  CLI::App* cmd = app->add_subcommand("demo", "The whole workflow on a built-in banking-support sample");
  cmd->footer(
      "Validates, inspects and splits the data, estimates the Bedrock cost, builds the default model\n"
      "(once, a few minutes), then starts `lathe serve` and, through its Bedrock API, fine-tunes the\n"
      "model, serves the result and evaluates base vs fine-tuned on 30 banking questions it never saw\n"
      "(lathe eval run: scores, keyword coverage, paired statistics, report.html).");
  cmd->add_option("--dir", opt->dir, "Folder for the demo's files")->capture_default_str();
  cmd->add_flag("--data-only", opt->data_only, "Stop after the dataset steps");
  cmd->add_option("--default-max-records", opt->default_max_records,
                  "Pretraining records if the default model must be built (default: the recipe's; smaller: faster, weaker)");
  cmd->callback([opt, ctx] { ctx->exit_code = RunDemo(*opt); });
}

}  // namespace lathe::cli
