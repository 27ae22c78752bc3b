// Helpers shared by the tests: temporary directories, files, the shared/ test assets.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/env.h"

namespace lathe::testing {

// A fresh directory under $TMPDIR, removed when the object dies.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  // path()/name
  std::string File(const std::string& name) const;
  // Writes contents to path()/name and returns the full path.
  std::string Write(const std::string& name, const std::string& contents) const;

 private:
  std::string path_;
};

std::string ReadFile(const std::string& path);

// Polls `done` every 10 ms for up to 30 s (background work the test waits for, not what it measures).
template <typename F>
bool Eventually(F done) {
  for (int i = 0; i < 3000; ++i) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return done();
}

// ../shared beside the checkout, or "" when absent (tests that need it GTEST_SKIP with a reason).
std::string SharedDir();

// The first ```json block after "Create `step_function_definition.json`" in ../shared's
// automation guide: the tutorial's state machine as users copy it; "" when the guide is absent.
std::string TutorialStateMachineDefinition();

// Runs build/lathe with arguments (a shell-quoted string); returns the exit code, captures output.
int RunLatheBinary(const std::string& args, std::string* stdout_text, std::string* stderr_text = nullptr);

// A TCP socket bound to 127.0.0.1 on a port the kernel chose (listening with a backlog of 1 when
// `listen`), its port in *port; -1 on failure. The caller closes it (closing at once leaves a
// port that was free a moment ago, for a server the test starts).
int BindLoopback(int* port, bool listen);

// The real file system, except that appends and closes of files under `prefix` fail once `room`
// bytes are written, as a full disk does (ENOSPC), and directory syncs can be made to fail.
class FullDiskEnv final : public Env {
 public:
  explicit FullDiskEnv(std::string prefix, uint64_t room) : prefix_(std::move(prefix)), room_(room) {}
  bool fail_sync_dir = false;
  int appends = 0;  // Append calls that reached the real file

  Status NewWritableFile(const std::string& path, std::unique_ptr<WritableFile>* out) override {
    LATHE_RETURN_IF_ERROR(base_->NewWritableFile(path, out));
    if (path.rfind(prefix_, 0) == 0) *out = std::make_unique<FullFile>(this, path, std::move(*out));
    return Status::Ok();
  }
  Status NewSequentialFile(const std::string& p, std::unique_ptr<SequentialFile>* o) override {
    return base_->NewSequentialFile(p, o);
  }
  Status NewRandomAccessFile(const std::string& p, std::unique_ptr<RandomAccessFile>* o) override {
    return base_->NewRandomAccessFile(p, o);
  }
  Status GetFileSize(const std::string& p, uint64_t* s) override { return base_->GetFileSize(p, s); }
  bool FileExists(const std::string& p) override { return base_->FileExists(p); }
  Status RenameFile(const std::string& f, const std::string& t) override { return base_->RenameFile(f, t); }
  Status RemoveFile(const std::string& p) override { return base_->RemoveFile(p); }
  Status CreateDirs(const std::string& p) override { return base_->CreateDirs(p); }
  Status GetChildren(const std::string& d, std::vector<std::string>* n) override { return base_->GetChildren(d, n); }
  Status SyncDir(const std::string& d) override {
    if (fail_sync_dir) return Status::IOError("cannot sync directory " + d + ": Input/output error");
    return base_->SyncDir(d);
  }

 private:
  class FullFile final : public WritableFile {
   public:
    FullFile(FullDiskEnv* env, std::string path, std::unique_ptr<WritableFile> f)
        : env_(env), path_(std::move(path)), f_(std::move(f)) {}
    Status Append(std::string_view data) override {
      if (data.size() > env_->room_) {
        (void)f_->Append(data.substr(0, env_->room_));  // a partial write, as the kernel makes
        env_->room_ = 0;
        return Status::IOError("cannot write " + path_ + ": No space left on device");
      }
      env_->room_ -= data.size();
      ++env_->appends;
      return f_->Append(data);
    }
    Status Close() override { return f_->Close(); }

   private:
    FullDiskEnv* env_;
    std::string path_;
    std::unique_ptr<WritableFile> f_;
  };
  Env* base_ = Env::Default();
  std::string prefix_;
  uint64_t room_;
};

}  // namespace lathe::testing

#define LATHE_REQUIRE_SHARED(rel)                                                        \
  do {                                                                                    \
    if (::lathe::testing::SharedDir().empty())                                            \
      GTEST_SKIP() << "../shared is absent: this test needs " << (rel) << " from it";     \
  } while (0)
