// `lathe eval run`: a test set answered by each model, scored, compared with the first, and
// written as report.json, report.md and report.html.
//
// The command line other parts rely on (the Bedrock evaluation job runs it as its worker):
//   lathe eval run --dataset PATH --model [LABEL=]SPEC [--model ...] --out DIR
//       [--temperature X] [--top-p X] [--max-tokens N] [--seed N] [--stop TEXT]... [--batch-size N]
//       [--judge SPEC] [--no-reference-loss] [--progress-json] [--endpoint URL --data-dir DIR]
//   SPEC: a model directory, or lathe-default; with --endpoint, any model id or ARN the server
//   serves (answered through InvokeModel). The first --model is the baseline.
//   --progress-json: one JSON object a line on stderr:
//       {"casesDone", "casesTotal", "modelIndex", "modelsTotal", "elapsedSeconds", "etaSeconds"}
//   Exit 0: DIR/report.json, report.md, report.html written. kExitBadInput: test set problems
//   (printed as file:line: ...) or another error.
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <cstdio>
#include <filesystem>
#include <memory>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/dataset_options.h"
#include "cli/eval_summary.h"
#include "cli/invoke_generator.h"
#include "cli/model_resolution.h"
#include "cli/s3_staging.h"
#include "eval/engine_generator.h"
#include "eval/report.h"
#include "eval/run_limits.h"

