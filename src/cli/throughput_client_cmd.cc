// `lathe throughput create|get|list|update|delete`: provisioned throughput on lathe serve, which
// keeps a custom (or foundation) model loaded and answers InvokeModel / Converse for its ARN.
#include <chrono>
#include <cstdio>
#include <memory>
#include <thread>

#include "cli/client.h"
#include "cli/commands.h"

namespace lathe::cli {
namespace {
using nlohmann::json;

struct Args {
  std::string id, name, model;
  int units = 1;
  bool wait = false;
  std::string status;
  ClientOptions client;
};

void PrintThroughput(const json& t) {
  auto row = [](const char* label, const std::string& value) {
    if (!value.empty()) std::printf("%-15s %s\n", label, value.c_str());
  };
  row("Name", Field(t, "provisionedModelName"));
  row("ARN", Field(t, "provisionedModelArn"));
  row("Status", Field(t, "status"));
  row("Failure", Field(t, "failureMessage"));
  row("Model", Field(t, "modelArn"));
  if (Field(t, "desiredModelArn") != Field(t, "modelArn")) row("Loading model", Field(t, "desiredModelArn"));
  row("Model units", Field(t, "modelUnits"));
  row("Created", ShortTime(Field(t, "creationTime")));
  row("Modified", ShortTime(Field(t, "lastModifiedTime")));
}

// Polls until the throughput is no longer Creating or Updating (loading a model takes seconds).
Result<json> WaitUntilSettled(BedrockClient* client, const std::string& id) {
  while (true) {
    auto r = client->Get("/provisioned-model-throughput/" + Encode(id));
    if (!r.ok()) return r;
    const std::string status = Field(*r, "status");
    if (status != "Creating" && status != "Updating") return r;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
}

// With --wait: waits, prints the result, and fails unless it ended InService.
int Finish(BedrockClient* client, const Args& a, const std::string& id, const json& answer) {
  if (!a.wait) {
    if (a.client.json) PrintJson(answer);
    else std::printf("%s\n", id.c_str());
    return kExitOk;
  }
  auto settled = WaitUntilSettled(client, id);
  if (!settled.ok()) return ReportError(settled.status());
  if (a.client.json) PrintJson(*settled);
  else PrintThroughput(*settled);
  return Field(*settled, "status") == "InService" ? kExitOk : kExitBadInput;
}

}  // namespace

void AddThroughputCommand(CLI::App* app, Context* ctx) {
  CLI::App* tp = app->add_subcommand("throughput", "Serve models for inference on lathe serve (provisioned throughput)");
  tp->require_subcommand(1);
  tp->footer("Example:\n  lathe throughput create --name support-pt --model support-v1 --wait\n"
             "  lathe invoke support-pt \"How do I reset my card PIN?\"");

  auto c = std::make_shared<Args>();
  CLI::App* create = tp->add_subcommand("create", "Load a model for inference (CreateProvisionedModelThroughput)");
  create->footer("Prints the provisioned model ARN, which invoke and chat take as the model id.\n\n"
                 "Example:\n  lathe throughput create --name support-pt --model support-v1 --units 2 --wait");
  create->add_option("--name", c->name, "Provisioned throughput name")->required();
  create->add_option("--model", c->model, "Custom model name or ARN, or a foundation model id")->required();
  create->add_option("--units", c->units, "Model units: concurrent generations (1-64)")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  create->add_flag("--wait", c->wait, "Wait until the model is loaded (InService), then show it");
  AddClientOptions(create, &c->client);
  create->callback([c, ctx] {
    BedrockClient client(c->client);
    auto r = client.Post("/provisioned-model-throughput",
                         {{"provisionedModelName", c->name}, {"modelId", c->model}, {"modelUnits", c->units}});
    if (!r.ok()) {
      ctx->exit_code = ReportError(r.status());
      return;
    }
    ctx->exit_code = Finish(&client, *c, Field(*r, "provisionedModelArn"), *r);
  });

  auto g = std::make_shared<Args>();
  CLI::App* get = tp->add_subcommand("get", "Show one provisioned throughput");
  get->footer("Example:\n  lathe throughput get support-pt");
  get->add_option("id", g->id, "Provisioned throughput name or ARN")->required();
  AddClientOptions(get, &g->client);
  get->callback([g, ctx] {
    auto r = BedrockClient(g->client).Get("/provisioned-model-throughput/" + Encode(g->id));
    ctx->exit_code = Reply(r, g->client.json, PrintThroughput);
  });

  auto l = std::make_shared<Args>();
  CLI::App* list = tp->add_subcommand("list", "List provisioned throughputs");
  list->footer("Example:\n  lathe throughput list --status InService");
  list->add_option("--status", l->status, "Only those in this status")
      ->check(CLI::IsMember({"Creating", "InService", "Updating", "Failed"}));
  AddClientOptions(list, &l->client);
  list->callback([l, ctx] {
    std::string path = "/provisioned-model-throughputs?maxResults=100";
    if (!l->status.empty()) path += "&statusEquals=" + Encode(l->status);
    auto listed = BedrockClient(l->client).ListAll(path, "provisionedModelSummaries");
    if (!listed.ok()) {
      ctx->exit_code = ReportError(listed.status());
      return;
    }
    const json& all = *listed;
    if (l->client.json) {
      PrintJson({{"provisionedModelSummaries", all}});
    } else if (all.empty()) {
      std::printf("No provisioned throughput%s.\n", l->status.empty() ? "" : " matches");
    } else {
      std::vector<std::vector<std::string>> rows;
      for (const auto& s : all)
        rows.push_back({Field(s, "provisionedModelName"), Field(s, "status"), Field(s, "modelUnits"),
                        Field(s, "modelArn"), Field(s, "provisionedModelArn")});
      PrintTable({"NAME", "STATUS", "UNITS", "MODEL", "ARN"}, rows);
    }
    ctx->exit_code = kExitOk;
  });

  auto u = std::make_shared<Args>();
  CLI::App* update = tp->add_subcommand("update", "Serve another model under the same ARN (e.g. a retrained one)");
  update->footer("The old model answers until the new one is loaded.\n\n"
                 "Example:\n  lathe throughput update support-pt --model support-v2 --wait");
  update->add_option("id", u->id, "Provisioned throughput name or ARN")->required();
  update->add_option("--model", u->model, "The model to serve: custom model name or ARN")->required();
  update->add_flag("--wait", u->wait, "Wait until the new model is loaded, then show it");
  AddClientOptions(update, &u->client);
  update->callback([u, ctx] {
    BedrockClient client(u->client);
    const json body = {{"desiredModelId", u->model}};
    auto r = client.Call("PATCH", "/provisioned-model-throughput/" + Encode(u->id), &body);
    if (!r.ok()) {
      ctx->exit_code = ReportError(r.status());
      return;
    }
    ctx->exit_code = Finish(&client, *u, u->id, *r);
  });

  auto d = std::make_shared<Args>();
  CLI::App* del = tp->add_subcommand("delete", "Stop serving and delete a provisioned throughput");
  del->footer("Example:\n  lathe throughput delete support-pt");
  del->add_option("id", d->id, "Provisioned throughput name or ARN")->required();
  AddClientOptions(del, &d->client);
  del->callback([d, ctx] {
    auto r = BedrockClient(d->client).Call("DELETE", "/provisioned-model-throughput/" + Encode(d->id));
    ctx->exit_code = Reply(r, d->client.json, [&](const nlohmann::json&) {
      std::printf("Deleted %s\n", d->id.c_str());
    });
  });
}

}  // namespace lathe::cli
