#include "service/deployment_stats_numbers.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace lathe::service::stats_detail {
namespace {

// Bin 0 holds latencies under 1 ms; bin i >= 1 holds [2^((i-1)/4), 2^(i/4)) ms; the last bin
// everything above. Quarter-octaves keep a percentile within 19% of the truth, and the min/max
// clamp makes it exact when every latency is the same.
size_t LatencyBin(int64_t ms) {
  if (ms < 1) return 0;
  auto bin = static_cast<size_t>(std::floor(4 * std::log2(static_cast<double>(ms)))) + 1;
  return std::min(bin, kLatencyBins - 1);
}

double BinUpper(size_t bin) { return std::exp2(static_cast<double>(bin) / 4); }

void AddLatency(Counters* c, int64_t ms, uint32_t count) {
  ms = std::max<int64_t>(ms, 0);
  size_t bin = LatencyBin(ms);
  if (c->latency_bins.empty()) {
    c->latency_min = c->latency_max = ms;
  } else {
    c->latency_min = std::min(c->latency_min, ms);
    c->latency_max = std::max(c->latency_max, ms);
  }
  if (c->latency_bins.size() <= bin) c->latency_bins.resize(bin + 1, 0);
  c->latency_bins[bin] += count;
}

void Merge(Counters* into, const Counters& from) {
  WindowStats& a = into->sums;
  const WindowStats& b = from.sums;
  a.requests += b.requests;
  a.errors += b.errors;
  a.throttled += b.throttled;
  a.feedback += b.feedback;
  a.positive += b.positive;
  a.feedback_score_sum += b.feedback_score_sum;
  a.input_tokens += b.input_tokens;
  a.output_tokens += b.output_tokens;
  a.compute_ms += b.compute_ms;
  if (from.latency_bins.empty()) return;
  if (into->latency_bins.empty()) {
    into->latency_min = from.latency_min;
    into->latency_max = from.latency_max;
  } else {
    into->latency_min = std::min(into->latency_min, from.latency_min);
    into->latency_max = std::max(into->latency_max, from.latency_max);
  }
  if (into->latency_bins.size() < from.latency_bins.size()) into->latency_bins.resize(from.latency_bins.size(), 0);
  for (size_t i = 0; i < from.latency_bins.size(); ++i) into->latency_bins[i] += from.latency_bins[i];
}

int64_t Percentile(const Counters& c, double q) {
  uint64_t n = 0;
  for (uint32_t v : c.latency_bins) n += v;
  if (n == 0) return 0;
  auto rank = static_cast<uint64_t>(std::ceil(q * static_cast<double>(n)));
  rank = std::clamp<uint64_t>(rank, 1, n);
  uint64_t seen = 0;
  size_t bin = 0;
  for (; bin < c.latency_bins.size(); ++bin) {
    seen += c.latency_bins[bin];
    if (seen >= rank) break;
  }
  auto value = static_cast<int64_t>(std::llround(BinUpper(bin)));
  return std::clamp(value, c.latency_min, c.latency_max);
}

// Counters as one flat array: [requests, errors, throttled, feedback, positive, scoreSum,
// inputTokens, outputTokens, computeMs, latencyMin, latencyMax, [bin, count, bin, count, ...]].
nlohmann::json CountersToJson(const Counters& c) {
  const WindowStats& s = c.sums;
  nlohmann::json bins = nlohmann::json::array();
  for (size_t i = 0; i < c.latency_bins.size(); ++i) {
    if (c.latency_bins[i] == 0) continue;
    bins.push_back(i);
    bins.push_back(c.latency_bins[i]);
  }
  return {s.requests,      s.errors,        s.throttled,  s.feedback,      s.positive,      s.feedback_score_sum,
          s.input_tokens,  s.output_tokens, s.compute_ms, c.latency_min,   c.latency_max,   std::move(bins)};
}

Result<Counters> CountersFromJson(const nlohmann::json& j) {
  if (!j.is_array() || j.size() != 12 || !j[11].is_array()) return Status::Corruption("counters: not a 12-member array");
  for (size_t i = 0; i < 11; ++i) {
    if (!j[i].is_number() || (i != 5 && !j[i].is_number_integer())) return Status::Corruption("counters: not a number");
  }
  Counters c;
  WindowStats& s = c.sums;
  int64_t* ints[] = {&s.requests, &s.errors, &s.throttled, &s.feedback, &s.positive};
  for (size_t i = 0; i < 5; ++i) *ints[i] = j[i].get<int64_t>();
  s.feedback_score_sum = j[5].get<double>();
  s.input_tokens = j[6].get<int64_t>();
  s.output_tokens = j[7].get<int64_t>();
  s.compute_ms = j[8].get<int64_t>();
  const nlohmann::json& bins = j[11];
  if (bins.size() > 2 * kLatencyBins || bins.size() % 2 != 0) return Status::Corruption("counters: bad latency bins");
  for (size_t i = 0; i < bins.size(); i += 2) {
    if (!bins[i].is_number_unsigned() || !bins[i + 1].is_number_unsigned() || bins[i].get<uint64_t>() >= kLatencyBins ||
        bins[i + 1].get<uint64_t>() > std::numeric_limits<uint32_t>::max()) {
      return Status::Corruption("counters: bad latency bin");
    }
    auto bin = bins[i].get<size_t>();
    if (c.latency_bins.size() <= bin) c.latency_bins.resize(bin + 1, 0);
    c.latency_bins[bin] = bins[i + 1].get<uint32_t>();
  }
  c.latency_min = j[9].get<int64_t>();
  c.latency_max = j[10].get<int64_t>();
  return c;
}

Result<Served> ServedFromJson(const nlohmann::json& j) {
  if (!j.is_object()) return Status::Corruption("served: not an object");
  Served s;
  auto last = j.find("lastRequestMs");
  auto total = j.find("total");
  auto buckets = j.find("buckets");
  auto comments = j.find("comments");
  if (last == j.end() || !last->is_number_integer() || total == j.end() || buckets == j.end() || !buckets->is_array() ||
      buckets->size() > kMaxStatsBuckets || (comments != j.end() && (!comments->is_array() || comments->size() > kMaxKeptComments))) {
    return Status::Corruption("served: missing or malformed members");
  }
  s.last_request_ms = last->get<int64_t>();
  auto t = CountersFromJson(*total);
  if (!t.ok()) return t.status();
  s.total = std::move(*t);
  for (const auto& b : *buckets) {
    if (!b.is_array() || b.size() != 2 || !b[0].is_number_integer()) return Status::Corruption("bucket: not [minute, counters]");
    int64_t minute = b[0].get<int64_t>();
    if (!s.buckets.empty() && minute <= s.buckets.back().minute) return Status::Corruption("bucket: minutes out of order");
    auto c = CountersFromJson(b[1]);
    if (!c.ok()) return c.status();
    s.buckets.push_back({minute, std::move(*c)});
  }
  if (comments != j.end()) {
    for (const auto& c : *comments) {
      if (!c.is_string() || c.get_ref<const std::string&>().size() > kMaxFeedbackCommentBytes) {
        return Status::Corruption("comments: not a bounded string");
      }
      s.comments.push_back(c.get<std::string>());
    }
  }
  return s;
}

}  // namespace