namespace lathe::cli {
namespace {

struct EvalRunArgs {
  std::string dataset, out, judge;
  std::vector<std::string> models;
  eval::GenerationSettings settings;
  bool no_reference_loss = false, progress_json = false;
  ClientOptions client;
};

// SIGINT / SIGTERM ask the run to stop after the batch in flight (a worker's StopEvaluationJob).
// A second one means "now": the default action is restored and the signal raised again, so a
// batch that takes minutes (or hangs) can still be interrupted. signal() and raise() are
// async-signal-safe.
std::atomic<bool> g_stop{false};
extern "C" void OnStopSignal(int sig) {
  if (g_stop.exchange(true)) {
    std::signal(sig, SIG_DFL);
    std::raise(sig);
  }
}

// A label is short, one word of printable ASCII, without '/' (so that "dir/a=b" stays a path).
bool IsLabel(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s)
    if (c <= ' ' || c > '~' || c == '/' || c == '=') return false;
  return true;
}

// "LABEL=SPEC" or "SPEC" (labelled by its last path segment: a folder's name, an ARN's id).
std::pair<std::string, std::string> SplitLabel(const std::string& arg) {
  const size_t eq = arg.find('=');
  if (eq != std::string::npos && IsLabel(std::string_view(arg).substr(0, eq)) && !std::filesystem::exists(arg))
    return {arg.substr(0, eq), arg.substr(eq + 1)};
  std::string spec = arg;
  while (spec.size() > 1 && spec.back() == '/') spec.pop_back();
  std::string label = spec.substr(spec.find_last_of('/') == std::string::npos ? 0 : spec.find_last_of('/') + 1);
  if (label.size() > 64) label = label.substr(0, 64);
  return {label.empty() ? spec : label, arg};
}

// A local directory (or lathe-default) is loaded here; anything else is a served model when there
// is an endpoint to ask.
Result<eval::ModelUnderTest> ResolveModel(const std::string& arg, const EvalRunArgs& a) {
  auto [label, spec] = SplitLabel(arg);
  eval::ModelUnderTest m;
  m.label = label;
  m.identifier = spec;
  std::error_code ec;
  if (spec == kDefaultModelName || std::filesystem::is_directory(spec, ec)) {
    auto dir = ResolveModelDir(spec);
    if (!dir.ok()) return dir.status();
    auto g = eval::LoadEngineGenerator(*dir);
    if (!g.ok()) return Status(g.status().code() == Status::Code::kNotFound
                                   ? Status::NotFound("model " + spec + ": " + g.status().message())
                                   : Status::InvalidArgument("model " + spec + ": " + g.status().message()));
    m.resolved = *dir;
    m.generator = *g;
    return m;
  }
  if (a.client.endpoint.empty())
    return Status::NotFound("model directory " + spec +
                            " does not exist (to evaluate a model that lathe serve serves, give --endpoint URL)");
  m.generator = InvokeModelGenerator(a.client, spec);
  return m;
}

// Two models with the same folder name get "-2", "-3" ...: labels name columns and comparisons.
void MakeLabelsUnique(std::vector<eval::ModelUnderTest>* models) {
  for (size_t i = 1; i < models->size(); ++i) {
    const std::string base = (*models)[i].label;
    for (int k = 2;; ++k) {
      bool taken = false;
      for (size_t j = 0; j < i; ++j) taken = taken || (*models)[j].label == (*models)[i].label;
      if (!taken) break;
      (*models)[i].label = base + "-" + std::to_string(k);
    }
  }
}

Result<eval::TestSet> LoadTestSet(const std::string& name, S3Staging* staging) {
  if (!IsS3Name(name)) return eval::ReadTestSet(name);
  LATHE_RETURN_IF_ERROR(staging->Input(name));
  uint64_t size = 0;
  LATHE_RETURN_IF_ERROR(staging->env()->GetFileSize(name, &size));
  if (size > eval::kMaxTestSetBytes)
    return Status::InvalidArgument(name + " is " + std::to_string(size) + " bytes; a test set may have at most " +
                                   std::to_string(eval::kMaxTestSetBytes));
  std::string text;
  LATHE_RETURN_IF_ERROR(ReadFileToString(staging->env(), name, &text));
  return eval::ParseTestSet(text, name);
}

// Problems as `lathe data validate` prints them; true when the set is usable.
bool PrintProblems(const eval::TestSet& set) {
  size_t errors = 0, warnings = 0;
  for (const auto& p : set.problems) {
    const std::string line = data::FormatProblem(p);
    std::fputs(line.c_str(), stdout);
    if (line.empty() || line.back() != '\n') std::fputc('\n', stdout);
    (p.severity == data::Severity::kError ? errors : warnings)++;
  }
  if (!set.ok()) {
    std::printf("%s: %zu error(s), %zu warning(s); nothing was evaluated\n", set.source.c_str(), errors, warnings);
    return false;
  }
  return true;
}

int Run(const EvalRunArgs& a) {
  // Settings first: loading models takes seconds, a typo should not.
  if (Status s = eval::CheckSettings(a.settings); !s.ok()) return ReportError(s);
  if (a.models.size() > eval::kMaxModelsPerRun)
    return ReportError(Status::InvalidArgument(std::to_string(a.models.size()) + " models given; at most " +
                                               std::to_string(eval::kMaxModelsPerRun) + " are evaluated in one run"));
  S3Staging staging(a.client);
  auto set = LoadTestSet(a.dataset, &staging);
  if (!set.ok()) return ReportError(set.status());
  if (!PrintProblems(*set)) return kExitBadInput;

  // The default model is built (trained, on every core) before anything else happens.
  for (const auto& spec : a.models)
    if (SplitLabel(spec).second == kDefaultModelName || SplitLabel(a.judge).second == kDefaultModelName) {
      auto built = ResolveModelDir(kDefaultModelName);
      if (!built.ok()) return ReportError(built.status());
      break;
    }
  // Local models run a batch's shards on EvalWorkers() threads (eval/engine_generator.h); each
  // shard's tensor operations get the cores left over, so the two levels of threads share the
  // machine instead of fighting over it, unless the user said otherwise. Set before the engine
  // loads a model, which reads it then.
  setenv("LATHE_THREADS", std::to_string(eval::EvalThreadsPerWorker()).c_str(), /*overwrite=*/0);
  std::vector<eval::ModelUnderTest> models;
  for (const auto& spec : a.models) {
    auto m = ResolveModel(spec, a);
    if (!m.ok()) return ReportError(m.status());
    models.push_back(std::move(*m));
  }
  MakeLabelsUnique(&models);
  eval::RunOptions opt;
  opt.settings = a.settings;
  opt.bootstrap_seed = a.settings.seed;
  opt.reference_loss = !a.no_reference_loss;
  if (!a.judge.empty()) {
    auto judge = ResolveModel(a.judge, a);
    if (!judge.ok()) return ReportError(judge.status());
    opt.judge = judge->generator;
    opt.judge_label = judge->identifier;
  }
  if (IsS3Name(a.out))
    if (Status s = staging.OutputFolder(a.out); !s.ok()) return ReportError(s);

  std::printf("Evaluating %zu cases of %s with %zu model(s):", set->cases.size(), set->source.c_str(), models.size());
  for (const auto& m : models) std::printf(" %s", m.label.c_str());
  std::printf("\n");
  std::fflush(stdout);
  ProgressPrinter progress(a.progress_json ? ProgressPrinter::kJson
                           : isatty(STDERR_FILENO) ? ProgressPrinter::kBar
                                                   : ProgressPrinter::kLines,
                           models);
  opt.on_progress = [&](const eval::Progress& p) { progress.Show(p); };
  g_stop.store(false);
  opt.stop = &g_stop;
  auto old_int = std::signal(SIGINT, OnStopSignal), old_term = std::signal(SIGTERM, OnStopSignal);
  auto run = eval::Evaluate(*set, models, opt);
  std::signal(SIGINT, old_int);
  std::signal(SIGTERM, old_term);
  progress.Done();
  if (!run.ok()) return ReportError(run.status());

  if (Status s = eval::WriteReports(staging.env(), *run, a.out); !s.ok()) return ReportError(s);
  if (IsS3Name(a.out)) {
    std::vector<std::string> names(std::begin(eval::kReportFiles), std::end(eval::kReportFiles));
    if (Status s = staging.Upload(a.out, names); !s.ok()) return ReportError(s);
  }
  PrintSummary(*run);
  std::string where = a.out;
  while (where.size() > 1 && where.back() == '/') where.pop_back();
  std::printf("\nReports: %s/report.json, %s/report.md, %s/report.html\n", where.c_str(), where.c_str(), where.c_str());
  return kExitOk;
}

}  // namespace

