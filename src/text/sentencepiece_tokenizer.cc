// SentencePiece models through libsentencepiece (Llama-2 family, llama2.c's tok512.model),
// reached through the liblathe_spm.so shim (spm_shim/spm_shim.h says why).
#include <dlfcn.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <mutex>
#include <vector>

#include "text/sentencepiece_tokenizer.h"
#include "text/spm_shim/spm_shim.h"

namespace lathe::text {
namespace {

// The shim's functions, resolved once per process.
struct SpmApi {
  decltype(&lathe_spm_load) load = nullptr;
  decltype(&lathe_spm_free) free = nullptr;
  decltype(&lathe_spm_vocab_size) vocab_size = nullptr;
  decltype(&lathe_spm_bos_id) bos_id = nullptr;
  decltype(&lathe_spm_eos_id) eos_id = nullptr;
  decltype(&lathe_spm_encode) encode = nullptr;
  decltype(&lathe_spm_decode) decode = nullptr;
  decltype(&lathe_spm_free_buffer) free_buffer = nullptr;
  std::string error;
};

std::string ExecutableDir() {
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string() : exe.parent_path().string();
}

const SpmApi& Api() {
  static SpmApi api;
  static std::once_flag once;
  std::call_once(once, [] {
    // LATHE_SPM_MODULE, then beside the executable, then where this build put it.
    std::vector<std::string> candidates;
    if (const char* env = std::getenv("LATHE_SPM_MODULE")) candidates.push_back(env);
    candidates.push_back(ExecutableDir() + "/liblathe_spm.so");
    candidates.push_back(LATHE_SPM_MODULE_PATH);
    void* h = nullptr;
    std::string errors;
    for (const auto& c : candidates) {
      if (!std::filesystem::exists(c)) continue;
      h = dlopen(c.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
      if (h != nullptr) break;
      errors += std::string(" ") + dlerror();
    }
    if (h == nullptr) {
      api.error = "cannot load liblathe_spm.so (the SentencePiece module; rebuild with scripts/setup.sh)" + errors;
      return;
    }
    auto sym = [&](auto* fn, const char* name) {
      *fn = reinterpret_cast<std::remove_pointer_t<decltype(fn)>>(dlsym(h, name));
      if (*fn == nullptr) api.error = std::string("liblathe_spm.so lacks ") + name;
    };
    sym(&api.load, "lathe_spm_load");
    sym(&api.free, "lathe_spm_free");
    sym(&api.vocab_size, "lathe_spm_vocab_size");
    sym(&api.bos_id, "lathe_spm_bos_id");
    sym(&api.eos_id, "lathe_spm_eos_id");
    sym(&api.encode, "lathe_spm_encode");
    sym(&api.decode, "lathe_spm_decode");
    sym(&api.free_buffer, "lathe_spm_free_buffer");
  });
  return api;
}

class SentencePieceTokenizer final : public Tokenizer {
 public:
  ~SentencePieceTokenizer() override {
    if (spm_ != nullptr) Api().free(spm_);
  }
  Status Load(const std::string& path) {
    const SpmApi& api = Api();
    if (!api.error.empty()) return Status::Internal(api.error);
    char err[512] = {0};
    spm_ = api.load(path.c_str(), err, sizeof err);
    if (spm_ == nullptr)
      return Status::InvalidArgument("cannot load SentencePiece model " + path + ": " + err);
    vocab_size_ = api.vocab_size(spm_);
    return Status::Ok();
  }
  Status Encode(std::string_view text, std::vector<int>* ids) const override {
    int* out = nullptr;
    size_t n = 0;
    if (Api().encode(spm_, text.data(), text.size(), &out, &n) != 0)
      return Status::InvalidArgument("SentencePiece could not encode the text");
    ids->assign(out, out + n);
    Api().free_buffer(out);
    return Status::Ok();
  }
  Status Decode(const std::vector<int>& ids, std::string* text) const override {
    for (int id : ids)
      if (id < 0 || id >= vocab_size_)
        return Status::InvalidArgument("token id " + std::to_string(id) + " is outside the " +
                                       std::to_string(vocab_size_) + "-token vocabulary");
    char* out = nullptr;
    size_t len = 0;
    if (Api().decode(spm_, ids.data(), ids.size(), &out, &len) != 0)
      return Status::InvalidArgument("SentencePiece could not decode the ids");
    text->assign(out, len);
    Api().free_buffer(out);
    return Status::Ok();
  }
  int vocab_size() const override { return vocab_size_; }
  int bos_id() const override { return Api().bos_id(spm_); }
  int eos_id() const override { return Api().eos_id(spm_); }

 private:
  LatheSpm* spm_ = nullptr;
  int vocab_size_ = 0;
};

}  // namespace

Status TrainSentencePiece(const std::vector<std::string>& flags) {
  std::vector<std::string> args = {"spm_train"};
  args.insert(args.end(), flags.begin(), flags.end());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  char log_path[] = "/tmp/lathe-spm-train-XXXXXX";
  int log = mkstemp(log_path);
  if (log < 0) return Status::IOError("cannot create a temporary file for spm_train's log");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, log, 1);
  posix_spawn_file_actions_adddup2(&actions, log, 2);
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, "spm_train", &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  int status = 0;
  if (rc == 0) waitpid(pid, &status, 0);
  std::string output;
  {
    char buf[4096];
    lseek(log, 0, SEEK_SET);
    for (ssize_t n; (n = read(log, buf, sizeof buf)) > 0;) output.append(buf, static_cast<size_t>(n));
    close(log);
    unlink(log_path);
  }
  if (rc != 0)
    return Status::NotFound("cannot run spm_train (Debian package sentencepiece; scripts/setup.sh installs it)");
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    if (output.size() > 2000) output = output.substr(output.size() - 2000);
    return Status::InvalidArgument("SentencePiece training failed:\n" + output);
  }
  return Status::Ok();
}

Result<std::unique_ptr<Tokenizer>> LoadSentencePieceTokenizer(const std::string& path) {
  auto tok = std::make_unique<SentencePieceTokenizer>();
  LATHE_RETURN_IF_ERROR(tok->Load(path));
  return std::unique_ptr<Tokenizer>(std::move(tok));
}

}  // namespace lathe::text
