#include "services/cleanup/serve_cleanup.h"

#include <chrono>
#include <filesystem>

#include <spdlog/spdlog.h>

namespace lathe::cleanup {
using nlohmann::json;

namespace {

std::string CanonicalDir(const std::string& path) {
  std::error_code ec;
  std::string s = std::filesystem::weakly_canonical(path, ec).string();
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

}  // namespace

Result<json> HandleCleanupRequest(Cleaner* cleaner, const service::RetentionPolicy& configured, const json& body) {
  if (!body.is_object()) return Status::InvalidArgument("the request body must be a JSON object {\"dryRun\", \"policy\"}");
  bool dry_run = false;
  service::RetentionPolicy policy = configured;
  for (const auto& [key, v] : body.items()) {
    if (key == "dryRun") {
      if (!v.is_boolean()) return Status::InvalidArgument("dryRun must be true or false");
      dry_run = v.get<bool>();
    } else if (key == "dataDir") {
      // The caller found this server through a data directory's serve.url: it must be this one.
      if (!v.is_string() || v.get<std::string>().empty() || v.get<std::string>().size() > kMaxDataDirChars)
        return Status::InvalidArgument("dataDir must be a path of 1 to " + std::to_string(kMaxDataDirChars) + " characters");
      const std::string asked = CanonicalDir(v.get<std::string>()), held = CanonicalDir(cleaner->data_dir());
      if (asked != held)
        return Status::InvalidArgument("dataDir " + v.get<std::string>().substr(0, 256) +
                                       " is not this server's data directory (" + held + ")");
    } else if (key == "policy") {
      auto p = service::RetentionPolicyFromJson(v, "policy", configured);
      if (!p.ok()) return p.status();
      policy = *p;
    } else {
      return Status::InvalidArgument("unknown member " + key.substr(0, 64) + " (known: dryRun, policy, dataDir)");
    }
  }
  auto report = cleaner->Run(policy, dry_run);
  if (!report.ok()) return report.status();
  return RunReportToJson(*report);
}

void PeriodicCleanup::Start() {
  if (!policy_.enabled() || thread_.joinable()) return;
  thread_ = std::thread([this] { Loop(); });
}

void PeriodicCleanup::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void PeriodicCleanup::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!wake_.wait_for(lock, std::chrono::milliseconds(interval_ms_), [this] { return stopping_; })) {
    lock.unlock();
    auto report = cleaner_->Run(policy_, /*dry_run=*/false);
    if (!report.ok()) {
      spdlog::warn("periodic cleanup failed: {}", report.status().ToString());
    } else if (!report->results.empty() || report->recovered) {
      size_t done = 0;
      for (const auto& r : report->results) done += r.done ? 1 : 0;
      spdlog::info("periodic cleanup: {} of {} items deleted, {} bytes freed", done, report->results.size(),
                   report->freed_bytes);
      for (const auto& r : report->results)
        if (!r.done) spdlog::warn("periodic cleanup: {} {}: {}", ItemKindName(r.item.kind), r.item.name, r.outcome);
    }
    lock.lock();
    ++runs_;
  }
}

}  // namespace lathe::cleanup
