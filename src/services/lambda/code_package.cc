#include "services/lambda/code_package.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <unzip.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "core/arn.h"
#include "core/checksum.h"
#include "core/sha256.h"
#include "services/lambda/errors.h"

namespace lathe::lambda {
namespace {

// Why raw POSIX here and not Env: unpacking needs file modes (executables), O_EXCL|O_NOFOLLOW
// (no entry may replace or follow anything), and folder creation one component at a time.

const char kCannotUnzip[] = "Could not unzip uploaded file. Please check your file, then try to upload again.";

// minizip reads the zip from memory through these (no temporary copy of the upload).
struct MemoryZip {
  std::string_view bytes;
  uint64_t pos = 0;
};
voidpf ZCALLBACK MemOpen(voidpf opaque, const void*, int) { return opaque; }
uLong ZCALLBACK MemRead(voidpf, voidpf stream, void* buf, uLong size) {
  auto* m = static_cast<MemoryZip*>(stream);
  if (m->pos >= m->bytes.size()) return 0;
  uLong n = static_cast<uLong>(std::min<uint64_t>(size, m->bytes.size() - m->pos));
  std::memcpy(buf, m->bytes.data() + m->pos, n);
  m->pos += n;
  return n;
}
uLong ZCALLBACK MemWrite(voidpf, voidpf, const void*, uLong) { return 0; }
ZPOS64_T ZCALLBACK MemTell(voidpf, voidpf stream) { return static_cast<MemoryZip*>(stream)->pos; }
long ZCALLBACK MemSeek(voidpf, voidpf stream, ZPOS64_T offset, int origin) {
  auto* m = static_cast<MemoryZip*>(stream);
  uint64_t base = origin == ZLIB_FILEFUNC_SEEK_SET ? 0 : origin == ZLIB_FILEFUNC_SEEK_CUR ? m->pos : m->bytes.size();
  if (offset > m->bytes.size() || base + offset > m->bytes.size()) return -1;
  m->pos = base + offset;
  return 0;
}
int ZCALLBACK MemClose(voidpf, voidpf) { return 0; }
int ZCALLBACK MemError(voidpf, voidpf) { return 0; }

Status Errno(const std::string& what) { return ServiceError(what + ": " + std::strerror(errno)); }

// Creates every folder of `rel` (relative, checked) under `root`; each must be a real folder.
Status MakeDirs(const std::string& root, std::string_view rel) {
  std::string path = root;
  size_t start = 0;
  while (start < rel.size()) {
    size_t slash = rel.find('/', start);
    if (slash == std::string_view::npos) slash = rel.size();
    path += "/";
    path.append(rel.substr(start, slash - start));
    if (::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST) return Errno("cannot create " + path);
    struct stat st;
    if (::lstat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
      return InvalidParameterValue(std::string(kCannotUnzip) + " (an entry is both a file and a folder: " +
                                   std::string(rel.substr(0, slash)) + ")");
    start = slash + 1;
  }
  return Status::Ok();
}

Status WriteAll(int fd, const char* data, size_t n, const std::string& path) {
  while (n > 0) {
    ssize_t w = ::write(fd, data, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return Errno("cannot write " + path);
    data += w;
    n -= static_cast<size_t>(w);
  }
  return Status::Ok();
}

std::string HexToBytes(const std::string& hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return out;
}

class UnzipFile {
 public:
  explicit UnzipFile(unzFile f) : f_(f) {}
  ~UnzipFile() {
    if (f_) unzClose(f_);
  }
  unzFile get() const { return f_; }

 private:
  unzFile f_;
};

}  // namespace

Status CheckEntryName(std::string_view name, const ZipLimits& limits) {
  auto bad = [&](const std::string& why) {
    return InvalidParameterValue(std::string(kCannotUnzip) + " (entry name refused: " + why + ")");
  };
  if (name.empty()) return bad("empty");
  if (name.size() > limits.max_name_bytes)
    return bad("longer than " + std::to_string(limits.max_name_bytes) + " bytes");
  if (name[0] == '/') return bad("absolute path");
  size_t depth = 0, start = 0;
  for (char c : name)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f || c == '\\') return bad("control character or backslash");
  while (start < name.size()) {
    size_t slash = name.find('/', start);
    if (slash == std::string_view::npos) slash = name.size();
    std::string_view part = name.substr(start, slash - start);
    if (part.empty() && slash != name.size()) return bad("empty path component");
    if (part == "." || part == "..") return bad("'.' or '..' component");
    if (++depth > limits.max_depth) return bad("nested deeper than " + std::to_string(limits.max_depth));
    start = slash + 1;
  }
  return Status::Ok();
}

Result<UnzippedCode> UnzipTo(std::string_view zip, const std::string& dir, const ZipLimits& limits) {
  if (zip.size() > limits.max_zip_bytes)
    return RequestTooLarge("Zipped size must be smaller than " + std::to_string(limits.max_zip_bytes) + " bytes");
  MemoryZip mem{zip, 0};
  zlib_filefunc64_def funcs{MemOpen, MemRead, MemWrite, MemTell, MemSeek, MemClose, MemError, &mem};
  UnzipFile uz(unzOpen2_64("code.zip", &funcs));
  if (!uz.get()) return InvalidParameterValue(kCannotUnzip);
  unz_global_info64 global;
  if (unzGetGlobalInfo64(uz.get(), &global) != UNZ_OK) return InvalidParameterValue(kCannotUnzip);
  if (global.number_entry > limits.max_entries)
    return InvalidParameterValue(std::string(kCannotUnzip) + " (more than " + std::to_string(limits.max_entries) +
                                 " entries)");
  if (::mkdir(dir.c_str(), 0755) != 0) return Errno("cannot create " + dir);
  UnzippedCode out;
  std::vector<char> buf(64 << 10);
  size_t entries = 0;
  for (int rc = unzGoToFirstFile(uz.get()); rc != UNZ_END_OF_LIST_OF_FILE; rc = unzGoToNextFile(uz.get())) {
    if (rc != UNZ_OK) return InvalidParameterValue(kCannotUnzip);
    if (++entries > limits.max_entries)
      return InvalidParameterValue(std::string(kCannotUnzip) + " (more than " + std::to_string(limits.max_entries) +
                                   " entries)");
    unz_file_info64 info;
    std::vector<char> name_buf(limits.max_name_bytes + 2);
    if (unzGetCurrentFileInfo64(uz.get(), &info, name_buf.data(), name_buf.size(), nullptr, 0, nullptr, 0) != UNZ_OK)
      return InvalidParameterValue(kCannotUnzip);
    if (info.size_filename > limits.max_name_bytes)
      return InvalidParameterValue(std::string(kCannotUnzip) + " (entry name refused: longer than " +
                                   std::to_string(limits.max_name_bytes) + " bytes)");
    std::string name(name_buf.data(), info.size_filename);
    if (name.find('\0') != std::string::npos)
      return InvalidParameterValue(std::string(kCannotUnzip) + " (entry name refused: NUL byte)");
    const bool is_dir = !name.empty() && name.back() == '/';
    std::string rel = is_dir ? name.substr(0, name.size() - 1) : name;
    LATHE_RETURN_IF_ERROR(CheckEntryName(rel, limits));
    if (info.flag & 1) return InvalidParameterValue(std::string(kCannotUnzip) + " (encrypted entry: " + rel + ")");
    const bool unix_made = (info.version >> 8) == 3;
    const unsigned mode = unix_made ? static_cast<unsigned>(info.external_fa >> 16) : 0;
    if (unix_made && S_ISLNK(mode))
      return InvalidParameterValue(std::string(kCannotUnzip) + " (symbolic links are not supported: " + rel + ")");
    if (is_dir || (unix_made && S_ISDIR(mode))) {
      LATHE_RETURN_IF_ERROR(MakeDirs(dir, rel));
      continue;
    }
    size_t slash = rel.rfind('/');
    if (slash != std::string::npos) LATHE_RETURN_IF_ERROR(MakeDirs(dir, std::string_view(rel).substr(0, slash)));
    const std::string path = dir + "/" + rel;
    const mode_t file_mode = (mode & 0111) ? 0755 : 0644;
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, file_mode);
    if (fd < 0) {
      if (errno == EEXIST || errno == EISDIR || errno == ELOOP)
        return InvalidParameterValue(std::string(kCannotUnzip) + " (duplicate entry: " + rel + ")");
      return Errno("cannot create " + path);
    }
    if (unzOpenCurrentFile(uz.get()) != UNZ_OK) {
      ::close(fd);
      return InvalidParameterValue(std::string(kCannotUnzip) + " (unsupported entry: " + rel + ")");
    }
    Status st;
    for (;;) {
      int n = unzReadCurrentFile(uz.get(), buf.data(), static_cast<unsigned>(buf.size()));
      if (n < 0) {
        st = InvalidParameterValue(std::string(kCannotUnzip) + " (corrupt entry: " + rel + ")");
        break;
      }
      if (n == 0) break;
      out.bytes += static_cast<uint64_t>(n);
      if (out.bytes > limits.max_unzipped_bytes) {
        st = InvalidParameterValue("Unzipped size must be smaller than " + std::to_string(limits.max_unzipped_bytes) +
                                   " bytes");
        break;
      }
      st = WriteAll(fd, buf.data(), static_cast<size_t>(n), path);
      if (!st.ok()) break;
    }
    int close_rc = unzCloseCurrentFile(uz.get());  // UNZ_CRCERROR when the bytes do not match
    if (st.ok() && close_rc != UNZ_OK)
      st = InvalidParameterValue(std::string(kCannotUnzip) + " (CRC mismatch in entry: " + rel + ")");
    if (st.ok() && ::fsync(fd) != 0) st = Errno("cannot sync " + path);
    ::close(fd);
    LATHE_RETURN_IF_ERROR(st);
    ++out.files;
  }
  return out;
}

Result<CodeStore::Stored> CodeStore::Add(std::string_view zip) { return AddAs(NewResourceId(20), zip); }

Result<CodeStore::Stored> CodeStore::AddAs(const std::string& id, std::string_view zip) {
  if (id.empty() || id.size() > kMaxCodeIdBytes ||
      id.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") != std::string::npos)
    return InvalidParameterValue("a code id has 1 to 64 letters and digits");
  if (::mkdir(root_.c_str(), 0755) != 0 && errno != EEXIST) {
    LATHE_RETURN_IF_ERROR(Env::Default()->CreateDirs(root_));
  }
  Stored s;
  s.id = id;
  const std::string tmp = root_ + "/" + s.id + ".tmp";
  if (::mkdir(tmp.c_str(), 0755) != 0) return Errno("cannot create " + tmp);
  Result<UnzippedCode> unzipped = UnzipTo(zip, tmp + "/task", limits_);
  if (!unzipped.ok()) {
    RemoveTree(tmp);
    return unzipped.status();
  }
  s.unzipped = *unzipped;
  Status st = WriteFileAtomically(Env::Default(), tmp + "/code.zip", zip);
  if (st.ok()) st = Env::Default()->SyncDir(tmp + "/task");
  if (st.ok() && ::rename(tmp.c_str(), (root_ + "/" + s.id).c_str()) != 0) st = Errno("cannot rename " + tmp);
  if (st.ok()) st = Env::Default()->SyncDir(root_);
  if (!st.ok()) {
    RemoveTree(tmp);
    RemoveTree(root_ + "/" + s.id);
    return st;
  }
  s.zip_bytes = zip.size();
  s.sha256_b64 = CodeSha256(zip);
  return s;
}

std::string CodeSha256(std::string_view zip) { return Base64Encode(HexToBytes(Sha256Hex(zip))); }

bool CodeStore::Has(const std::string& id) const {
  struct stat st;
  return !id.empty() && id.find('/') == std::string::npos && ::stat(TaskDir(id).c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

void CodeStore::Remove(const std::string& id) {
  if (!id.empty() && id.find('/') == std::string::npos && id != "." && id != "..") RemoveTree(root_ + "/" + id);
}

std::vector<std::string> CodeStore::Children() const {
  std::vector<std::string> names;
  (void)Env::Default()->GetChildren(root_, &names);
  return names;
}

void RemoveTree(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) return;
  if (S_ISDIR(st.st_mode)) {
    if (DIR* d = ::opendir(path.c_str())) {
      std::vector<std::string> names;
      while (dirent* e = ::readdir(d))
        if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) names.emplace_back(e->d_name);
      ::closedir(d);
      for (const auto& n : names) RemoveTree(path + "/" + n);
    }
    ::rmdir(path.c_str());
  } else {
    ::unlink(path.c_str());
  }
}

}  // namespace lathe::lambda
