// A function's code as lathe keeps it: the uploaded zip unpacked into a folder of its own,
//   DATA_DIR/lambda/code/<code id>/code.zip   the zip as uploaded (GetFunction's Code.Location)
//   DATA_DIR/lambda/code/<code id>/task/      its files (the function's working directory)
// built under "<code id>.tmp" and renamed into place once every file is synced, so a crash never
// leaves a half-unpacked folder under a name a function refers to. Zips are untrusted: every
// entry name is checked before a byte is written (no absolute paths, no "..", no backslashes,
// no symbolic links), and sizes and counts are bounded by what is actually inflated, never by
// what the zip's headers claim.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace lathe::lambda {

struct ZipLimits {
  uint64_t max_zip_bytes = 50ull << 20;         // AWS: 50 MB zipped, direct upload
  uint64_t max_unzipped_bytes = 262144000;      // AWS: 250 MB unzipped
  size_t max_entries = 10000;                   // files and folders
  size_t max_name_bytes = 1024;                 // one entry's path
  size_t max_depth = 64;                        // folders in one entry's path
};

inline constexpr size_t kMaxCodeIdBytes = 64;

struct UnzippedCode {
  uint64_t bytes = 0;  // inflated bytes written
  size_t files = 0;
};

// Unpacks `zip` into `dir` (created; must not exist). Errors are InvalidParameterValueException
// with AWS's wording where AWS has one ("Could not unzip uploaded file...", "Unzipped size must
// be smaller than 262144000 bytes"); on error `dir` may hold part of the files (callers build in
// a temporary folder and remove it).
Result<UnzippedCode> UnzipTo(std::string_view zip, const std::string& dir, const ZipLimits& limits);

// Whether `name` is a zip entry name lathe writes: relative, '/'-separated, no "." or ".."
// component, no backslash or control character, within the limits.
Status CheckEntryName(std::string_view name, const ZipLimits& limits);

// CodeSha256 as AWS reports it: base64 of the zip's SHA-256.
std::string CodeSha256(std::string_view zip);

// The code folders under root (DATA_DIR/lambda/code).
class CodeStore {
 public:
  CodeStore(std::string root, ZipLimits limits) : root_(std::move(root)), limits_(limits) {}
  const ZipLimits& limits() const { return limits_; }

  struct Stored {
    std::string id;          // the folder's name
    uint64_t zip_bytes = 0;  // CodeSize
    std::string sha256_b64;  // CodeSha256: base64 of the zip's SHA-256, as AWS reports it
    UnzippedCode unzipped;
  };
  // Unpacks and keeps `zip` under a fresh id.
  Result<Stored> Add(std::string_view zip);
  // The same under `id` (1 to kMaxCodeIdBytes letters and digits; a folder of that name must not
  // exist): a worker keeps a function's code under the id the API node gave it.
  Result<Stored> AddAs(const std::string& id, std::string_view zip);
  bool Has(const std::string& id) const;
  std::string TaskDir(const std::string& id) const { return root_ + "/" + id + "/task"; }
  std::string ZipPath(const std::string& id) const { return root_ + "/" + id + "/code.zip"; }
  // Removes a code folder (best effort: a failure leaves an orphan that Sweep removes later).
  void Remove(const std::string& id);
  // Removes folders (and leftover .tmp builds) whose id `in_use` does not know: what a crash
  // between unpacking and saving the function, or between saving and removing, left behind.
  template <typename InUse>
  void Sweep(const InUse& in_use);

 private:
  std::vector<std::string> Children() const;
  std::string root_;
  ZipLimits limits_;
};

// Removes a folder tree (no symbolic link is followed). Best effort.
void RemoveTree(const std::string& path);

template <typename InUse>
void CodeStore::Sweep(const InUse& in_use) {
  for (const std::string& name : Children())
    if (name.size() > 4 && name.compare(name.size() - 4, 4, ".tmp") == 0) RemoveTree(root_ + "/" + name);
    else if (!in_use(name)) RemoveTree(root_ + "/" + name);
}

}  // namespace lathe::lambda
