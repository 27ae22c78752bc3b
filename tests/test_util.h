// Helpers shared by the tests: temporary directories, files, the shared/ test assets.
#pragma once

#include <string>

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

// ../shared beside the checkout, or "" when absent (tests that need it GTEST_SKIP with a reason).
std::string SharedDir();

// Runs build/lathe with arguments (a shell-quoted string); returns the exit code, captures output.
int RunLatheBinary(const std::string& args, std::string* stdout_text, std::string* stderr_text = nullptr);

}  // namespace lathe::testing

#define LATHE_REQUIRE_SHARED(rel)                                                        \
  do {                                                                                    \
    if (::lathe::testing::SharedDir().empty())                                            \
      GTEST_SKIP() << "../shared is absent: this test needs " << (rel) << " from it";     \
  } while (0)
