// `lathe registry`: the model registry (services/registry) read and changed in lathe serve's store
// directly (the data directory's lathe.db, or a shared --store; store_choice.h), so it works
// whether or not `lathe serve` runs (the registry keeps no cache; both see the same rows).
//   groups | create-group | policy | versions | show | lineage | aliases | alias set|rollback|delete|history
//   diff | approve | reject | export
// Tables for people; --json for machines. --actor (default $USER) is recorded with every change.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/registry_cmd_format.h"
#include "cli/s3_staging.h"
#include "cli/store_choice.h"
#include "core/arn.h"
#include "core/env.h"
#include "service/s3_uri.h"
#include "service/service_config.h"
#include "services/registry/registry.h"
#include "store/metadata_store.h"

namespace lathe::cli {
namespace {

using nlohmann::json;

struct RegistryArgs {
  StoreFlags where;  // --store, --config, --data-dir
  std::string actor;
  bool json = false;
};

// The registry in the chosen store (store_choice.h), with the region and account `lathe serve
// --config` uses, so ARNs made here are the ones the server makes.
class OpenRegistry {
 public:
  Status Open(const RegistryArgs& a) {
    service::ServiceConfig config;
    if (!a.where.config.empty()) {
      auto loaded = service::LoadServiceConfig(a.where.config, config);
      if (!loaded.ok()) return loaded.status();
      config = *loaded;
    }
    // The registry lives in lathe serve's database: a mistyped --data-dir must not quietly make
    // an empty one (and then answer "no model groups").
    auto store = OpenChosenStore(a.where, &config);
    if (!store.ok()) return store.status();
    store_ = std::move(*store);
    if (a.where.config.empty()) {
      // Without --config: the region and account the last `lathe serve` on this store recorded,
      // so ARNs made here are the server's.
      if (auto scope = store_->Find("lathe-settings", "scope"); scope.ok()) {
        config.scope.region = scope->doc.value("region", config.scope.region);
        config.scope.account = scope->doc.value("account", config.scope.account);
      }
    }
    registry_ = std::make_unique<registry::Registry>(store_.get(), config.scope.region, config.scope.account);
    return Status::Ok();
  }
  registry::Registry* operator->() { return registry_.get(); }

