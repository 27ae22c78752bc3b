#include "store/data_dir_copy.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

#include "core/sha256.h"

namespace lathe::store::backup_internal {
namespace {

Status Errno(const std::string& what, const std::string& path) {
  return Status::IOError("cannot " + what + " " + path + ": " + std::strerror(errno));
}

// Closes a descriptor on every path out.
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

Status CopyFileHashed(const std::string& src, const std::string& dst, FileEntry* entry) {
  Fd in;
  in.fd = ::open(src.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (in.fd < 0) {
    if (errno == ENOENT) return Status::NotFound(src + " disappeared during the copy");
    return Errno("read", src);
  }
  struct stat st {};
  if (::fstat(in.fd, &st) != 0) return Errno("stat", src);
  if (!S_ISREG(st.st_mode)) return Status::InvalidArgument(src + " is not a regular file");
  std::error_code ec;
  std::filesystem::remove(dst, ec);
  Fd out;
  out.fd = ::open(dst.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, st.st_mode & 0777);
  if (out.fd < 0) return Errno("create", dst);
  if (::fchmod(out.fd, st.st_mode & 0777) != 0) return Errno("chmod", dst);  // past the umask: 0600 stays 0600
  Sha256 hash;
  std::vector<char> buf(1 << 20);
  uint64_t total = 0;
  for (;;) {
    const ssize_t n = ::read(in.fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Errno("read", src);
    if (n == 0) break;
    hash.Update(std::string_view(buf.data(), static_cast<size_t>(n)));
    for (ssize_t done = 0; done < n;) {
      const ssize_t w = ::write(out.fd, buf.data() + done, static_cast<size_t>(n - done));
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) return Errno("write", dst);
      done += w;
    }
    total += static_cast<uint64_t>(n);
  }
  if (::fsync(out.fd) != 0) return Errno("sync", dst);
  entry->size = total;
  entry->sha256 = hash.HexDigest();
  entry->mode = st.st_mode & 0777;
  return Status::Ok();
}

Status MakeDirs(const std::string& dir, unsigned mode) {
  std::error_code ec;
  if (std::filesystem::is_directory(dir, ec)) return Status::Ok();
  const std::filesystem::path p(dir);
  if (p.has_parent_path() && p.parent_path() != p) LATHE_RETURN_IF_ERROR(MakeDirs(p.parent_path().string(), 0755));
  if (::mkdir(dir.c_str(), mode) != 0 && errno != EEXIST) return Errno("create the folder", dir);
  ::chmod(dir.c_str(), mode);
  return Status::Ok();
}

Status CheckEmptyTarget(const std::string& dir, const char* what) {
  std::error_code ec;
  if (!std::filesystem::exists(std::filesystem::symlink_status(dir, ec))) return Status::Ok();
  if (!std::filesystem::is_directory(std::filesystem::symlink_status(dir, ec)))
    return Status::InvalidArgument(std::string(what) + " " + dir + " exists and is not a folder");
  std::filesystem::directory_iterator it(dir, ec);
  if (ec) return Status::IOError(std::string("cannot read ") + dir + ": " + ec.message());
  if (it != std::filesystem::directory_iterator())
    return Status::InvalidArgument(std::string(what) + " " + dir + " is not empty (it holds " +
                                   it->path().filename().string() + "); give an empty or new folder");
  return Status::Ok();
}

bool IsSafeRelativePath(const std::string& path) {
  if (path.empty() || path.size() > 4096 || path[0] == '/') return false;
  for (unsigned char c : path)
    if (c < 0x20 || c == 0x7f) return false;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    const std::string part = path.substr(start, end - start);
    if (part.empty() || part == "." || part == "..") return false;
    start = end + 1;
  }
  return true;
}

}  // namespace lathe::store::backup_internal
