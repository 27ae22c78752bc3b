#include "service/job_outputs.h"

#include <filesystem>
#include <memory>
#include <system_error>

namespace lathe::service {
namespace fs = std::filesystem;

namespace {

// One file, a chunk at a time: an evaluation's per-case outputs can be hundreds of MB.
Status CopyFile(Env* env, const std::string& from, const std::string& to) {
  std::unique_ptr<SequentialFile> in;
  LATHE_RETURN_IF_ERROR(env->NewSequentialFile(from, &in));
  std::unique_ptr<WritableFile> out;
  LATHE_RETURN_IF_ERROR(env->NewWritableFile(to, &out));
  std::string buffer(1 << 20, '\0');
  while (true) {
    size_t n = 0;
    LATHE_RETURN_IF_ERROR(in->Read(buffer.size(), buffer.data(), &n));
    if (n == 0) break;
    LATHE_RETURN_IF_ERROR(out->Append(std::string_view(buffer.data(), n)));
  }
  return out->Close();
}

Status CopyTree(Env* env, const fs::path& from, const fs::path& to) {
  LATHE_RETURN_IF_ERROR(env->CreateDirs(to.string()));
  std::error_code ec;
  for (fs::recursive_directory_iterator it(from, ec), end; !ec && it != end; it.increment(ec)) {
    const fs::path target = to / fs::relative(it->path(), from);
    if (it->is_directory(ec)) {
      LATHE_RETURN_IF_ERROR(env->CreateDirs(target.string()));
    } else {
      LATHE_RETURN_IF_ERROR(CopyFile(env, it->path().string(), target.string()));
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
  if (s.ok() && fs::is_directory(out_dir, ec)) {
    // out_dir exists (a rerun, or an evaluation job named like an earlier one: <output>/<jobName>/
    // holds one folder per job id): only the named subfolders are replaced, the rest is kept.
    for (const auto& sub : subdirs) {
      fs::remove_all(out_dir + "/" + sub, ec);
      if (s.ok() && fs::exists(staging + "/" + sub, ec)) s = env->RenameFile(staging + "/" + sub, out_dir + "/" + sub);
    }
    fs::remove_all(staging, ec);
    return s;
  }
  if (s.ok()) s = env->RenameFile(staging, out_dir);
  if (!s.ok()) fs::remove_all(staging, ec);
  return s;
}

}  // namespace lathe::service