int64_t MinuteOf(int64_t time_ms) {
  int64_t m = time_ms / kStatsBucketMs;
  return (time_ms % kStatsBucketMs < 0) ? m - 1 : m;
}

void CountOutcome(Counters* c, const Outcome& o) {
  WindowStats& s = c->sums;
  ++s.requests;
  if (o.throttled) {
    ++s.throttled;
    return;
  }
  if (o.caller_error) return;
  if (!o.ok) {
    ++s.errors;
    return;
  }
  s.input_tokens += std::max<int64_t>(o.input_tokens, 0);
  s.output_tokens += std::max<int64_t>(o.output_tokens, 0);
  s.compute_ms += std::max<int64_t>(o.compute_ms, 0);
  AddLatency(c, o.latency_ms, 1);
}

void CountFeedback(Counters* c, int sign, bool positive, double score) {
  c->sums.feedback += sign;
  if (positive) c->sums.positive += sign;
  c->sums.feedback_score_sum += sign * score;
}

Counters* BucketFor(Served* served, int64_t minute, bool create) {
  auto& q = served->buckets;
  if (q.empty() || q.back().minute < minute) {
    if (!create) return nullptr;
    q.push_back({minute, {}});
    // Minutes (newest - a day, newest]: never more than kMaxStatsBuckets.
    while (q.front().minute <= minute - static_cast<int64_t>(kMaxStatsBuckets)) q.pop_front();
    return &q.back().counters;
  }
  if (minute <= q.back().minute - static_cast<int64_t>(kMaxStatsBuckets)) return nullptr;
  auto it = std::lower_bound(q.begin(), q.end(), minute, [](const Bucket& b, int64_t m) { return b.minute < m; });
  if (it != q.end() && it->minute == minute) return &it->counters;
  if (!create) return nullptr;
  return &q.insert(it, Bucket{minute, {}})->counters;
}

