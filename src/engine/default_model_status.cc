#include "engine/default_model_status.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>

#include <nlohmann/json.hpp>

#include "core/env.h"

namespace lathe::engine {
namespace {

int64_t WallMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Whether some process holds the build's lock now (a build is running).
bool BuildRunning(const std::string& root) {
  const std::string path = DefaultModelLockPath(root);
  const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return false;
  const bool held = ::flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
  ::close(fd);  // drops the shared lock if it was taken
  return held;
}

}  // namespace

std::string DefaultModelProgressPath(const std::string& root) { return root + "/models/lathe-default.progress.json"; }
std::string DefaultModelLockPath(const std::string& root) { return root + "/models/lathe-default.lock"; }

void WriteDefaultModelProgress(const std::string& root, const DefaultModelProgress& p, int64_t started_ms) {
  const nlohmann::json j = {{"stage", p.stage},     {"fraction", p.fraction},   {"detail", p.detail},
                            {"etaSeconds", p.eta_seconds}, {"startedMs", started_ms}, {"updatedMs", WallMillis()}};
  (void)WriteFileAtomically(Env::Default(), DefaultModelProgressPath(root), j.dump() + "\n");  // best effort
}

bool ReadDefaultModelProgress(const std::string& root, DefaultModelProgress* p, int64_t* started_ms) {
  constexpr uint64_t kMaxProgressFileBytes = 64 * 1024;
  const std::string path = DefaultModelProgressPath(root);
  uint64_t size = 0;
  if (!Env::Default()->GetFileSize(path, &size).ok() || size > kMaxProgressFileBytes) return false;
  std::string text;
  if (!ReadFileToString(Env::Default(), path, &text).ok() || text.size() > kMaxProgressFileBytes) return false;
  const auto j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object()) return false;
  try {
    p->stage = j.value("stage", "");
    p->fraction = j.value("fraction", 0.0);
    p->detail = j.value("detail", "");
    p->eta_seconds = j.value("etaSeconds", -1.0);
    *started_ms = j.value("startedMs", int64_t{0});
  } catch (const nlohmann::json::exception&) {
    return false;  // a field of the wrong type: not a file lathe wrote
  }
  // Another process's file: within what a build can say (bars are drawn and seconds counted from these).
  if (!(p->fraction >= 0)) p->fraction = 0;  // also NaN
  p->fraction = std::min(p->fraction, 1.0);
  if (!(p->eta_seconds >= -1)) p->eta_seconds = -1;
  p->eta_seconds = std::min(p->eta_seconds, 1e7);
  if (p->stage.size() > 64) p->stage.resize(64);
  if (p->detail.size() > 256) p->detail.resize(256);
  return true;
}

DefaultModelStatus ReadDefaultModelStatus(const std::string& data_dir) {
  const std::string root = data_dir.empty() ? DefaultDataDir() : data_dir;
  DefaultModelStatus s;
  s.dir = DefaultModelDir(root);
  if (!BuiltDefaultModelDir(root).empty()) {
    s.state = "built";
    std::string text;
    if (ReadFileToString(Env::Default(), s.dir + "/lathe_model_card.json", &text).ok()) {
      const auto j = nlohmann::json::parse(text, nullptr, false);
      if (j.is_object() && j.contains("heldoutPerplexity") && j["heldoutPerplexity"].is_number())
        s.heldout_perplexity = j["heldoutPerplexity"].get<double>();
    }
    return s;
  }
  int64_t started_ms = 0;
  const bool has_progress = ReadDefaultModelProgress(root, &s.progress, &started_ms);
  if (BuildRunning(root)) {
    s.state = "building";
    if (has_progress && started_ms > 0) s.elapsed_seconds = static_cast<double>(WallMillis() - started_ms) / 1000.0;
  } else {
    s.state = has_progress ? "interrupted" : "absent";
  }
  return s;
}

}  // namespace lathe::engine