 private:
  std::unique_ptr<store::MetadataStore> store_;
  std::unique_ptr<registry::Registry> registry_;
};

std::string Actor(const RegistryArgs& a) {
  if (!a.actor.empty()) return a.actor;
  const char* user = std::getenv("USER");
  return user && *user ? user : "unknown";
}

// Adds the options every subcommand shares and runs `body` with an open registry.
template <typename Body>
void Command(CLI::App* cmd, std::shared_ptr<RegistryArgs> a, Context* ctx, Body body) {
  cmd->add_option("--data-dir", a->where.data_dir, "lathe serve's data directory (default: $LATHE_HOME or ~/.local/share/lathe)");
  cmd->add_option("--config", a->where.config, "lathe serve's JSON config (its region and account make the ARNs; its \"store\" is read)");
  AddStoreOptions(cmd, &a->where, nullptr);
  cmd->add_option("--actor", a->actor, "Who makes the change, recorded in the history (default: $USER)");
  cmd->add_flag("--json", a->json, "Print machine-readable results");
  cmd->callback([a, ctx, body] {
    OpenRegistry r;
    if (Status s = r.Open(*a); !s.ok()) {
      ctx->exit_code = ReportError(s);
      return;
    }
    Status s = body(r);
    ctx->exit_code = s.ok() ? kExitOk : ReportError(s);
  });
}

#define REG_ASSIGN(var, expr)                             \
  auto var##_result = (expr);                             \
  if (!var##_result.ok()) return var##_result.status();   \
  auto& var = *var##_result

// Writes the export's files into `dir` as one step: a staged folder renamed into place, so a
// reader never sees half a version (an older export of the same version is replaced whole).
Status WriteExport(Env* env, const std::string& dir, const std::map<std::string, std::string>& files) {
  for (const auto& [rel, content] : files) {
    const std::string path = dir + "/" + rel;
    const size_t slash = path.rfind('/');
    LATHE_RETURN_IF_ERROR(env->CreateDirs(path.substr(0, slash)));
    LATHE_RETURN_IF_ERROR(WriteFileAtomically(env, path, content));
  }
  return Status::Ok();
}

Status ExportLocal(const std::string& out, const std::map<std::string, std::string>& files) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(out, ec);
  if (ec) return Status::IOError(out + ": " + ec.message());
  const std::string stage = out + "/.lathe-export-" + NewResourceId(8);
  if (Status s = WriteExport(Env::Default(), stage, files); !s.ok()) {
    fs::remove_all(stage, ec);
    return s;
  }
  // Each top-level folder (<group>-vN) moves into place; an existing one is moved aside first
  // and put back when the new one cannot take its place, so a failure never loses the old export.
  Status result = Status::Ok();
  std::vector<fs::path> entries;
  for (const auto& entry : fs::directory_iterator(stage, ec)) entries.push_back(entry.path());
  if (ec) result = Status::IOError(stage + ": " + ec.message());
  for (const fs::path& entry : entries) {
    if (!result.ok()) break;
    const fs::path target = fs::path(out) / entry.filename();
    const fs::path old = fs::path(stage + ".old");
    const bool had_old = fs::exists(target, ec);
    if (ec) {
      result = Status::IOError(target.string() + ": " + ec.message());
      break;
    }
    if (had_old) {
      fs::rename(target, old, ec);
      if (ec) {
        result = Status::IOError("moving the earlier export " + target.string() + " aside: " + ec.message());
        break;
      }
    }
    fs::rename(entry, target, ec);
    if (ec) {
      result = Status::IOError("moving the export into " + target.string() + ": " + ec.message());
      std::error_code restore;
      if (had_old) fs::rename(old, target, restore);
      if (restore) result = Status::IOError(result.message() + "; the earlier export is kept at " + old.string());
      break;
    }
    if (had_old) {
      std::error_code cleanup;
      fs::remove_all(old, cleanup);  // the new export is in place; a leftover copy is only untidy
    }
  }
  std::error_code ignored;
  fs::remove_all(stage, ignored);
  return result;
}

}  // namespace

void AddRegistryCommand(CLI::App* app, Context* ctx) {
  CLI::App* reg = app->add_subcommand(
      "registry",
      "The model registry: groups, numbered versions with their lineage (data, job, base model,\n"
      "evaluations), aliases with a recorded history, rollback, and the guide's export layout.\n"
      "Reads and writes lathe serve's store (DATA_DIR/lathe.db, or a shared --store): lathe serve may run or not.");
  reg->require_subcommand(1);
  reg->footer(
      "Examples:\n  lathe registry groups\n  lathe registry groups --store 'postgresql://lathe@db.internal/lathe'\n"
      "  lathe registry show banking-assistant/2\n"
      "  lathe registry alias set banking-assistant production 2 --reason \"beats v1 on the test set\"\n"
      "  lathe registry alias rollback banking-assistant production --reason \"complaints\"\n"
      "  lathe registry alias history banking-assistant production --at 2026-12-01T10:00:00Z\n"
      "  lathe registry lineage --data s3://my-training-data/train.jsonl\n"
      "  lathe registry diff banking-assistant 1 2\n  lathe registry export banking-assistant/2 --out exports/");

  {
    auto a = std::make_shared<RegistryArgs>();
    CLI::App* cmd = reg->add_subcommand("groups", "List the model groups");
    Command(cmd, a, ctx, [a](OpenRegistry& r) -> Status {
      REG_ASSIGN(groups, r->ListGroups(registry::ListOptions{}));
      if (a->json) {
        json out = json::array();
        for (const auto& g : groups) out.push_back(GroupJson(g));
        PrintJson(out);
      } else {
        PrintGroups(groups);
      }
      return Status::Ok();
    });
  }
  {
    auto a = std::make_shared<RegistryArgs>();
    auto name = std::make_shared<std::string>();
    auto description = std::make_shared<std::string>();
    CLI::App* cmd = reg->add_subcommand("create-group", "Create a model group");
    cmd->add_option("name", *name, "Group name (letters, digits, '-'; at most 63)")->required();
    cmd->add_option("--description", *description, "What the group's models are for");
    Command(cmd, a, ctx, [a, name, description](OpenRegistry& r) -> Status {
      REG_ASSIGN(group, r->CreateGroup(*name, *description, Actor(*a)));
      if (a->json) PrintJson(GroupJson(group));
      else std::printf("created %s (%s)\n", group.name.c_str(), group.arn.c_str());
      return Status::Ok();
    });
  }
  {
    auto a = std::make_shared<RegistryArgs>();
    auto group = std::make_shared<std::string>();
    CLI::App* cmd = reg->add_subcommand("versions", "List a group's versions, oldest first");
    cmd->add_option("group", *group, "Group name")->required();
    Command(cmd, a, ctx, [a, group](OpenRegistry& r) -> Status {
      REG_ASSIGN(versions, r->ListVersions(*group, registry::ListOptions{}));
      REG_ASSIGN(aliases, r->Aliases(*group));
      if (a->json) {
        json out = json::array();
        for (const auto& v : versions) out.push_back(VersionJson(v));
        PrintJson(out);
      } else {
        PrintVersions(versions, aliases);
      }
      return Status::Ok();
    });
  }
  {
    auto a = std::make_shared<RegistryArgs>();
    auto ref = std::make_shared<std::string>();
    CLI::App* cmd = reg->add_subcommand("show", "One version with its lineage: data, job, base model, evaluations");
    cmd->add_option("version", *ref, "GROUP/VERSION, GROUP:ALIAS or a model package ARN")->required();
    Command(cmd, a, ctx, [a, ref](OpenRegistry& r) -> Status {
      REG_ASSIGN(v, r->Resolve(*ref));
      if (a->json) PrintJson(VersionJson(v));
      else PrintVersion(v);
      return Status::Ok();
    });
  }
  {
    auto a = std::make_shared<RegistryArgs>();
    auto uri = std::make_shared<std::string>();
    auto sha = std::make_shared<std::string>();
    CLI::App* cmd = reg->add_subcommand("lineage", "Every version trained on a data object");
    cmd->add_option("--data", *uri, "The data object's URI (s3://bucket/key or file:///path)")->required();
    cmd->add_option("--sha256", *sha, "Also match the same bytes under any other URI");
    Command(cmd, a, ctx, [a, uri, sha](OpenRegistry& r) -> Status {
      REG_ASSIGN(versions, r->VersionsTrainedOn(*uri, *sha));
      if (a->json) {
        json out = json::array();
        for (const auto& v : versions) out.push_back(VersionJson(v));
        PrintJson(out);
      } else if (versions.empty()) {
        std::printf("no version was trained on %s\n", uri->c_str());
      } else {
        PrintVersions(versions, {});
      }
      return Status::Ok();
    });
  }
  {
    auto a = std::make_shared<RegistryArgs>();
    auto group = std::make_shared<std::string>();
    CLI::App* cmd = reg->add_subcommand("aliases", "A group's aliases and the versions they point at");
    cmd->add_option("group", *group, "Group name")->required();
    Command(cmd, a, ctx, [a, group](OpenRegistry& r) -> Status {
      REG_ASSIGN(aliases, r->Aliases(*group));
      if (a->json) {
        PrintJson(json(aliases));
      } else {
        std::printf("%-24s  %s\n", "ALIAS", "VERSION");
        for (const auto& [alias, version] : aliases) std::printf("%-24s  %d\n", alias.c_str(), version);
      }
      return Status::Ok();
    });
  }
  {
    auto a = std::make_shared<RegistryArgs>();
    auto group = std::make_shared<std::string>(), test_set = std::make_shared<std::string>();
    auto primary = std::make_shared<std::string>();
    auto margin = std::make_shared<std::optional<double>>(), regression = std::make_shared<std::optional<double>>();
    auto no_significance = std::make_shared<bool>(false), significance = std::make_shared<bool>(false);
    CLI::App* cmd = reg->add_subcommand(
        "policy", "Show or set a group's promotion gate (options given change; the rest is kept)");
    cmd->add_option("group", *group, "Group name")->required();
    cmd->add_option("--reference-test-set", *test_set, "URI of the test set promotions are judged on");
    cmd->add_option("--primary-metric", *primary, "The metric that must improve (overallScore, rougeL, ...)");
    cmd->add_option("--min-margin", *margin, "Required gain on the primary metric (>= 0)");
    cmd->add_option("--max-regression", *regression, "Largest drop allowed on any other quality metric (>= 0)");
    cmd->add_flag("--no-significance", *no_significance, "Promote without a significant verdict");
    cmd->add_flag("--significance", *significance, "Require a significant verdict (the default)");
    Command(cmd, a, ctx, [a, group, test_set, primary, margin, regression, no_significance,
                          significance](OpenRegistry& r) -> Status {
      REG_ASSIGN(g, r->GetGroup(*group));
      json p = registry::PolicyToJson(g.policy);
      const bool change = !test_set->empty() || !primary->empty() || margin->has_value() || regression->has_value() ||
                          *no_significance || *significance;
      if (*no_significance && *significance)
        return Status::InvalidArgument("--significance and --no-significance contradict each other");
      if (!test_set->empty()) p["referenceTestSet"] = *test_set;
      if (!primary->empty()) p["primaryMetric"] = *primary;
      if (margin->has_value()) p["minMargin"] = **margin;
      if (regression->has_value()) p["maxRegression"] = **regression;
      if (*no_significance) p["requireSignificance"] = false;
      if (*significance) p["requireSignificance"] = true;
      REG_ASSIGN(policy, registry::PolicyFromJson(p));
      if (change) {
        Status set = r->SetPolicy(g.name, policy);
        if (!set.ok()) return set;
      }
      if (a->json) PrintJson(registry::PolicyToJson(policy));
      else PrintPolicy(g.name, policy);
      return Status::Ok();
    });
  }
  CLI::App* alias = reg->add_subcommand("alias", "Move an alias, roll it back, or read its history");
  alias->require_subcommand(1);
  {
    auto a = std::make_shared<RegistryArgs>();
    auto group = std::make_shared<std::string>(), name = std::make_shared<std::string>();
    auto reason = std::make_shared<std::string>();
    CLI::App* cmd = alias->add_subcommand("delete", "Remove an alias (kept in its history as a move to nothing)");
    cmd->add_option("group", *group, "Group name")->required();
    cmd->add_option("alias", *name, "Alias")->required();
    cmd->add_option("--reason", *reason, "Why (kept in the history)");
    Command(cmd, a, ctx, [a, group, name, reason](OpenRegistry& r) -> Status {
      REG_ASSIGN(move, r->DeleteAlias(*group, *name, Actor(*a), *reason));
      if (a->json) PrintJson(MoveJson(move));
      else std::printf("%s:%s deleted (was version %d)\n", group->c_str(), name->c_str(), move.from_version);
      return Status::Ok();
    });
  }

  {
    auto a = std::make_shared<RegistryArgs>();
    auto group = std::make_shared<std::string>(), name = std::make_shared<std::string>();
    auto reason = std::make_shared<std::string>();
    auto version = std::make_shared<int>(0);
    CLI::App* cmd = alias->add_subcommand("set", "Point an alias at a version (recorded with time, actor, reason)");
    cmd->add_option("group", *group, "Group name")->required();
    cmd->add_option("alias", *name, "Alias (production, staging, ...)")->required();
    cmd->add_option("version", *version, "Version number")->required()->check(CLI::Range(1, 999999999));
    cmd->add_option("--reason", *reason, "Why (kept in the history)")->required();
    Command(cmd, a, ctx, [a, group, name, version, reason](OpenRegistry& r) -> Status {
      REG_ASSIGN(move, r->SetAlias(*group, *name, *version, Actor(*a), *reason));
      if (a->json) PrintJson(MoveJson(move));
      else std::printf("%s:%s -> version %d (was %s)\n", group->c_str(), name->c_str(), move.to_version,
                       move.from_version ? std::to_string(move.from_version).c_str() : "unset");
      return Status::Ok();
    });
  }
  {
    auto a = std::make_shared<RegistryArgs>();
    auto group = std::make_shared<std::string>(), name = std::make_shared<std::string>();
    auto reason = std::make_shared<std::string>();
    CLI::App* cmd = alias->add_subcommand("rollback", "Move an alias back to the version it pointed at before");
    cmd->add_option("group", *group, "Group name")->required();
    cmd->add_option("alias", *name, "Alias")->required();
    cmd->add_option("--reason", *reason, "Why (kept in the history)")->required();
    Command(cmd, a, ctx, [a, group, name, reason](OpenRegistry& r) -> Status {
      REG_ASSIGN(move, r->Rollback(*group, *name, Actor(*a), *reason));
      if (a->json) PrintJson(MoveJson(move));
      else std::printf("%s:%s rolled back: version %d -> %d\n", group->c_str(), name->c_str(), move.from_version,
                       move.to_version);
      return Status::Ok();
    });
  }
  {
    auto a = std::make_shared<RegistryArgs>();
    auto group = std::make_shared<std::string>(), name = std::make_shared<std::string>();
    auto at = std::make_shared<std::string>();
    CLI::App* cmd = alias->add_subcommand("history", "Every move of an alias; --at: where it pointed at a time");
    cmd->add_option("group", *group, "Group name")->required();
    cmd->add_option("alias", *name, "Alias")->required();
    cmd->add_option("--at", *at, "A time (2026-12-01T10:00:00Z, or seconds since the epoch)");
    Command(cmd, a, ctx, [a, group, name, at](OpenRegistry& r) -> Status {
      if (!at->empty()) {
        REG_ASSIGN(ms, ParseTime(*at));
        REG_ASSIGN(version, r->AliasAt(*group, *name, ms));
        if (a->json) PrintJson(json{{"group", *group}, {"alias", *name}, {"at", Iso8601(ms)}, {"version", version}});
        else if (version == 0) std::printf("%s:%s pointed at nothing at %s\n", group->c_str(), name->c_str(), Iso8601(ms).c_str());
        else std::printf("%s:%s pointed at version %d at %s\n", group->c_str(), name->c_str(), version, Iso8601(ms).c_str());
        return Status::Ok();
      }
      REG_ASSIGN(moves, r->AliasHistory(*group, *name));
      if (a->json) {
        json out = json::array();
        for (const auto& m : moves) out.push_back(MoveJson(m));
        PrintJson(out);
      } else {
        PrintHistory(moves);
      }
      return Status::Ok();
    });
  }
  {
    auto a = std::make_shared<RegistryArgs>();
    auto group = std::make_shared<std::string>();
    auto v1 = std::make_shared<int>(0), v2 = std::make_shared<int>(0);
    CLI::App* cmd = reg->add_subcommand("diff", "Two versions' hyperparameters, data and scores side by side");
    cmd->add_option("group", *group, "Group name")->required();
    cmd->add_option("v1", *v1, "First version")->required()->check(CLI::Range(1, 999999999));
    cmd->add_option("v2", *v2, "Second version")->required()->check(CLI::Range(1, 999999999));
    Command(cmd, a, ctx, [a, group, v1, v2](OpenRegistry& r) -> Status {
      REG_ASSIGN(first, r->GetVersion(*group, *v1));
      REG_ASSIGN(second, r->GetVersion(*group, *v2));
      json rows = DiffRows(first, second);
      if (a->json) PrintJson(json{{"group", *group}, {"versions", {*v1, *v2}}, {"rows", rows}});
      else PrintDiff(first, second, rows);
      return Status::Ok();
    });
  }
  for (const char* verb : {"approve", "reject"}) {
    auto a = std::make_shared<RegistryArgs>();
    auto ref = std::make_shared<std::string>(), description = std::make_shared<std::string>();
    const bool approve = std::string(verb) == "approve";
    CLI::App* cmd = reg->add_subcommand(verb, approve ? "Mark a version Approved" : "Mark a version Rejected");
    cmd->add_option("version", *ref, "GROUP/VERSION or a model package ARN")->required();
    cmd->add_option("--description", *description, "Why (the version's approval description)");
    Command(cmd, a, ctx, [a, ref, description, approve](OpenRegistry& r) -> Status {
      REG_ASSIGN(v, r->UpdateVersion(*ref, approve ? registry::VersionStatus::kApproved : registry::VersionStatus::kRejected,
                                     *description, {}, {}, Actor(*a)));
      if (a->json) PrintJson(VersionJson(v));
      else std::printf("%s/%d: %s\n", v.group.c_str(), v.version, registry::VersionStatusName(v.status));
      return Status::Ok();
    });
  }
  {
    auto a = std::make_shared<RegistryArgs>();
    auto ref = std::make_shared<std::string>(), out = std::make_shared<std::string>();
    auto s3 = std::make_shared<ClientOptions>();
    CLI::App* cmd = reg->add_subcommand(
        "export",
        "Write a version in the guide's layout: OUT/<group>-v<N>/model-id.txt, training-config.json,\n"
        "training-data-manifest.json, evaluation-report.json. OUT may be an s3:// prefix (uploaded\n"
        "through lathe serve's S3: --endpoint).");
    cmd->add_option("version", *ref, "GROUP/VERSION, GROUP:ALIAS or a model package ARN")->required();
    cmd->add_option("--out", *out, "A folder or s3://bucket/prefix")->required();
    cmd->add_option("--endpoint", s3->endpoint, "lathe serve's endpoint, for an s3:// --out");
    Command(cmd, a, ctx, [a, ref, out, s3](OpenRegistry& r) -> Status {
      REG_ASSIGN(v, r->Resolve(*ref));
      REG_ASSIGN(files, r->ExportFiles(v.group, v.version));
      if (service::IsS3Uri(*out)) {
        ClientOptions client = *s3;
        client.data_dir = a->where.data_dir;  // the server's own keys are found there
        S3Staging staging(client);
        LATHE_RETURN_IF_ERROR(staging.OutputFolder(*out));
        std::string prefix = *out;
        if (prefix.back() != '/') prefix += '/';
        LATHE_RETURN_IF_ERROR(WriteExport(staging.env(), prefix.substr(0, prefix.size() - 1), files));
        std::vector<std::string> names;
        for (const auto& [rel, content] : files) names.push_back(rel);
        LATHE_RETURN_IF_ERROR(staging.Upload(*out, names));
      } else {
        LATHE_RETURN_IF_ERROR(ExportLocal(*out, files));
      }
      if (a->json) {
        json list = json::array();
        for (const auto& [rel, content] : files) list.push_back(rel);
        PrintJson(json{{"out", *out}, {"files", list}});
      } else {
        for (const auto& [rel, content] : files) std::printf("%s/%s\n", out->c_str(), rel.c_str());
      }
      return Status::Ok();
    });
  }
}

}  // namespace lathe::cli
