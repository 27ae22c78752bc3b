#include "service/job_outputs.h"

#include <filesystem>
#include <system_error>

namespace lathe::service {
namespace fs = std::filesystem;

namespace {

Status CopyTree(Env* env, const fs::path& from, const fs::path& to) {
  LATHE_RETURN_IF_ERROR(env->CreateDirs(to.string()));
  std::error_code ec;
  for (fs::recursive_directory_iterator it(from, ec), end; !ec && it != end; it.increment(ec)) {
    const fs::path target = to / fs::relative(it->path(), from);
    if (it->is_directory(ec)) {
      LATHE_RETURN_IF_ERROR(env->CreateDirs(target.string()));
    } else {
      std::string bytes;  // metrics CSVs: small
      LATHE_RETURN_IF_ERROR(ReadFileToString(env, it->path().string(), &bytes));
      LATHE_RETURN_IF_ERROR(WriteFileAtomically(env, target.string(), bytes));
    }
  }
  if (ec) return Status::IOError("cannot list " + from.string() + ": " + ec.message());
  return Status::Ok();
}

}  // namespace

Status CopyJobOutputs(Env* env, const std::string& run_dir, const std::vector<std::string>& subdirs,
                      const std::string& out_dir) {
  const std::string staging = out_dir + ".partial";
  std::error_code ec;
  fs::remove_all(staging, ec);  // left by an earlier attempt that died midway
  Status s = env->CreateDirs(staging);
  for (const auto& sub : subdirs)
    if (s.ok() && fs::exists(run_dir + "/" + sub, ec)) s = CopyTree(env, run_dir + "/" + sub, staging + "/" + sub);
  if (s.ok() && fs::exists(out_dir, ec) && fs::is_directory(out_dir, ec)) fs::remove_all(out_dir, ec);  // a rerun's
  if (s.ok()) s = env->RenameFile(staging, out_dir);
  if (!s.ok()) fs::remove_all(staging, ec);
  return s;
}

}  // namespace lathe::service
