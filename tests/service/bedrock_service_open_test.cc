// lathe serve's start on a data directory that lost its database or cannot be written: it
// refuses, says what is wrong and how to recover, and creates no store in place of the lost one.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "service/bedrock_service.h"
#include "test_util.h"

namespace lathe::service {
namespace {

namespace fs = std::filesystem;
using lathe::testing::TempDir;

ServiceConfig ConfigFor(const std::string& data_dir) {
  ServiceConfig c;
  c.data_dir = data_dir;
  c.worker_binary = LATHE_BINARY;
  return c;
}

bool Has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST(BedrockServiceOpen, AMissingOrEmptyDatabaseBesideJobFoldersIsRefused) {
  for (const char* folder : {"jobs", "custom-models"})
    for (bool empty_file : {false, true}) {
      TempDir tmp;
      const std::string data = tmp.File("data");
      fs::create_directories(data + "/" + folder + "/0123abcd");
      if (empty_file) tmp.Write("data/lathe.db", "");
      auto s = BedrockService::Open(ConfigFor(data));
      ASSERT_FALSE(s.ok()) << folder;
      const std::string& m = s.status().message();
      EXPECT_TRUE(Has(m, data + "/lathe.db" + (empty_file ? " is empty (0 bytes)" : " is missing"))) << m;
      EXPECT_TRUE(Has(m, "but " + data + "/" + folder + " holds earlier work")) << m;
      EXPECT_TRUE(Has(m, "Restore lathe.db from a backup")) << m;
      EXPECT_TRUE(Has(m, "to start fresh move " + data + "/jobs and " + data + "/custom-models elsewhere")) << m;
      // Nothing was created in its place.
      EXPECT_EQ(fs::exists(data + "/lathe.db"), empty_file);
      if (empty_file) EXPECT_EQ(fs::file_size(data + "/lathe.db"), 0u);
    }
}

TEST(BedrockServiceOpen, AFreshOrEmptyDataDirectoryStarts) {
  TempDir tmp;
  fs::create_directories(tmp.File("data/jobs"));  // an empty jobs/ holds nothing to lose
  auto s = BedrockService::Open(ConfigFor(tmp.File("data")));
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_GT(fs::file_size(tmp.File("data/lathe.db")), 0u);
}

// Opens the service in a child process as an unprivileged user (root writes anywhere); returns
// the error message, or "" when it opened.
std::string OpenAsUnprivileged(const std::string& data_dir) {
  int fds[2];
  if (::pipe(fds) != 0) return "pipe failed";
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    if (::geteuid() == 0 && (::setgid(65534) != 0 || ::setuid(65534) != 0)) ::_exit(2);
    auto s = BedrockService::Open(ConfigFor(data_dir));
    const std::string m = s.ok() ? "" : s.status().message();
    (void)!::write(fds[1], m.data(), m.size());
    ::_exit(0);
  }
  ::close(fds[1]);
  std::string m;
  char buf[4096];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) m.append(buf, static_cast<size_t>(n));
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "the child could not drop privileges";
  return m;
}

TEST(BedrockServiceOpen, AReadOnlyDataDirectoryIsCalledReadOnlyNotLocked) {
  TempDir tmp;
  const std::string data = tmp.File("data");
  {  // a data directory that was in use, then made read-only
    auto s = BedrockService::Open(ConfigFor(data));
    ASSERT_TRUE(s.ok()) << s.status().ToString();
  }
  fs::permissions(tmp.path(), fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
  fs::permissions(data, fs::perms::owner_read | fs::perms::owner_exec | fs::perms::group_read | fs::perms::group_exec |
                            fs::perms::others_read | fs::perms::others_exec);
  for (const char* f : {"/serve.lock", "/lathe.db"})
    fs::permissions(data + f, fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read);
  const std::string m = OpenAsUnprivileged(data);
  EXPECT_TRUE(Has(m, "the data directory " + data + " is read-only")) << m;
  EXPECT_FALSE(Has(m, "another lathe serve")) << m;
  fs::permissions(data, fs::perms::owner_all);
}

}  // namespace
}  // namespace lathe::service
