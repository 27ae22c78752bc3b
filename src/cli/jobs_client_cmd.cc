// `lathe jobs create|get|list|stop|watch`: model customization jobs on a running `lathe serve`,
// through Bedrock's control-plane API (the same calls boto3's create_model_customization_job...).
#include <cstdio>
#include <filesystem>
#include <memory>

#include "cli/client.h"
#include "cli/client_commands.h"
#include "cli/commands.h"

namespace lathe::cli {
namespace {
using nlohmann::json;

struct JobCreateArgs {
  std::string name, model_name, base_model, train, validation, output, type = "FINE_TUNING";
  std::vector<std::string> sets;
  bool watch = false;
  ClientOptions client;
};

// The server reads local files through file:// URIs; s3:// and file:// pass through as given.
std::string FileUri(const std::string& path) {
  if (path.find("://") != std::string::npos) return path;
  std::error_code ec;
  std::string abs = std::filesystem::absolute(path, ec).lexically_normal().string();
  return "file://" + (ec ? path : abs);
}

json CreateRequest(const JobCreateArgs& a) {
  json hp = json::object();
  for (const auto& kv : a.sets) {
    const size_t eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) throw CLI::ValidationError("--set", "expected key=value, got " + kv);
    hp[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  json req = {{"jobName", a.name},
              {"customModelName", a.model_name},
              // Bedrock requires a role; lathe serve runs as the user, so any ARN-shaped value does.
              {"roleArn", "arn:aws:iam::000000000000:role/lathe-local"},
              {"baseModelIdentifier", a.base_model},
              {"customizationType", a.type},
              {"trainingDataConfig", {{"s3Uri", FileUri(a.train)}}},
              {"outputDataConfig", {{"s3Uri", FileUri(a.output)}}},
              {"hyperParameters", hp}};
  if (!a.validation.empty())
    req["validationDataConfig"] = {{"validators", json::array({{{"s3Uri", FileUri(a.validation)}}})}};
  return req;
}

void PrintJob(const json& j) {
  auto row = [](const char* label, const std::string& value) {
    if (!value.empty()) std::printf("%-18s %s\n", label, value.c_str());
  };
  row("Job", Field(j, "jobName"));
  row("ARN", Field(j, "jobArn"));
  std::string phases;
  for (const auto& [key, label] : {std::pair{"validationDetails", "validation"},
                                   {"dataProcessingDetails", "data processing"},
                                   {"trainingDetails", "training"}})
    if (j.contains("statusDetails") && j["statusDetails"].contains(key))
      phases += std::string(phases.empty() ? "" : ", ") + label + " " + Field(j["statusDetails"][key], "status");
  row("Status", Field(j, "status") + (phases.empty() ? "" : "  (" + phases + ")"));
  row("Failure", Field(j, "failureMessage"));
  row("Type", Field(j, "customizationType"));
  row("Base model", Field(j, "baseModelArn"));
  row("Custom model", Field(j, "outputModelName"));
  row("Output model ARN", Field(j, "outputModelArn"));
  row("Created", ShortTime(Field(j, "creationTime")));
  row("Ended", ShortTime(Field(j, "endTime")));
  std::string hp;
  const json params = j.value("hyperParameters", json::object());  // items() must not outlive it
  for (const auto& [k, v] : params.items())
    hp += (hp.empty() ? "" : " ") + k + "=" + (v.is_string() ? v.get<std::string>() : v.dump());
  row("Hyperparameters", hp);
  row("Training data", Field(j.value("trainingDataConfig", json::object()), "s3Uri"));
  row("Output", Field(j.value("outputDataConfig", json::object()), "s3Uri"));
  row("Progress", ProgressText(j));
}

}  // namespace

void AddJobsCommand(CLI::App* app, Context* ctx) {
  CLI::App* jobs = app->add_subcommand("jobs", "Create, inspect, stop and watch fine-tuning jobs on lathe serve");
  jobs->require_subcommand(1);
  jobs->footer("These talk to a running `lathe serve` (see `lathe serve --help`).\n\n"
               "Example:\n  lathe jobs create --name support-ft --model-name support-v1 --base-model lathe.default-v1 \\\n"
               "      --train train.jsonl --output out/ --set epochCount=2 --watch");

  auto c = std::make_shared<JobCreateArgs>();
  CLI::App* create = jobs->add_subcommand("create", "Start a model customization job (CreateModelCustomizationJob)");
  create->footer("Local paths become file:// URIs the server reads; s3:// URIs are passed as given.\n"
                 "Prints the job ARN (with --watch, then follows the job like `lathe jobs watch`).\n\n"
                 "Example:\n  lathe jobs create --name support-ft --model-name support-v1 --base-model lathe.default-v1 \\\n"
                 "      --train train.jsonl --validation val.jsonl --output out/ --set epochCount=2 --set learningRate=0.003");
  create->add_option("--name", c->name, "Job name")->required();
  create->add_option("--model-name", c->model_name, "Name of the custom model the job makes")->required();
  create->add_option("--base-model", c->base_model, "Foundation model id or alias, or a custom model ARN")->required();
  create->add_option("--train", c->train, "Training data: a JSONL file (or s3:// / file:// URI)")->required();
  create->add_option("--validation", c->validation, "Validation data: a JSONL file (or URI)");
  create->add_option("--output", c->output, "Folder (or URI) for the job's metrics and artifacts")->required();
  create->add_option("--set", c->sets, "Hyperparameter key=value (epochCount, batchSize, learningRate, ...)");
  create->add_option("--type", c->type, "Customization type")
      ->check(CLI::IsMember({"FINE_TUNING", "CONTINUED_PRE_TRAINING"}))
      ->capture_default_str();
  create->add_flag("--watch", c->watch, "Then follow the job until it ends");
  AddClientOptions(create, &c->client);
  create->callback([c, ctx] {
    BedrockClient client(c->client);
    auto r = client.Post("/model-customization-jobs", CreateRequest(*c));
    if (!r.ok()) {
      ctx->exit_code = ReportError(r.status());
      return;
    }
    // With --json --watch, stdout holds one JSON document: the job at its end.
    if (c->client.json && !c->watch) PrintJson(*r);
    else if (!c->client.json) std::printf("%s\n", Field(*r, "jobArn").c_str());
    std::fflush(stdout);
    ctx->exit_code = c->watch ? WatchJob(&client, Field(*r, "jobArn"), c->client.json) : kExitOk;
  });

  struct IdArgs {
    std::string id;
    ClientOptions client;
  };
  auto g = std::make_shared<IdArgs>();
  CLI::App* get = jobs->add_subcommand("get", "Show one job: status, phases, metrics, progress");
  get->footer("Example:\n  lathe jobs get support-ft");
  get->add_option("job", g->id, "Job name, id or ARN")->required();
  AddClientOptions(get, &g->client);
  get->callback([g, ctx] {
    auto r = BedrockClient(g->client).Get("/model-customization-jobs/" + Encode(g->id));
    ctx->exit_code = Reply(r, g->client.json, PrintJob);
  });

  struct ListArgs {
    std::string status, name_contains;
    ClientOptions client;
  };
  auto l = std::make_shared<ListArgs>();
  CLI::App* list = jobs->add_subcommand("list", "List jobs, newest first");
  list->footer("Example:\n  lathe jobs list --status InProgress");
  list->add_option("--status", l->status, "Only jobs in this status")
      ->check(CLI::IsMember({"InProgress", "Completed", "Failed", "Stopping", "Stopped"}));
  list->add_option("--name-contains", l->name_contains, "Only jobs whose name contains this");
  AddClientOptions(list, &l->client);
  list->callback([l, ctx] {
    std::string path = "/model-customization-jobs?maxResults=100";
    if (!l->status.empty()) path += "&statusEquals=" + Encode(l->status);
    if (!l->name_contains.empty()) path += "&nameContains=" + Encode(l->name_contains);
    auto listed = BedrockClient(l->client).ListAll(path, "modelCustomizationJobSummaries");
    if (!listed.ok()) {
      ctx->exit_code = ReportError(listed.status());
      return;
    }
    const json& all = *listed;
    if (l->client.json) {
      PrintJson({{"modelCustomizationJobSummaries", all}});
    } else if (all.empty()) {
      std::printf("No jobs%s.\n", l->status.empty() && l->name_contains.empty() ? "" : " match");
    } else {
      std::vector<std::vector<std::string>> rows;
      for (const auto& s : all)
        rows.push_back({Field(s, "jobName"), Field(s, "status"), Field(s, "customModelName"),
                        ShortTime(Field(s, "creationTime")), Field(s, "jobArn")});
      PrintTable({"NAME", "STATUS", "CUSTOM MODEL", "CREATED", "ARN"}, rows);
    }
    ctx->exit_code = kExitOk;
  });

  auto s = std::make_shared<IdArgs>();
  CLI::App* stop = jobs->add_subcommand("stop", "Stop an InProgress job (it ends Stopped; no model is made)");
  stop->footer("Example:\n  lathe jobs stop support-ft");
  stop->add_option("job", s->id, "Job name, id or ARN")->required();
  AddClientOptions(stop, &s->client);
  stop->callback([s, ctx] {
    auto r = BedrockClient(s->client).Post("/model-customization-jobs/" + Encode(s->id) + "/stop", json::object());
    ctx->exit_code = Reply(r, s->client.json, [&](const nlohmann::json&) {
      std::printf("Stopping %s\n", s->id.c_str());
    });
  });

  auto w = std::make_shared<IdArgs>();
  CLI::App* watch = jobs->add_subcommand("watch", "Follow a job until it ends: phase, step, epoch, loss, tok/s, ETA");
  watch->footer("Polls every second. Exits 0 when the job Completed, 1 when it Failed or was Stopped.\n"
                "Ctrl-C stops watching, not the job.\n\n"
                "Example:\n  lathe jobs watch support-ft");
  watch->add_option("job", w->id, "Job name, id or ARN")->required();
  AddClientOptions(watch, &w->client);
  watch->callback([w, ctx] {
    BedrockClient client(w->client);
    ctx->exit_code = WatchJob(&client, w->id, w->client.json);
  });
}

}  // namespace lathe::cli
