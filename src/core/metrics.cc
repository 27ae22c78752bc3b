#include "core/metrics.h"

#include <charconv>
#include <cmath>
#include <stdexcept>
#include <variant>

#include "core/utf8.h"

namespace lathe::metrics {
namespace {

bool IsNameChar(char c, bool first, bool colon) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_') return true;
  if (colon && c == ':') return true;
  return !first && c >= '0' && c <= '9';
}

void CheckName(const std::string& name, bool metric) {
  bool ok = !name.empty() && name.size() <= 200 && (metric || name.rfind("__", 0) != 0);
  for (size_t i = 0; ok && i < name.size(); ++i) ok = IsNameChar(name[i], i == 0, metric);
  if (!ok) throw std::logic_error("metrics: malformed " + std::string(metric ? "metric" : "label") + " name '" + name + "'");
}

void CheckLabels(const std::string& family, const std::vector<std::string>& labels, bool histogram) {
  for (const std::string& l : labels) {
    CheckName(l, false);
    if (histogram && l == "le") throw std::logic_error("metrics: histogram " + family + " may not have a label 'le'");
  }
}

// HELP text: backslash and newline escaped.
std::string EscapeHelp(const std::string& help) {
  std::string out;
  for (char c : help) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

// At most `max` bytes of s, cut before a character rather than inside one.
std::string CutUtf8(const std::string& s, size_t max) {
  if (s.size() <= max) return s;
  size_t end = max;
  while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) --end;  // s[max] continues a character
  return s.substr(0, end);
}

// {a="x",b="y"} (with `extra` appended, e.g. le="0.5"); "" when there are no labels.
std::string LabelSet(const std::vector<std::string>& names, const LabelValues& values, const std::string& extra = "") {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) {
    out += out.empty() ? "{" : ",";
    out += names[i] + "=\"" + EscapeLabelValue(values[i]) + "\"";
  }
  if (!extra.empty()) out += (out.empty() ? "{" : ",") + extra;
  if (!out.empty()) out += "}";
  return out;
}

void Header(std::string* out, const std::string& name, const std::string& help, const char* type) {
  *out += "# HELP " + name + " " + EscapeHelp(help) + "\n# TYPE " + name + " " + type + "\n";
}

void WriteCell(std::string* out, const std::string& name, const std::vector<std::string>& labels,
               const LabelValues& values, const Counter& c) {
  *out += name + LabelSet(labels, values) + " " + FormatNumber(c.value()) + "\n";
}

void WriteCell(std::string* out, const std::string& name, const std::vector<std::string>& labels,
               const LabelValues& values, const Gauge& g) {
  *out += name + LabelSet(labels, values) + " " + FormatNumber(g.value()) + "\n";
}

const char* TypeName(const Counter*) { return "counter"; }
const char* TypeName(const Gauge*) { return "gauge"; }
const char* TypeName(const Histogram*) { return "histogram"; }

}  // namespace

