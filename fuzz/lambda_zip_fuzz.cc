// Lambda's zip unpacking (minizip under lathe's own checks) on arbitrary bytes: nothing may crash,
// hang or allocate without bound, and nothing may be written outside the target folder: after
// each input the folder holds only real files and folders within the size limit, and the folders
// above it hold nothing else (an entry that climbed one level would land there).
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "services/lambda/code_package.h"
#include "services/lambda/names.h"

using namespace lathe;

namespace {

std::string Root() {
  static std::string root = [] {
    char tmpl[] = "/tmp/lathe-zip-fuzz-XXXXXX";
    const char* made = ::mkdtemp(tmpl);
    if (!made) std::abort();
    std::string r = made;
    ::mkdir((r + "/a").c_str(), 0755);
    ::mkdir((r + "/a/b").c_str(), 0755);
    return r;
  }();
  return root;
}

// Bytes in regular files under `path`; aborts on anything but files and folders.
uint64_t Walk(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) std::abort();
  if (S_ISREG(st.st_mode)) return static_cast<uint64_t>(st.st_size);
  if (!S_ISDIR(st.st_mode)) std::abort();  // a link, a device, a fifo: never made by unpacking
  uint64_t total = 0;
  DIR* d = ::opendir(path.c_str());
  if (!d) std::abort();
  while (dirent* e = ::readdir(d))
    if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) total += Walk(path + "/" + e->d_name);
  ::closedir(d);
  return total;
}

size_t Entries(const std::string& dir) {
  size_t n = 0;
  DIR* d = ::opendir(dir.c_str());
  if (!d) std::abort();
  while (dirent* e = ::readdir(d)) n += std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0;
  ::closedir(d);
  return n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string root = Root();
  const std::string dir = root + "/a/b/code";
  lambda::ZipLimits limits;
  limits.max_zip_bytes = 1 << 20;
  limits.max_unzipped_bytes = 1 << 20;
  limits.max_entries = 64;
  limits.max_depth = 8;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  (void)lambda::UnzipTo(bytes, dir, limits);
  struct stat st;
  if (::lstat(dir.c_str(), &st) == 0 && Walk(dir) > limits.max_unzipped_bytes) std::abort();
  lambda::RemoveTree(dir);
  if (Entries(root) != 1 || Entries(root + "/a") != 1 || Entries(root + "/a/b") != 0) std::abort();
  // The same bytes as an entry name and as a function identifier.
  (void)lambda::CheckEntryName(bytes.substr(0, 4096), limits);
  (void)lambda::ParseFunctionRef(bytes.substr(0, 4096));
  return 0;
}
