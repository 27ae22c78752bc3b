// Operational metrics in Prometheus' text exposition format 0.0.4 (docs/scale-out.md,
// Operations): counters, gauges (set, or read at each scrape through a callback) and histograms
// with fixed buckets, each a family of series told apart by label values. Thread-safe: recording
// is a map lookup under the family's lock and an atomic add.
//
// Memory is bounded whatever callers pass: a family holds at most `max_series` label sets; values
// of further sets are added to one series whose labels all read "_other", so totals stay right
// while hostile input (a path, a model id) cannot grow the table. Label values are cut to
// kMaxLabelValueBytes. Label values should still come from closed sets (an operation table, a
// status class), not from requests.
//
// Names and label names are the program's own: a malformed one, or a family registered twice
// with another type or other labels, throws std::logic_error at start-up.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/status.h"

namespace lathe::metrics {

using LabelValues = std::vector<std::string>;

inline constexpr size_t kDefaultMaxSeries = 500;
inline constexpr size_t kMaxLabelValueBytes = 128;
inline constexpr const char* kOverflowLabelValue = "_other";

class Counter {
 public:
  // Adds v (a negative or NaN v is ignored: a counter only goes up).
  void Add(double v = 1);
  double value() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> v_{0};
};

class Gauge {
 public:
  void Set(double v) { v_.store(v, std::memory_order_relaxed); }
  void Add(double v);
  double value() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> v_{0};
};

class Histogram {
 public:
  explicit Histogram(const std::vector<double>* upper_bounds);
  void Observe(double v);  // NaN is ignored
  // Counts per bucket (not cumulative; the last is +Inf's), their sum, and the sum of values.
  struct Snapshot {
    std::vector<uint64_t> counts;
    uint64_t count = 0;
    double sum = 0;
  };
  Snapshot snapshot() const;

 private:
  const std::vector<double>* bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;  // bounds_->size() + 1
  std::atomic<double> sum_{0};
};

// Seconds as a histogram likes them: 1 ms .. 5 min (request latency).
const std::vector<double>& LatencyBuckets();
// 1 s .. 2 days (jobs).
const std::vector<double>& JobDurationBuckets();

// One sample of a callback gauge.
struct Sample {
  LabelValues labels;
  double value = 0;
};

class Registry;

// A family of series of one type. With(values) finds or adds the series; the reference stays
// valid for the registry's life.
template <typename Cell>
class Family {
 public:
  Cell& With(const LabelValues& values);
  Cell& With(std::initializer_list<std::string> values) { return With(LabelValues(values)); }
  size_t series() const;
  const std::vector<std::string>& labels() const { return labels_; }

 private:
  friend class Registry;
  Family(std::string name, std::string help, std::vector<std::string> labels, size_t max_series,
         std::vector<double> bounds = {});
  void Write(std::string* out) const;
  std::unique_ptr<Cell> NewCell() const;
  const std::string name_, help_;
  const std::vector<std::string> labels_;
  const size_t max_series_;
  const std::vector<double> bounds_;  // histograms only
  mutable std::mutex mu_;
  std::map<LabelValues, std::unique_ptr<Cell>> cells_;
};

// While alive, its callback is asked for the family's samples at each scrape. Destroying it
// waits for a scrape that is calling it, so the callback may use what its owner destroys next.
class CallbackGauge {
 public:
  ~CallbackGauge();
  CallbackGauge(const CallbackGauge&) = delete;
  CallbackGauge& operator=(const CallbackGauge&) = delete;
  struct Entry;

 private:
  friend class Registry;
  explicit CallbackGauge(std::shared_ptr<Entry> entry) : entry_(std::move(entry)) {}
  std::shared_ptr<Entry> entry_;
};

using Collect = std::function<Result<std::vector<Sample>>()>;

class Registry {
 public:
  Registry();
  ~Registry();
  // The family of that name, made on first use; a later call with the same name returns it
  // (throws std::logic_error when its type or labels differ).
  Family<Counter>& Counters(const std::string& name, const std::string& help, std::vector<std::string> labels = {},
                            size_t max_series = kDefaultMaxSeries);
  Family<Gauge>& Gauges(const std::string& name, const std::string& help, std::vector<std::string> labels = {},
                        size_t max_series = kDefaultMaxSeries);
  // `upper_bounds`: increasing, finite; "+Inf" is added.
  Family<Histogram>& Histograms(const std::string& name, const std::string& help, std::vector<std::string> labels,
                                std::vector<double> upper_bounds, size_t max_series = kDefaultMaxSeries);
  // A gauge family whose samples `collect` returns at each scrape (at most max_series of them are
  // written). Several callbacks may share one name (two stores in one process): their samples
  // are written in one family. A callback that fails leaves its samples out of that scrape and
  // counts in lathe_metrics_collect_errors_total.
  std::unique_ptr<CallbackGauge> AddCallbackGauge(const std::string& name, const std::string& help,
                                                  std::vector<std::string> labels, Collect collect,
                                                  size_t max_series = kDefaultMaxSeries);
  // Every family, sorted by name, in the text format 0.0.4.
  std::string Exposition() const;

 private:
  struct Families;
  std::unique_ptr<Families> families_;
};

// The process-wide registry that lathe's instrumentation records into.
Registry& DefaultRegistry();

// The Content-Type of Exposition()'s text.
inline constexpr const char* kExpositionContentType = "text/plain; version=0.0.4; charset=utf-8";

// Exposed for tests and for the writers: a label value escaped for the format (\\, \", \n), cut
// to kMaxLabelValueBytes on a UTF-8 boundary, invalid UTF-8 replaced; and a number as the format
// writes it (shortest round-trip form, +Inf, -Inf, NaN).
std::string EscapeLabelValue(const std::string& value);
std::string FormatNumber(double v);

}  // namespace lathe::metrics
