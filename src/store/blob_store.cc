#include "store/blob_store.h"

#include <sys/random.h>

#include <cerrno>
#include <cstring>

namespace lathe::store {
namespace {

constexpr size_t kIdBytes = 16;  // 128 random bits: ids never collide in practice

bool IsLowerHex(std::string_view s) {
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

// From the kernel's CSPRNG: ids must not repeat across restarts, so no seeded generator.
Result<std::string> NewBlobId() {
  unsigned char bytes[kIdBytes];
  size_t got = 0;
  while (got < sizeof bytes) {
    const ssize_t r = ::getrandom(bytes + got, sizeof bytes - got, 0);
    if (r < 0) {
      if (errno == EINTR) continue;
      return Status::IOError(std::string("cannot draw a blob id: ") + std::strerror(errno));
    }
    got += static_cast<size_t>(r);
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id(2 * kIdBytes, '0');
  for (size_t i = 0; i < kIdBytes; ++i) {
    id[2 * i] = kHex[bytes[i] >> 4];
    id[2 * i + 1] = kHex[bytes[i] & 0xf];
  }
  return id;
}

class BlobWriter final : public BlobStore::Writer {
 public:
  BlobWriter(Env* env, std::string root, std::string id, std::unique_ptr<WritableFile> file)
      : env_(env), root_(std::move(root)), id_(std::move(id)), tmp_(root_ + "/tmp/" + id_ + ".part"),
        file_(std::move(file)) {}
  ~BlobWriter() override { Discard(); }

  Status Append(std::string_view data) override {
    if (!file_) return Spent();
    // Passed on as is: the Env's file writes large pieces straight through, without a copy.
    Status s = file_->Append(data);
    if (!s.ok()) {
      Discard();
      return s;
    }
    size_ += data.size();
    return Status::Ok();
  }

  uint64_t size() const override { return size_; }

  Result<std::string> Commit() override {
    if (!file_) return Spent();
    Status s = file_->Close();  // flush + fsync: the bytes are on disk before the name is
    if (!s.ok()) {
      Discard();
      return s;
    }
    file_.reset();
    const std::string blobs = root_ + "/blobs";
    const std::string dir = blobs + "/" + id_.substr(0, 2);
    if (!env_->FileExists(dir)) {
      s = env_->CreateDirs(dir);
      if (s.ok()) s = env_->SyncDir(blobs);
    }
    if (s.ok()) s = env_->RenameFile(tmp_, dir + "/" + id_);
    if (!s.ok()) {
      (void)env_->RemoveFile(tmp_);
      return s;
    }
    renamed_ = true;
    // Without this a crash could forget the rename after the index recorded the blob.
    s = env_->SyncDir(dir);
    if (!s.ok()) {
      (void)env_->RemoveFile(dir + "/" + id_);
      return s;
    }
    return id_;
  }

 private:
  static Status Spent() {
    return Status::Internal("this blob writer is spent (it failed or was committed); start a new one");
  }
  // Closes nothing (a file not closed is abandoned) and removes the temporary file.
  void Discard() {
    if (!file_ || renamed_) return;
    file_.reset();
    (void)env_->RemoveFile(tmp_);
  }

  Env* env_;
  std::string root_, id_, tmp_;
  std::unique_ptr<WritableFile> file_;
  uint64_t size_ = 0;
  bool renamed_ = false;
};

}  // namespace

Result<std::unique_ptr<BlobStore>> BlobStore::Open(Env* env, std::string root) {
  while (root.size() > 1 && root.back() == '/') root.pop_back();
  LATHE_RETURN_IF_ERROR(env->CreateDirs(root + "/blobs"));
  LATHE_RETURN_IF_ERROR(env->CreateDirs(root + "/tmp"));
  LATHE_RETURN_IF_ERROR(env->SyncDir(root));
  return std::unique_ptr<BlobStore>(new BlobStore(env, std::move(root)));
}

Result<std::unique_ptr<BlobStore::Writer>> BlobStore::Create() {
  auto id = NewBlobId();
  if (!id.ok()) return id.status();
  std::unique_ptr<WritableFile> file;
  LATHE_RETURN_IF_ERROR(env_->NewWritableFile(root_ + "/tmp/" + *id + ".part", &file));
  return std::unique_ptr<Writer>(new BlobWriter(env_, root_, std::move(*id), std::move(file)));
}

bool BlobStore::IsBlobId(std::string_view id) { return id.size() == 2 * kIdBytes && IsLowerHex(id); }

std::string BlobStore::PathOf(const std::string& id) const {
  return root_ + "/blobs/" + id.substr(0, 2) + "/" + id;
}

Status BlobStore::Open(const std::string& id, std::unique_ptr<RandomAccessFile>* file, uint64_t* size) const {
  // Ids come from the index; a damaged row must not name a path outside blobs/.
  if (!IsBlobId(id)) return Status::Corruption("not a blob id: \"" + id + "\"");
  const std::string path = PathOf(id);
  LATHE_RETURN_IF_ERROR(env_->NewRandomAccessFile(path, file));
  return env_->GetFileSize(path, size);
}

Status BlobStore::Remove(const std::string& id) {
  if (!IsBlobId(id)) return Status::Corruption("not a blob id: \"" + id + "\"");
  // No directory sync: a removal a crash forgets leaves an orphan, which start-up removes.
  Status s = env_->RemoveFile(PathOf(id));
  if (s.code() == Status::Code::kNotFound) return Status::Ok();
  return s;
}

Result<size_t> BlobStore::RemoveOrphans(const std::set<std::string>& live, std::vector<std::string>* left_alone) {
  size_t removed = 0;
  std::vector<std::string> names;
  LATHE_RETURN_IF_ERROR(env_->GetChildren(root_ + "/tmp", &names));
  for (const auto& name : names) {
    const std::string path = root_ + "/tmp/" + name;
    Status s = env_->RemoveFile(path);
    if (s.ok()) ++removed;
    else if (s.code() != Status::Code::kNotFound && left_alone) left_alone->push_back(path);  // e.g. a folder
  }
  std::vector<std::string> dirs;
  const std::string blobs = root_ + "/blobs";
  LATHE_RETURN_IF_ERROR(env_->GetChildren(blobs, &dirs));
  for (const auto& dir : dirs) {
    if (dir.size() != 2 || !IsLowerHex(dir)) {
      if (left_alone) left_alone->push_back(blobs + "/" + dir);
      continue;
    }
    Status s = env_->GetChildren(blobs + "/" + dir, &names);
    if (!s.ok()) {  // e.g. a file named like a folder
      if (left_alone) left_alone->push_back(blobs + "/" + dir);
      continue;
    }
    for (const auto& name : names) {
      const std::string path = blobs + "/" + dir + "/" + name;
      if (!IsBlobId(name) || name.compare(0, 2, dir) != 0) {
        if (left_alone) left_alone->push_back(path);
        continue;
      }
      if (live.count(name)) continue;
      s = env_->RemoveFile(path);
      if (!s.ok() && s.code() != Status::Code::kNotFound) return s;
      ++removed;
    }
  }
  return removed;
}

}  // namespace lathe::store