std::string EscapeLabelValue(const std::string& value) {
  const std::string v = SanitizeUtf8(CutUtf8(value, kMaxLabelValueBytes));
  std::string out;
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string FormatNumber(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return ec == std::errc() ? std::string(buf, end) : "NaN";
}

void Counter::Add(double v) {
  if (v > 0) v_.fetch_add(v, std::memory_order_relaxed);
}

void Gauge::Add(double v) {
  if (!std::isnan(v)) v_.fetch_add(v, std::memory_order_relaxed);
}

Histogram::Histogram(const std::vector<double>* upper_bounds)
    : bounds_(upper_bounds), counts_(new std::atomic<uint64_t>[upper_bounds->size() + 1]) {
  for (size_t i = 0; i <= bounds_->size(); ++i) counts_[i].store(0);
}

void Histogram::Observe(double v) {
  if (std::isnan(v)) return;
  size_t i = 0;
  while (i < bounds_->size() && v > (*bounds_)[i]) ++i;  // le: v <= bound
  counts_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::snapshot() const {
  Snapshot s;
  for (size_t i = 0; i <= bounds_->size(); ++i) {
    s.counts.push_back(counts_[i].load(std::memory_order_relaxed));
    s.count += s.counts.back();
  }
  s.sum = sum_.load(std::memory_order_relaxed);
  return s;
}

const std::vector<double>& LatencyBuckets() {
  static const std::vector<double> b = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300};
  return b;
}

const std::vector<double>& JobDurationBuckets() {
  static const std::vector<double> b = {1, 10, 30, 60, 300, 600, 1800, 3600, 7200, 21600, 86400, 172800};
  return b;
}

namespace {
void WriteCell(std::string* out, const std::string& name, const std::vector<std::string>& labels,
               const LabelValues& values, const Histogram& h, const std::vector<double>& bounds) {
  const Histogram::Snapshot s = h.snapshot();
  uint64_t cumulative = 0;
  for (size_t i = 0; i < s.counts.size(); ++i) {
    cumulative += s.counts[i];
    const std::string le = "le=\"" + (i < bounds.size() ? FormatNumber(bounds[i]) : std::string("+Inf")) + "\"";
    *out += name + "_bucket" + LabelSet(labels, values, le) + " " + std::to_string(cumulative) + "\n";
  }
  *out += name + "_sum" + LabelSet(labels, values) + " " + FormatNumber(s.sum) + "\n";
  *out += name + "_count" + LabelSet(labels, values) + " " + std::to_string(cumulative) + "\n";
}
}  // namespace

template <typename Cell>
Family<Cell>::Family(std::string name, std::string help, std::vector<std::string> labels, size_t max_series,
                     std::vector<double> bounds)
    : name_(std::move(name)),
      help_(std::move(help)),
      labels_(std::move(labels)),
      max_series_(max_series == 0 ? 1 : max_series),
      bounds_(std::move(bounds)) {
  if (labels_.empty()) cells_.emplace(LabelValues{}, NewCell());  // the one series shows 0 from the start
}

template <typename Cell>
std::unique_ptr<Cell> Family<Cell>::NewCell() const {
  if constexpr (std::is_same_v<Cell, Histogram>) return std::make_unique<Histogram>(&bounds_);
  else return std::make_unique<Cell>();
}

template <typename Cell>
Cell& Family<Cell>::With(const LabelValues& values) {
  if (values.size() != labels_.size())
    throw std::logic_error("metrics: " + name_ + " takes " + std::to_string(labels_.size()) + " label values, not " +
                           std::to_string(values.size()));
  std::lock_guard<std::mutex> lock(mu_);
  auto it = cells_.find(values);
  if (it != cells_.end()) return *it->second;
  LabelValues key = values;
  for (std::string& v : key) v = CutUtf8(v, kMaxLabelValueBytes);  // one series per value as written
  if (cells_.size() >= max_series_ && !cells_.count(key)) key.assign(labels_.size(), kOverflowLabelValue);
  auto& cell = cells_[key];
  if (!cell) cell = NewCell();
  return *cell;
}

template <typename Cell>
size_t Family<Cell>::series() const {
  std::lock_guard<std::mutex> lock(mu_);
  return cells_.size();
}

template <typename Cell>
void Family<Cell>::Write(std::string* out) const {
  Header(out, name_, help_, TypeName(static_cast<const Cell*>(nullptr)));
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [values, cell] : cells_) {
    if constexpr (std::is_same_v<Cell, Histogram>) WriteCell(out, name_, labels_, values, *cell, bounds_);
    else WriteCell(out, name_, labels_, values, *cell);
  }
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

struct CallbackGauge::Entry {
  std::mutex mu;  // held while the callback runs; the owner's destructor takes it
  Collect collect;
  std::vector<std::string> labels;
  size_t max_series;
};

CallbackGauge::~CallbackGauge() {
  std::lock_guard<std::mutex> lock(entry_->mu);
  entry_->collect = nullptr;
}

struct CallbackFamily {
  std::string help;
  std::vector<std::string> labels;
  std::vector<std::shared_ptr<CallbackGauge::Entry>> entries;
};

struct Registry::Families {
  std::mutex mu;
  std::map<std::string, std::variant<std::unique_ptr<Family<Counter>>, std::unique_ptr<Family<Gauge>>,
                                     std::unique_ptr<Family<Histogram>>, CallbackFamily>>
      by_name;
  Family<Counter>* collect_errors = nullptr;
};

namespace {

template <typename Cell, typename Map, typename Make>
Family<Cell>& FindOrAdd(Map& by_name, const std::string& name, const std::vector<std::string>& labels, Make make) {
  auto it = by_name.find(name);
  if (it == by_name.end()) it = by_name.emplace(name, std::unique_ptr<Family<Cell>>(make())).first;
  auto* family = std::get_if<std::unique_ptr<Family<Cell>>>(&it->second);
  if (!family || (*family)->labels() != labels)
    throw std::logic_error("metrics: " + name + " is already registered with another type or other labels");
  return **family;
}

}  // namespace

Registry::Registry() : families_(std::make_unique<Families>()) {
  families_->collect_errors =
      &Counters("lathe_metrics_collect_errors_total", "Scrapes that left out a family because reading it failed",
                {"family"}, 100);
}

Registry::~Registry() = default;

Family<Counter>& Registry::Counters(const std::string& name, const std::string& help, std::vector<std::string> labels,
                                    size_t max_series) {
  CheckName(name, true);
  CheckLabels(name, labels, false);
  std::lock_guard<std::mutex> lock(families_->mu);
  return FindOrAdd<Counter>(families_->by_name, name, labels,
                            [&] { return new Family<Counter>(name, help, labels, max_series); });
}

Family<Gauge>& Registry::Gauges(const std::string& name, const std::string& help, std::vector<std::string> labels,
                                size_t max_series) {
  CheckName(name, true);
  CheckLabels(name, labels, false);
  std::lock_guard<std::mutex> lock(families_->mu);
  return FindOrAdd<Gauge>(families_->by_name, name, labels,
                          [&] { return new Family<Gauge>(name, help, labels, max_series); });
}

Family<Histogram>& Registry::Histograms(const std::string& name, const std::string& help,
                                        std::vector<std::string> labels, std::vector<double> upper_bounds,
                                        size_t max_series) {
  CheckName(name, true);
  CheckLabels(name, labels, true);
  bool increasing = !upper_bounds.empty();
  for (size_t i = 0; increasing && i < upper_bounds.size(); ++i)
    increasing = std::isfinite(upper_bounds[i]) && (i == 0 || upper_bounds[i] > upper_bounds[i - 1]);
  if (!increasing) throw std::logic_error("metrics: " + name + "'s buckets must be finite and increasing");
  std::lock_guard<std::mutex> lock(families_->mu);
  return FindOrAdd<Histogram>(families_->by_name, name, labels, [&] {
    return new Family<Histogram>(name, help, labels, max_series, upper_bounds);
  });
}

std::unique_ptr<CallbackGauge> Registry::AddCallbackGauge(const std::string& name, const std::string& help,
                                                          std::vector<std::string> labels, Collect collect,
                                                          size_t max_series) {
  CheckName(name, true);
  CheckLabels(name, labels, false);
  auto entry = std::make_shared<CallbackGauge::Entry>();
  entry->collect = std::move(collect);
  entry->labels = labels;
  entry->max_series = max_series;
  std::lock_guard<std::mutex> lock(families_->mu);
  auto it = families_->by_name.find(name);
  if (it == families_->by_name.end()) it = families_->by_name.emplace(name, CallbackFamily{help, labels, {}}).first;
  auto* family = std::get_if<CallbackFamily>(&it->second);
  if (!family || family->labels != labels)
    throw std::logic_error("metrics: " + name + " is already registered with another type or other labels");
  // Entries whose owners are gone go now, so registering and dropping in a loop holds nothing.
  std::erase_if(family->entries, [](const std::shared_ptr<CallbackGauge::Entry>& e) { return e.use_count() == 1; });
  family->entries.push_back(entry);
  return std::unique_ptr<CallbackGauge>(new CallbackGauge(std::move(entry)));
}

std::string Registry::Exposition() const {
  // The callbacks run outside the registry's lock: they may read a database.
  std::map<std::string, std::string> texts;
  std::map<std::string, CallbackFamily> callbacks;
  {
    std::lock_guard<std::mutex> lock(families_->mu);
    for (const auto& [name, family] : families_->by_name) {
      if (auto* c = std::get_if<CallbackFamily>(&family)) {
        callbacks[name] = *c;
        continue;
      }
      std::visit(
          [&, name = name](const auto& f) {
            if constexpr (!std::is_same_v<std::decay_t<decltype(f)>, CallbackFamily>) f->Write(&texts[name]);
          },
          family);
    }
  }
  for (const auto& [name, family] : callbacks) {
    std::string body;
    size_t written = 0;
    for (const auto& entry : family.entries) {
      std::lock_guard<std::mutex> lock(entry->mu);
      if (!entry->collect) continue;
      Result<std::vector<Sample>> samples = entry->collect();
      if (!samples.ok()) {
        families_->collect_errors->With({name}).Add();
        continue;
      }
      for (const Sample& s : *samples) {
        if (s.labels.size() != family.labels.size() || written >= entry->max_series) continue;
        body += name + LabelSet(family.labels, s.labels) + " " + FormatNumber(s.value) + "\n";
        ++written;
      }
    }
    std::string& text = texts[name];
    Header(&text, name, family.help, "gauge");
    text += body;
  }
  // The error counter may have moved while the callbacks ran: written last, as it is now.
  texts["lathe_metrics_collect_errors_total"].clear();
  families_->collect_errors->Write(&texts["lathe_metrics_collect_errors_total"]);
  std::string out;
  for (const auto& [name, text] : texts) out += text;
  return out;
}

Registry& DefaultRegistry() {
  static Registry* registry = new Registry();  // never destroyed: threads may record at exit
  return *registry;
}

}  // namespace lathe::metrics
