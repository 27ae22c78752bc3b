#include "service/data_locations.h"

#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <optional>

namespace lathe::service {
namespace {

// The URI as a local absolute path. Only the string is looked at, so these messages reveal
// nothing about the filesystem. Length first, then bytes, then the form.
Result<std::string> LocalPath(const std::string& uri, size_t max_length) {
  if (uri.empty() || uri.size() > max_length)
    return Status::InvalidArgument("the URI has " + std::to_string(uri.size()) +
                                   " characters; it must have between 1 and " + std::to_string(max_length));
  for (size_t i = 0; i < uri.size(); ++i) {
    const auto c = static_cast<unsigned char>(uri[i]);
    if (c < 0x20 || c == 0x7f) {  // a NUL would cut the path short in every system call
      char what[64];
      std::snprintf(what, sizeof what, "a control character (byte 0x%02x at offset %zu)", c, i);
      return Status::InvalidArgument(std::string("the URI holds ") + what + "; paths must not");
    }
  }
  std::string path = uri;
  if (uri.rfind("file://", 0) == 0) path = uri.substr(7);
  else if (uri.rfind("s3://", 0) == 0)
    return Status::InvalidArgument(uri + ": s3:// needs lathe serve's S3 store, which this process does not "
                                         "have; here data is read from file:///absolute/path");
  if (path.empty() || path[0] != '/')
    return Status::InvalidArgument(uri + ": expected file:///absolute/path or an absolute path");
  return path;
}

std::optional<std::string> RealPath(const std::string& path) {
  char* r = ::realpath(path.c_str(), nullptr);
  if (r == nullptr) return std::nullopt;
  std::string out(r);
  std::free(r);
  return out;
}

// Whether `path` is `dir` or inside it; both resolved.
bool Under(const std::string& path, const std::string& dir) {
  if (dir == "/") return true;
  return path.compare(0, dir.size(), dir) == 0 && (path.size() == dir.size() || path[dir.size()] == '/');
}

std::string Join(const std::string& dir, const std::string& name) {
  return dir == "/" ? "/" + name : dir + "/" + name;
}

// Kernel filesystems: their "files" are process memory, environment, devices and settings, and
// /proc's look like regular files to stat. Never data, whatever a root contains.
bool OnKernelFilesystem(const std::string& real) {
  for (const char* dir : {"/proc", "/sys", "/dev"})
    if (Under(real, dir)) return true;
  // An output folder not yet created has no filesystem: its deepest existing folder is checked.
  struct statfs fs {};
  if (::statfs(real.c_str(), &fs) != 0) return false;
  switch (static_cast<unsigned long>(fs.f_type)) {
    case PROC_SUPER_MAGIC: case SYSFS_MAGIC: case DEBUGFS_MAGIC: case TRACEFS_MAGIC: case SECURITYFS_MAGIC:
    case CGROUP_SUPER_MAGIC: case CGROUP2_SUPER_MAGIC: case DEVPTS_SUPER_MAGIC: case BPF_FS_MAGIC:
      return true;
    default:
      return false;
  }
}

bool IsDirectory(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::string NotReadable(const std::string& uri) {
  return uri + ": no such file, or not one this server may read (it reads regular files in the folders "
               "listed as fileRoots in its config; see docs/serve.md)";
}

std::string NotWritable(const std::string& uri) {
  return uri + ": not a folder this server may write (outputs go in the folders listed as fileRoots in its "
               "config; see docs/serve.md)";
}

// An output path: its deepest existing folder, resolved, and the names still to create below it.
struct OutputPath {
  std::string existing;
  std::vector<std::string> to_create;
  std::string Full() const {
    std::string p = existing;
    for (const auto& name : to_create) p = Join(p, name);
    return p;
  }
};

// Splits `path` into names; "." and ".." (which would climb out of what was checked) and empty
// names are refused rather than interpreted. A trailing "/" is fine (Bedrock's ".../output/").
Result<std::vector<std::string>> OutputNames(const std::string& uri, const std::string& path) {
  std::vector<std::string> names;
  size_t end = path.size();
  while (end > 1 && path[end - 1] == '/') --end;
  for (size_t p = 1; p < end;) {
    size_t q = path.find('/', p);
    if (q == std::string::npos || q > end) q = end;
    std::string name = path.substr(p, q - p);
    if (name.empty() || name == "." || name == "..")
      return Status::InvalidArgument(uri + ": an output folder path must not hold empty, \".\" or \"..\" parts");
    names.push_back(std::move(name));
    p = q + 1;
  }
  return names;
}

}  // namespace

LocalDataLocations::LocalDataLocations(std::vector<std::string> roots, std::string data_dir)
    : roots_(std::move(roots)), data_dir_(std::move(data_dir)) {}

bool LocalDataLocations::Allowed(const std::string& real) const {
  if (OnKernelFilesystem(real)) return false;
  if (!data_dir_.empty()) {
    // Resolved now, not at start: the folders may be created or moved while the server runs.
    std::error_code ec;
    const std::string data = std::filesystem::weakly_canonical(data_dir_, ec).string();
    const auto files = RealPath(Join(data, "files"));
    if (!ec && Under(real, data) && !(files && Under(real, *files))) return false;  // the keys, the database, jobs
  }
  for (const auto& root : roots_)
    if (auto r = RealPath(root); r && Under(real, *r)) return true;
  return false;
}

Result<std::string> LocalDataLocations::FileForReading(const std::string& uri) const {
  auto path = LocalPath(uri, kMaxDataUriLength);
  if (!path.ok()) return path;
  // One answer for missing, outside the roots, and not a regular file.
  auto real = RealPath(*path);
  struct stat st {};
  if (!real || !Allowed(*real) || ::stat(real->c_str(), &st) != 0 || !S_ISREG(st.st_mode))
    return Status::InvalidArgument(NotReadable(uri));
  return *real;
}

namespace {

// The deepest existing folder of `path`, resolved and allowed, and the names below it.
template <typename AllowedFn>
Result<OutputPath> ResolveOutput(const std::string& uri, const std::string& path, AllowedFn allowed) {
  auto names = OutputNames(uri, path);
  if (!names.ok()) return names.status();
  // Whatever does not exist (or cannot be looked at) is walked past, so a path outside the roots
  // gets the same answer whether or not it exists: "/" always does, and is checked like the rest.
  for (size_t n = names->size() + 1; n-- > 0;) {
    std::string prefix = "/";
    for (size_t i = 0; i < n; ++i) prefix = Join(prefix, (*names)[i]);
    struct stat st {};
    if (::stat(prefix.c_str(), &st) != 0) continue;
    auto real = RealPath(prefix);
    OutputPath out;
    if (real) out = {*real, std::vector<std::string>(names->begin() + static_cast<long>(n), names->end())};
    if (!real || !allowed(*real) || !S_ISDIR(st.st_mode) || !allowed(out.Full()))
      return Status::InvalidArgument(NotWritable(uri));
    return out;
  }
  return Status::InvalidArgument(NotWritable(uri));
}

}  // namespace

Result<std::string> LocalDataLocations::FolderForWriting(const std::string& uri) const {
  auto path = LocalPath(uri, kMaxDataUriLength);
  if (!path.ok()) return path;
  auto out = ResolveOutput(uri, *path, [this](const std::string& p) { return Allowed(p); });
  if (!out.ok()) return out.status();
  return out->Full();
}

Result<std::string> LocalDataLocations::CreateFolderForWriting(const std::string& uri) const {
  // A stored answer of FolderForWriting: resolving may have made it longer than a URI may be.
  auto path = LocalPath(uri, PATH_MAX);
  if (!path.ok()) return path;
  auto out = ResolveOutput(uri, *path, [this](const std::string& p) { return Allowed(p); });
  if (!out.ok()) return out.status();
  // One name at a time: mkdir never follows a symlink at the name it creates.
  std::string dir = out->existing;
  for (const auto& name : out->to_create) {
    dir = Join(dir, name);
    if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST)
      return Status::IOError(uri + ": cannot create the output folder " + dir + ": " + std::strerror(errno));
  }
  // Something may have been swapped in while we created: the folder must be where it was checked.
  const std::string want = out->Full();
  auto real = RealPath(want);
  if (!real || *real != want || !IsDirectory(*real) || !Allowed(*real))
    return Status::InvalidArgument(NotWritable(uri));
  return *real;
}

}  // namespace lathe::service
