#include "service/usage_meter.h"

#include <chrono>
#include <vector>

#include <spdlog/spdlog.h>

#include "core/arn.h"

namespace lathe::service {
using nlohmann::json;

UsageMeter::UsageMeter(store::MetadataStore* db, std::function<int64_t()> now_ms)
    : db_(db), now_ms_(now_ms ? std::move(now_ms) : std::function<int64_t()>(NowMillis)) {}

UsageMeter::~UsageMeter() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (flusher_.joinable()) flusher_.join();
  if (Status s = Flush(); !s.ok()) spdlog::error("on-demand usage could not be saved: {}", s.message());
}

void UsageMeter::Start() {
  flusher_ = std::thread([this] {
    std::unique_lock<std::mutex> lock(mu_);
    while (!stopping_) {
      wake_.wait_for(lock, std::chrono::milliseconds(kUsageFlushMs));
      if (stopping_ || pending_.empty()) continue;
      lock.unlock();
      if (Status s = Flush(); !s.ok()) spdlog::warn("on-demand usage not saved yet (will retry): {}", s.message());
      lock.lock();
    }
  });
}

void UsageMeter::RecordOnDemand(const std::string& model_id, int64_t input_tokens, int64_t output_tokens,
                                int64_t compute_ms) {
  const std::string day = Iso8601(now_ms_()).substr(0, 10);  // yyyy-mm-dd, UTC
  std::lock_guard<std::mutex> lock(mu_);
  auto key = std::make_pair(day, model_id);
  if (!pending_.count(key) && pending_.size() >= kMaxMeteredModels) key.second = kOtherModels;
  Totals& t = pending_[key];
  t.requests += 1;
  t.input_tokens += input_tokens;
  t.output_tokens += output_tokens;
  t.compute_ms += compute_ms;
}

Status UsageMeter::Flush() {
  std::lock_guard<std::mutex> flushing(flush_mu_);
  std::map<std::pair<std::string, std::string>, Totals> taken;
  {
    std::lock_guard<std::mutex> lock(mu_);
    taken.swap(pending_);
  }
  if (taken.empty()) return Status::Ok();
  store::WriteBatch batch;
  for (const auto& [key, t] : taken) {
    const std::string id = "on-demand/" + key.first + "/" + key.second;
    auto row = db_->Find(kUsageKind, id);
    if (!row.ok() && row.status().code() != Status::Code::kNotFound) {
      batch = {};
      break;  // the store cannot be read: keep the counts for the next flush
    }
    store::ResourceRow r;
    if (row.ok()) r = *row;
    else r = {kUsageKind, id, id, "", "Recorded", now_ms_(), {{"what", "on-demand"}, {"modelId", key.second}, {"day", key.first}}};
    json& d = r.doc;
    d["requests"] = d.value("requests", int64_t{0}) + t.requests;
    d["inputTokens"] = d.value("inputTokens", int64_t{0}) + t.input_tokens;
    d["outputTokens"] = d.value("outputTokens", int64_t{0}) + t.output_tokens;
    d["computeMs"] = d.value("computeMs", int64_t{0}) + t.compute_ms;
    (row.ok() ? batch.updates : batch.inserts).push_back(std::move(r));
  }
  Status s = batch.updates.empty() && batch.inserts.empty() ? Status::IOError("the usage rows cannot be read")
                                                            : db_->Write(batch);
  if (!s.ok()) {  // back into memory, added to what came meanwhile
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [key, t] : taken) {
      Totals& p = pending_[key];
      p.requests += t.requests;
      p.input_tokens += t.input_tokens;
      p.output_tokens += t.output_tokens;
      p.compute_ms += t.compute_ms;
    }
  }
  return s;
}

store::ResourceRow EndedThroughputUsage(const store::ResourceRow& pt, int64_t deleted_ms) {
  const std::string id = "provisioned-throughput/" + pt.id;
  json doc = {{"what", "provisioned-throughput"},
              {"provisionedModelName", pt.name},
              {"provisionedModelArn", pt.arn},
              {"modelArn", pt.doc.value("modelArn", "")},
              {"foundationModelArn", pt.doc.value("foundationModelArn", "")},
              {"modelUnits", pt.doc.value("modelUnits", 0)},
              {"createdMs", pt.created_ms},
              {"deletedMs", deleted_ms}};
  return {kUsageKind, id, id, "", "Deleted", pt.created_ms, std::move(doc)};
}

}  // namespace lathe::service
