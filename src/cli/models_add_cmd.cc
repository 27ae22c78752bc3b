// `lathe models add NAME DIR [--bedrock-id ID ...]`: Bedrock's Custom Model Import from the command
// line, without a server. The same import as CreateModelImportJob (service/imported_models.h:
// the same checks, the same copy into DATA_DIR/imported-models/<id>, the same row in lathe.db), so
// a `lathe serve` on that data directory serves the model by its ARN or name, and by each
// --bedrock-id (the tutorials' amazon.titan-text-express-v1 can mean a real model).
#include <cstdio>
#include <filesystem>
#include <memory>

#include "cli/commands.h"
#include "engine/default_model.h"
#include "service/imported_models.h"
#include "store/metadata_store.h"

namespace lathe::cli {
namespace {

Result<nlohmann::json> AddModel(const std::string& name, const std::string& dir, const std::vector<std::string>& ids,
                                const std::string& data_dir_arg, int64_t max_bytes) {
  for (const auto& id : ids) LATHE_RETURN_IF_ERROR(service::CheckBedrockId(id));
  std::error_code ec;
  const std::string source = std::filesystem::absolute(dir, ec).lexically_normal().string();
  if (!std::filesystem::is_directory(source, ec)) return Status::NotFound(dir + " is not a folder");
  service::ServiceConfig config;
  config.data_dir = data_dir_arg.empty() ? engine::DefaultDataDir() : data_dir_arg;
  if (max_bytes > 0) config.max_import_bytes = max_bytes;
  std::filesystem::create_directories(config.data_dir, ec);
  if (ec) return Status::IOError("cannot create the data directory " + config.data_dir + ": " + ec.message());
  auto store = store::MetadataStore::Open(config.data_dir + "/lathe.db");
  if (!store.ok()) return store.status();
  // The region and account the last `lathe serve` on this data directory recorded: its ARNs.
  if (auto scope = (*store)->Find("lathe-settings", "scope"); scope.ok()) {
    config.scope.region = scope->doc.value("region", config.scope.region);
    config.scope.account = scope->doc.value("account", config.scope.account);
  }
  service::ImportedModelService models(config, store->get());
  LATHE_RETURN_IF_ERROR(models.CheckNewName(name));
  service::ImportRequest request;
  request.model_name = name;
  request.source_uri = "file://" + source;
  auto row = models.Import(request, [&source](const std::string& file, const std::string& dest, uint64_t max_bytes) {
    return service::CopyLocalFile(source + "/" + file, dest, max_bytes);
  });
  if (!row.ok()) return Status::InvalidArgument(dir + ": " + row.status().message());
  for (const auto& id : ids) LATHE_RETURN_IF_ERROR(models.MapBedrockId(id, row->arn));
  return nlohmann::json{{"modelArn", row->arn},
                        {"modelName", row->name},
                        {"modelDir", row->doc.value("_dir", "")},
                        {"modelArchitecture", row->doc.value("modelArchitecture", "")},
                        {"parameters", row->doc.value("_parameters", int64_t{0})},
                        {"bytes", row->doc.value("_bytes", uint64_t{0})},
                        {"instructSupported", row->doc.value("instructSupported", false)},
                        {"bedrockIds", ids}};
}

}  // namespace

void AddModelsAddCommand(CLI::App* models, Context* ctx) {
  struct AddArgs {
    std::string name, dir, data_dir;
    std::vector<std::string> bedrock_ids;
    int64_t max_bytes = 0;
    bool json = false;
  };
  auto a = std::make_shared<AddArgs>();
  CLI::App* add = models->add_subcommand(
      "add",
      "Import a Hugging Face model folder (Llama, Mistral, Qwen2; config.json, *.safetensors,\n"
      "tokenizer.json or tokenizer.model) as Bedrock's Custom Model Import does, without a server:\n"
      "it is checked, copied into the data directory and served by lathe serve as\n"
      "arn:aws:bedrock:REGION:ACCOUNT:imported-model/ID (or its name), and by each --bedrock-id.\n\n"
      "Example:\n"
      "  lathe models add qwen-0-5b ~/models/Qwen2.5-0.5B-Instruct --bedrock-id amazon.titan-text-express-v1");
  add->add_option("name", a->name, "The imported model's name (ImportedModelName: letters, digits, _ and -)")->required();
  add->add_option("dir", a->dir, "The model folder")->required();
  add->add_option("--bedrock-id", a->bedrock_ids,
                  "A Bedrock model id that should mean this model on lathe serve (repeatable)");
  add->add_option("--data-dir", a->data_dir, "lathe serve's data directory (default: $LATHE_HOME or ~/.local/share/lathe)");
  add->add_option("--max-bytes", a->max_bytes, "The most bytes the import copies (default 32 GiB, as maxImportBytes)")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 50));
  add->add_flag("--json", a->json, "Print machine-readable results");
  add->callback([a, ctx] {
    auto r = AddModel(a->name, a->dir, a->bedrock_ids, a->data_dir, a->max_bytes);
    if (!r.ok()) {
      ctx->exit_code = ReportError(r.status());
      return;
    }
    if (a->json) {
      PrintJson(*r);
    } else {
      std::printf("Imported %s: %s (%s, %lld parameters)\n  %s\n", (*r)["modelName"].get<std::string>().c_str(),
                  a->dir.c_str(), (*r)["modelArchitecture"].get<std::string>().c_str(),
                  static_cast<long long>((*r)["parameters"].get<int64_t>()), (*r)["modelArn"].get<std::string>().c_str());
      for (const auto& id : a->bedrock_ids) std::printf("  %s now means this model on lathe serve\n", id.c_str());
    }
    ctx->exit_code = kExitOk;
  });
}

}  // namespace lathe::cli
