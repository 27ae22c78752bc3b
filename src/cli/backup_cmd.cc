// `lathe backup --to DIR|s3://...` and `lathe restore --from DIR|s3://... --data-dir DIR`
// (store/data_dir_backup.h says what a backup holds and what consistent means; backup_s3.h how
// one travels to S3). Both work on the data directory itself, so a backup runs while lathe serve
// does, and a restore needs no server.
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include <nlohmann/json.hpp>

#include "cli/backup_s3.h"
#include "cli/commands.h"
#include "cli/store_choice.h"
#include "cli/version.h"
#include "core/env.h"
#include "engine/default_model.h"
#include "services/cleanup/serve_cleanup.h"
#include "store/data_dir_backup.h"

namespace lathe::cli {
namespace {

struct BackupArgs {
  std::string data_dir, to, from, endpoint;
  StoreFlags where;  // --store, --config: only to refuse a shared store
  bool json = false;
};

std::string DataDirOf(const BackupArgs& a) { return a.data_dir.empty() ? engine::DefaultDataDir() : a.data_dir; }

bool IsS3(const std::string& where) { return where.rfind("s3://", 0) == 0; }

// The S3 client's options: --endpoint; keys from the environment, else (a backup) the data
// directory's own credentials.json, as the client commands find them (client.h).
ClientOptions S3Options(const BackupArgs& a, const std::string& keys_dir) { return {a.endpoint, keys_dir, a.json}; }

// "http://localhost:8080/x" -> "loopback:8080": what two URLs of the same server share (this
// machine's loopback names are one host; the scheme's default port when none is given).
std::string HostAndPort(std::string url) {
  const size_t scheme_end = url.find("://");
  const bool https = url.rfind("https://", 0) == 0;
  if (scheme_end != std::string::npos) url = url.substr(scheme_end + 3);
  url = url.substr(0, url.find_first_of("/?#"));
  url = url.substr(url.find('@') == std::string::npos ? 0 : url.find('@') + 1);
  for (char& c : url) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const size_t colon = url.rfind(':');
  const bool has_port = colon != std::string::npos && url.find(']', colon) == std::string::npos;
  std::string host = has_port ? url.substr(0, colon) : url;
  const std::string port = has_port ? url.substr(colon + 1) : (https ? "443" : "80");
  if (host == "localhost" || host == "[::1]" || host == "0.0.0.0" || host == "[::]" || host.rfind("127.", 0) == 0)
    host = "loopback";
  return host + ":" + port;
}

// The S3 an s3:// backup goes to: --endpoint or $AWS_ENDPOINT_URL, never the client's default
// (127.0.0.1:8080, most often the very server holding this data directory), and never that server:
// a backup kept in the S3 it backs up would be inside every later backup, each night's holding
// all the earlier ones.
Status CheckBackupEndpoint(const BackupArgs& a) {
  const char* env = std::getenv("AWS_ENDPOINT_URL");
  const std::string endpoint = !a.endpoint.empty() ? a.endpoint : env && *env ? env : "";
  if (endpoint.empty())
    return Status::InvalidArgument("lathe backup --to s3:// needs --endpoint URL (or $AWS_ENDPOINT_URL): the S3 that "
                                   "keeps the backup, another server than the lathe serve of " + DataDirOf(a));
  std::string own;  // the URL of the lathe serve running on this data directory, if one is
  if (ReadFileToString(Env::Default(), DataDirOf(a) + "/" + cleanup::kServeUrlFile, &own).ok() && own.size() < 256) {
    own = own.substr(0, own.find_first_of("\r\n"));
    if (!own.empty() && HostAndPort(own) == HostAndPort(endpoint))
      return Status::InvalidArgument(endpoint + " is the lathe serve of " + DataDirOf(a) + " (" + own +
                                     "): a backup kept in its own S3 would be copied into every later backup. Give "
                                     "another S3 with --endpoint (another machine's lathe serve, or AWS), or back up "
                                     "to a folder with --to DIR");
  }
  return Status::Ok();
}

// A data directory whose metadata is in a shared PostgreSQL store has no lathe.db to snapshot,
// and a copy of its files alone could not be restored: the store is pg_dump's to back up.
Status CheckNotShared(const BackupArgs& a) {
  StoreFlags where = a.where;
  where.data_dir = DataDirOf(a);
  auto chosen = ChooseStore(where);
  if (!chosen.ok()) return chosen.status();
  if (!chosen->shared) return Status::Ok();
  return Status::Unsupported(
      "the store is shared (" + chosen->shown() + "): lathe backup copies a data directory with its SQLite lathe.db, "
      "at one point in time. Back up a PostgreSQL store with pg_dump (restore with pg_restore), and each node's data "
      "directory (models, job folders, S3 object bytes, keys) with the file system's own backups "
      "(docs/scale-out.md, Operations)");
}

int RunBackup(const BackupArgs& a) {
  if (Status s = CheckNotShared(a); !s.ok()) return ReportError(s);
  if (IsS3(a.to)) {
    if (Status s = CheckBackupEndpoint(a); !s.ok()) return ReportError(s);
  }
  auto r = IsS3(a.to) ? BackupToS3(DataDirOf(a), a.to, S3Options(a, DataDirOf(a)), LatheVersion())
                      : store::BackupDataDir(DataDirOf(a), a.to, LatheVersion());
  if (!r.ok()) return ReportError(r.status());
  if (a.json) {
    PrintJson({{"to", a.to}, {"files", r->files}, {"bytes", r->bytes}, {"s3Objects", r->objects},
               {"schemaVersion", r->schema_version}, {"layoutVersion", r->layout_version}, {"attempts", r->attempts},
               {"notes", r->notes}});
  } else {
    std::printf("lathe backup: %s -> %s: %zu files, %.1f MB (lathe.db schema %d, %zu S3 object versions/parts)\n",
                DataDirOf(a).c_str(), a.to.c_str(), r->files, static_cast<double>(r->bytes) / 1e6, r->schema_version,
                r->objects);
    for (const std::string& note : r->notes) std::printf("  note: %s\n", note.c_str());
  }
  return kExitOk;
}

int RunRestore(const BackupArgs& a) {
  auto r = IsS3(a.from) ? RestoreFromS3(a.from, DataDirOf(a), S3Options(a, "")) : store::RestoreDataDir(a.from, DataDirOf(a));
  if (!r.ok()) return ReportError(r.status());
  if (a.json) {
    PrintJson({{"dataDir", DataDirOf(a)}, {"files", r->files}, {"bytes", r->bytes}, {"schemaVersion", r->schema_version},
               {"sourceDataDir", r->source_data_dir}, {"lathe", r->lathe_version}, {"pathsRewritten", r->paths_rewritten}});
  } else {
    std::printf("lathe restore: %s -> %s: %zu files, %.1f MB, backed up from %s by lathe %s\n", a.from.c_str(),
                DataDirOf(a).c_str(), r->files, static_cast<double>(r->bytes) / 1e6, r->source_data_dir.c_str(),
                r->lathe_version.c_str());
    std::printf("  start it with: lathe serve --data-dir %s\n", DataDirOf(a).c_str());
  }
  return kExitOk;
}

}  // namespace

void AddBackupCommands(CLI::App* app, Context* ctx) {
  auto a = std::make_shared<BackupArgs>();
  const char* data_dir_help = "lathe serve's data directory (default: $LATHE_HOME or ~/.local/share/lathe)";

  CLI::App* backup = app->add_subcommand(
      "backup", "Copy a data directory (lathe.db, S3 objects, jobs, models, keys) into a new folder, while lathe serve runs");
  backup->add_option("--to", a->to,
                     "An empty or new folder, outside the data directory; or s3://BUCKET/PREFIX (staged in $TMPDIR)")
      ->required();
  backup->add_option("--data-dir", a->data_dir, data_dir_help);
  backup->add_flag("--json", a->json, "Print machine-readable results");
  AddStoreOptions(backup, &a->where, kConfigForStoreHelp);
  backup->add_option("--endpoint", a->endpoint,
                     "For s3://: the S3 endpoint that keeps the backup (default: $AWS_ENDPOINT_URL; one of the two is "
                     "required, and it must not be the lathe serve of this data directory)");
  const char* endpoint_help = "For s3://: the S3 endpoint (default: $AWS_ENDPOINT_URL, else http://127.0.0.1:8080)";
  backup->footer(
      "lathe.db is copied at one point in time with SQLite's online backup, with every S3 object it lists;\n"
      "then the other folders. A job training meanwhile resumes from its last checkpoint after a restore.\n"
      "A shared PostgreSQL store (--store, or the config's \"store\") is refused: back it up with pg_dump.\n"
      "Details: docs/operations.md#backup-and-restore");
  backup->callback([a, ctx] { ctx->exit_code = RunBackup(*a); });

  CLI::App* restore = app->add_subcommand("restore", "Bring a backup back into an empty data directory");
  restore->add_option("--from", a->from, "A folder or s3://BUCKET/PREFIX `lathe backup` made")->required();
  restore->add_option("--data-dir", a->data_dir, "The data directory to create: it must not exist or be empty (default: "
                                                  "$LATHE_HOME or ~/.local/share/lathe)");
  restore->add_flag("--json", a->json, "Print machine-readable results");
  restore->add_option("--endpoint", a->endpoint, endpoint_help);
  restore->footer("Every file is checked against the backup's manifest (size, SHA-256) before the data directory\n"
                  "appears; paths that named the old data directory are rewritten to the new one.");
  restore->callback([a, ctx] { ctx->exit_code = RunRestore(*a); });
}

}  // namespace lathe::cli
