#include "test_util.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace lathe::testing {
namespace fs = std::filesystem;

TempDir::TempDir() {
  std::string tmpl = (fs::temp_directory_path() / "lathe-test-XXXXXX").string();
  if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

std::string TempDir::File(const std::string& name) const { return (fs::path(path_) / name).string(); }

std::string TempDir::Write(const std::string& name, const std::string& contents) const {
  std::string p = File(name);
  fs::create_directories(fs::path(p).parent_path());
  std::ofstream(p, std::ios::binary) << contents;
  return p;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string SharedDir() {
  const char* env = std::getenv("LATHE_SHARED_DIR");
  std::string dir = env != nullptr ? env : LATHE_SHARED_DIR;
  std::error_code ec;
  return fs::is_directory(dir, ec) ? dir : "";
}

std::string TutorialStateMachineDefinition() {
  const std::string shared = SharedDir();
  if (shared.empty()) return "";
  const std::string text = ReadFile(shared + "/seeds/bedrock-fine-tuning-automation-guide.md");
  size_t at = text.find("Create `step_function_definition.json`");
  if (at == std::string::npos) return "";
  size_t open = text.find("```json\n", at);
  if (open == std::string::npos) return "";
  open += 8;
  size_t close = text.find("\n```", open);
  return close == std::string::npos ? "" : text.substr(open, close - open);
}

int RunLatheBinary(const std::string& args, std::string* stdout_text, std::string* stderr_text) {
  TempDir tmp;
  std::string out = tmp.File("out"), err = tmp.File("err");
  std::string cmd = std::string(LATHE_BINARY) + " " + args + " >" + out + " 2>" + err + " </dev/null";
  int status = std::system(cmd.c_str());
  if (stdout_text) *stdout_text = ReadFile(out);
  if (stderr_text) *stderr_text = ReadFile(err);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace lathe::testing
