#include "test_util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
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

int BindLoopback(int* port, bool listen) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || (listen && ::listen(fd, 1) != 0) ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    ::close(fd);
    return -1;
  }
  *port = ntohs(a.sin_port);
  return fd;
}

}  // namespace lathe::testing