void AddEvalRunCommand(CLI::App* eval, Context* ctx) {
  auto a = std::make_shared<EvalRunArgs>();
  CLI::App* cmd = eval->add_subcommand(
      "run", "Answer a test set with each model, score the answers and compare every model with the first");
  cmd->footer(
      "SPEC: a model directory, lathe-default, or (with --endpoint) a model id or ARN that lathe serve\n"
      "serves; LABEL=SPEC names its column. Local models answer in batches through the engine; served\n"
      "ones through InvokeModel, one request per case.\n\n"
      "Example:\n"
      "  lathe eval run --dataset split/validation.jsonl --model base=lathe-default \\\n"
      "      --model tuned=lathe-demo/serve/jobs/ID/run/model --out eval-report --temperature 0.7 --seed 1");
  cmd->add_option("--dataset", a->dataset, "Test set: JSONL file or s3:// URI")->required()
      ->check(ExistingFileOrS3Uri());
  cmd->add_option("--model", a->models, "[LABEL=]SPEC of a model under test (repeat; the first is the baseline)")
      ->required();
  cmd->add_option("--out", a->out, "Folder (or s3:// prefix) for report.json, report.md, report.html")->required();
  cmd->add_option("--temperature", a->settings.temperature, "0 = greedy")->capture_default_str();
  cmd->add_option("--top-p", a->settings.top_p, "Nucleus sampling threshold (1 = off)")->capture_default_str();
  cmd->add_option("--max-tokens", a->settings.max_tokens, "Most tokens per answer")->capture_default_str();
  cmd->add_option("--seed", a->settings.seed, "Sampling and bootstrap seed (a run repeats exactly)")
      ->capture_default_str();
  cmd->add_option("--stop", a->settings.stop_sequences, "Stop an answer at this text (repeatable)");
  cmd->add_option("--batch-size", a->settings.batch_size, "Cases per engine batch (local models)")
      ->capture_default_str();
  cmd->add_option("--judge", a->judge, "SPEC of a model that scores each answer on the review rubric (1-5)");
  cmd->add_flag("--no-reference-loss", a->no_reference_loss,
                "Skip the teacher-forced loss of the reference answers (local models)");
  cmd->add_flag("--progress-json", a->progress_json, "Progress as one JSON object a line on stderr");
  cmd->add_option("--endpoint", a->client.endpoint,
                  "lathe serve (or Bedrock-compatible) endpoint for served models and s3:// files");
  cmd->add_option("--data-dir", a->client.data_dir,
                  "The server's data directory, to sign requests with its credentials.json");
  cmd->callback([a, ctx] { ctx->exit_code = Run(*a); });
}

}  // namespace lathe::cli
