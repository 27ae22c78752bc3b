// `lathe models list|delete`: the foundation and custom models a running `lathe serve` offers.
// (`lathe models import|build-default` work on local files: models_cmd.cc.)
#include <cstdio>
#include <memory>

#include "cli/client.h"
#include "cli/commands.h"

namespace lathe::cli {
namespace {
using nlohmann::json;

}  // namespace

void AddModelsClientCommands(CLI::App* models, Context* ctx) {
  struct ListArgs {
    bool custom_only = false;
    ClientOptions client;
  };
  auto l = std::make_shared<ListArgs>();
  CLI::App* list = models->add_subcommand("list", "List the foundation, custom and imported models lathe serve offers");
  list->footer("Foundation models are the ids invoke and `jobs create --base-model` take (the tutorials'\n"
               "Bedrock ids are aliases of lathe's models); custom models are what jobs made; imported\n"
               "models are Hugging Face folders `lathe models add` or CreateModelImportJob brought in.\n\n"
               "Example:\n  lathe models list");
  list->add_flag("--custom", l->custom_only, "Only custom models");
  AddClientOptions(list, &l->client);
  list->callback([l, ctx] {
    BedrockClient client(l->client);
    json foundation = json::array();
    if (!l->custom_only) {
      auto r = client.Get("/foundation-models");  // not paginated in Bedrock's API
      if (!r.ok()) {
        ctx->exit_code = ReportError(r.status());
        return;
      }
      foundation = r->value("modelSummaries", json::array());
    }
    auto custom = client.ListAll("/custom-models?maxResults=100", "modelSummaries");
    if (!custom.ok()) {
      ctx->exit_code = ReportError(custom.status());
      return;
    }
    auto imported = client.ListAll("/imported-models?maxResults=100", "modelSummaries");
    if (!imported.ok()) {
      ctx->exit_code = ReportError(imported.status());
      return;
    }
    if (l->client.json) {
      json out = {{"customModels", *custom}, {"importedModels", *imported}};
      if (!l->custom_only) out["foundationModels"] = foundation;
      PrintJson(out);
      ctx->exit_code = kExitOk;
      return;
    }
    if (!l->custom_only) {
      std::vector<std::vector<std::string>> rows;
      for (const auto& m : foundation) rows.push_back({Field(m, "modelId"), Field(m, "providerName"), Field(m, "modelName")});
      std::printf("Foundation models\n");
      PrintTable({"MODEL ID", "PROVIDER", "NAME"}, rows);
      std::printf("\nCustom models\n");
    }
    if (custom->empty()) {
      std::printf("None yet: `lathe jobs create` makes one.\n");
    } else {
      std::vector<std::vector<std::string>> rows;
      for (const auto& m : *custom)
        rows.push_back({Field(m, "modelName"), Field(m, "baseModelName"), Field(m, "modelStatus"),
                        ShortTime(Field(m, "creationTime")), Field(m, "modelArn")});
      PrintTable({"NAME", "BASE", "STATUS", "CREATED", "ARN"}, rows);
    }
    std::printf("\nImported models\n");
    if (imported->empty()) {
      std::printf("None yet: `lathe models add NAME DIR` or CreateModelImportJob imports one.\n");
    } else {
      std::vector<std::vector<std::string>> rows;
      for (const auto& m : *imported)
        rows.push_back({Field(m, "modelName"), Field(m, "modelArchitecture"), ShortTime(Field(m, "creationTime")),
                        Field(m, "modelArn")});
      PrintTable({"NAME", "ARCHITECTURE", "CREATED", "ARN"}, rows);
    }
    ctx->exit_code = kExitOk;
  });

  struct DeleteArgs {
    std::string model;
    ClientOptions client;
  };
  auto d = std::make_shared<DeleteArgs>();
  CLI::App* del = models->add_subcommand("delete", "Delete a custom or imported model (DeleteCustomModel, DeleteImportedModel)");
  del->footer("A model that provisioned throughput still serves cannot be deleted: delete that first.\n\n"
              "Example:\n  lathe models delete support-v1");
  del->add_option("model", d->model, "Custom model name or ARN")->required();
  AddClientOptions(del, &d->client);
  del->callback([d, ctx] {
    BedrockClient client(d->client);
    auto r = client.Call("DELETE", "/custom-models/" + Encode(d->model));
    if (!r.ok() && r.status().code() == Status::Code::kNotFound)  // not a custom model: an imported one?
      if (auto imported = client.Call("DELETE", "/imported-models/" + Encode(d->model));
          imported.ok() || imported.status().code() != Status::Code::kNotFound)
        r = std::move(imported);
    ctx->exit_code = Reply(r, d->client.json, [&](const nlohmann::json&) {
      std::printf("Deleted %s\n", d->model.c_str());
    });
  });
}

}  // namespace lathe::cli
