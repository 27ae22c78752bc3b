#include "store/data_layout.h"

#include <cctype>

#include "core/env.h"

namespace lathe::store {

const std::vector<LayoutMigration>& DataLayoutMigrations() {
  // Append here; never change one that has shipped (docs/architecture.md#schema-versions-and-migrations).
  static const std::vector<LayoutMigration> migrations = {
      // The layout as it was before versions: nothing to move, the file is written.
      {1, "s3/blobs, jobs/<id>, custom-models, imported-models, evaluation-jobs, lambda, sns, tls",
       [](const std::string&) { return Status::Ok(); }},
  };
  return migrations;
}

int DataLayoutVersion() { return static_cast<int>(DataLayoutMigrations().size()); }

Result<int> ReadDataLayoutVersion(const std::string& data_dir) {
  Env* env = Env::Default();
  const std::string path = data_dir + "/" + kLayoutVersionFile;
  if (!env->FileExists(path)) return 0;
  uint64_t size = 0;
  LATHE_RETURN_IF_ERROR(env->GetFileSize(path, &size));
  std::string text;
  if (size <= 64) LATHE_RETURN_IF_ERROR(ReadFileToString(env, path, &text));
  else text = "(" + std::to_string(size) + " bytes)";
  // A number of at most 6 digits, then optional whitespace: anything else is not lathe's.
  size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
  bool rest_blank = true;
  for (size_t i = digits; i < text.size(); ++i) rest_blank = rest_blank && std::isspace(static_cast<unsigned char>(text[i]));
  if (digits == 0 || digits > 6 || !rest_blank)
    return Status::Corruption(path + " should hold the data directory's layout version (a number), not \"" +
                              text.substr(0, 40) + "\"; restore it from a backup, or write 1 for a data "
                              "directory made by lathe 0.1");
  return std::stoi(text.substr(0, digits));
}

Result<int> UpgradeDataLayout(const std::string& data_dir, const std::vector<LayoutMigration>& migrations) {
  for (size_t i = 0; i < migrations.size(); ++i)
    if (migrations[i].version != static_cast<int>(i) + 1)
      return Status::Internal("layout migrations must be numbered 1, 2, 3, ... in order");
  auto found = ReadDataLayoutVersion(data_dir);
  if (!found.ok()) return found.status();
  const int latest = static_cast<int>(migrations.size());
  const std::string path = data_dir + "/" + kLayoutVersionFile;
  if (*found > latest)
    return Status::Unsupported(path + " says layout version " + std::to_string(*found) +
                               ", but this lathe knows layouts up to " + std::to_string(latest) +
                               ": a newer lathe wrote this data directory. Run that newer lathe (or a later "
                               "one); nothing was changed");
  for (const LayoutMigration& m : migrations) {
    if (m.version <= *found) continue;
    Status s = m.apply(data_dir);
    if (!s.ok())
      return Status::IOError("upgrading the data directory " + data_dir + " to layout " + std::to_string(m.version) +
                             " (" + m.summary + ") failed: " + s.message() + "; it stays at layout " +
                             std::to_string(m.version - 1) + " and the next start tries again");
    // Recorded step by step: a crash resumes at the first step not written here.
    LATHE_RETURN_IF_ERROR(WriteFileAtomically(Env::Default(), path, std::to_string(m.version) + "\n"));
  }
  return *found;
}

}  // namespace lathe::store