WindowStats Finish(const Counters& c) {
  WindowStats s = c.sums;
  s.latency_p50_ms = Percentile(c, 0.50);
  s.latency_p95_ms = Percentile(c, 0.95);
  return s;
}

WindowStats WindowOf(const Served& served, int64_t now_ms, int64_t window_ms) {
  const int64_t first = MinuteOf(now_ms - std::max<int64_t>(window_ms, 0));
  const int64_t last = MinuteOf(now_ms);
  Counters sum;
  for (const Bucket& b : served.buckets) {
    if (b.minute >= first && b.minute <= last) Merge(&sum, b.counters);
  }
  return Finish(sum);
}

std::vector<VariantStats> SummaryOf(const Deployment& deployment, int64_t now_ms, int64_t window_ms) {
  std::vector<VariantStats> out;
  for (const auto& entry : deployment) {
    VariantStats v;
    v.served = entry.first;
    v.window = WindowOf(entry.second, now_ms, window_ms);
    v.total = Finish(entry.second.total);
    v.last_request_ms = entry.second.last_request_ms;
    v.comments.assign(entry.second.comments.begin(), entry.second.comments.end());
    out.push_back(std::move(v));
  }
  return out;
}

nlohmann::json DeploymentToJson(const Deployment& deployment) {
  nlohmann::json served = nlohmann::json::object();
  for (const auto& entry : deployment) {
    const Served& s = entry.second;
    nlohmann::json buckets = nlohmann::json::array();
    for (const Bucket& b : s.buckets) buckets.push_back({b.minute, CountersToJson(b.counters)});
    served[entry.first] = {{"lastRequestMs", s.last_request_ms},
                           {"total", CountersToJson(s.total)},
                           {"buckets", std::move(buckets)},
                           {"comments", s.comments}};
  }
  return {{"served", std::move(served)}};
}

Result<Deployment> DeploymentFromJson(const nlohmann::json& doc) {
  auto served = doc.find("served");
  if (!doc.is_object() || served == doc.end() || !served->is_object() || served->size() > kMaxServedPerDeployment) {
    return Status::Corruption("deployment stats: no bounded \"served\" object");
  }
  Deployment d;
  for (auto it = served->begin(); it != served->end(); ++it) {
    auto s = ServedFromJson(it.value());
    if (!s.ok()) return Status::Corruption(it.key() + ": " + s.status().message());
    d[it.key()] = std::move(*s);
  }
  return d;
}

}  // namespace lathe::service::stats_detail
