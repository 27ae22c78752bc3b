// The Rules, topics and notifications page: EventBridge's rules with their targets and which of
// the latest outbox events each matched (its own pattern, run again here), SNS's topics with
// their subscriptions and recent deliveries, and the email outbox's newest messages.
#include <dirent.h>

#include <algorithm>
#include <functional>
#include <set>

#include "core/arn.h"
#include "core/env.h"
#include "services/events/backend.h"
#include "services/events/event_pattern.h"
#include "services/events/names.h"
#include "services/sns/backend.h"
#include "services/sns/delivery_worker.h"
#include "store/metadata_store.h"
#include "ui/api.h"
#include "ui/live_feed.h"
#include "ui/query_params.h"

namespace lathe::ui {

using json = nlohmann::json;

namespace {

constexpr int64_t kRecentEvents = 200;  // outbox events matched against the rules
constexpr size_t kMaxMatchesPerRule = 10;
constexpr size_t kMaxTopics = 200;
constexpr size_t kRecentDeliveries = 50;
constexpr size_t kOutboxMessages = 20;
// The outbox folder grows without bound (one file per email). A page reads at most this many of
// its names, keeping only the newest kOutboxCandidates (.eml, names start with the time) in a
// bounded heap: time and memory per request stay bounded however many messages accumulate.
constexpr size_t kMaxOutboxNamesRead = 100000;
constexpr size_t kOutboxCandidates = 64;

// The newest `keep` .eml names of `dir`, newest first, of at most kMaxOutboxNamesRead entries.
std::vector<std::string> NewestEmails(const std::string& dir, size_t keep) {
  std::vector<std::string> heap;  // a min-heap: the oldest kept on top, dropped first
  DIR* d = opendir(dir.c_str());
  if (!d) return heap;
  size_t read = 0;
  while (const dirent* e = readdir(d)) {
    if (++read > kMaxOutboxNamesRead) break;
    const std::string_view name = e->d_name;
    if (name.size() < 4 || name.substr(name.size() - 4) != ".eml") continue;
    if (heap.size() == keep && name <= heap.front()) continue;
    heap.emplace_back(name);
    std::push_heap(heap.begin(), heap.end(), std::greater<>());
    if (heap.size() > keep) {
      std::pop_heap(heap.begin(), heap.end(), std::greater<>());
      heap.pop_back();
    }
  }
  closedir(d);
  std::sort(heap.rbegin(), heap.rend());
  return heap;
}

json RuleJson(const events::Rule& r) {
  json targets = json::array();
  for (const auto& t : r.targets) targets.push_back({{"id", t.id}, {"arn", t.arn}});
  return {{"name", r.name}, {"arn", r.arn}, {"bus", r.bus}, {"region", r.region}, {"state", r.state},
          {"eventPattern", r.event_pattern}, {"scheduleExpression", r.schedule_expression},
          {"description", r.description}, {"targets", targets}, {"matches", json::array()}};
}

json Outbox(const std::string& data_dir) {
  json out = json::array();
  const std::string dir = sns::OutboxDir(data_dir);
  for (const std::string& name : NewestEmails(dir, kOutboxCandidates)) {
    if (out.size() >= kOutboxMessages) break;
    std::string text;
    uint64_t size = 0;
    if (!Env::Default()->GetFileSize(dir + "/" + name, &size).ok() || size > (1u << 20)) continue;
    if (!ReadFileToString(Env::Default(), dir + "/" + name, &text).ok()) continue;
    json message = {{"file", name}, {"bytes", size}};
    // The headers up to the first empty line; the body's first 2000 bytes after it.
    size_t pos = 0;
    while (pos < text.size()) {
      size_t end = text.find('\n', pos);
      if (end == std::string::npos) end = text.size();
      std::string line = text.substr(pos, end - pos);
      pos = end + 1;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.empty()) break;
      for (const char* header : {"Subject", "To", "Date"})
        if (line.rfind(std::string(header) + ": ", 0) == 0) message[header] = line.substr(std::string(header).size() + 2);
    }
    if (pos < text.size()) message["body"] = text.substr(pos, 2000);
    out.push_back(std::move(message));
  }
  return out;
}

}  // namespace

ApiResult Api::Notifications() {
  json rules = json::array();
  if (b_.events) {
    std::set<std::string> seen;
    std::vector<events::CompiledRule> compiled;
    if (auto enabled = b_.events->EnabledRules(); enabled.ok() && *enabled) compiled = (*enabled)->rules;
    for (const auto& c : compiled) {
      seen.insert(c.rule.arn);
      rules.push_back(RuleJson(c.rule));
    }
    // Disabled rules of the server's region and default bus too (the compiled set holds enabled ones).
    if (auto listed = b_.events->ListRules({b_.account, b_.region}, "", "", {}); listed.ok())
      for (const auto& r : listed->items)
        if (!seen.count(r.arn)) rules.push_back(RuleJson(r));
    // Which of the latest events each enabled rule's pattern matches.
    const int64_t last = live_->State().value("outboxSeq", int64_t{0});
    if (b_.store && last > 0)
      if (auto recent = b_.store->EventsAfter(std::max<int64_t>(0, last - kRecentEvents), kRecentEvents); recent.ok())
        for (auto e = recent->rbegin(); e != recent->rend(); ++e) {
          const json envelope = events::Envelope(*e);
          for (size_t i = 0; i < compiled.size(); ++i) {
            if (!compiled[i].pattern || rules[i]["matches"].size() >= kMaxMatchesPerRule) continue;
            if (compiled[i].rule.account != e->account || compiled[i].rule.region != e->region) continue;
            if (compiled[i].pattern->Matches(envelope))
              rules[i]["matches"].push_back({{"seq", e->seq}, {"source", e->source}, {"detailType", e->detail_type},
                                             {"time", Iso8601(e->time_ms)}});
          }
        }
  }
  json topics = json::array(), deliveries = json::array();
  if (b_.sns) {
    std::string token;
    do {
      auto page = b_.sns->ListTopics({b_.account, b_.region}, token);
      if (!page.ok()) break;
      for (const std::string& arn : page->items) {
        json subs = json::array();
        if (auto s = b_.sns->ListSubscriptions({b_.account, b_.region}, arn, ""); s.ok())
          for (const auto& sub : s->items)
            subs.push_back({{"arn", sub.arn}, {"protocol", sub.protocol}, {"endpoint", sub.endpoint}, {"confirmed", sub.confirmed}});
        topics.push_back({{"arn", arn}, {"subscriptions", subs}});
      }
      token = page->next_token;
    } while (!token.empty() && topics.size() < kMaxTopics);
    if (auto recent = b_.sns->RecentDeliveries(kRecentDeliveries); recent.ok())
      for (const auto& d : *recent)
        deliveries.push_back({{"topicArn", d.topic_arn}, {"protocol", d.protocol}, {"endpoint", d.endpoint},
                              {"type", d.type}, {"status", d.status}, {"attempts", d.attempts},
                              {"time", Iso8601(d.created_ms)}, {"lastError", d.last_error}});
  }
  return json{{"rules", rules}, {"topics", topics}, {"deliveries", deliveries}, {"outbox", Outbox(b_.data_dir)}};
}

}  // namespace lathe::ui
