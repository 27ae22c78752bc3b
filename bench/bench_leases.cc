// Work leases (store/work_leases.h): jobs claimed per second and the claim's latency (p50/p99)
// with 8 workers claiming and completing at once, each on its own connection as on its own
// machine. Against PostgreSQL (SELECT ... FOR UPDATE SKIP LOCKED), with SQLite (lathe.db on
// disk, one writer at a time) measured in the same run as the peer. No target on 2 cores: the
// figures are a report.
//
//   build/bench/bench_leases [POSTGRES_URL] [ITEMS]   (prints one JSON line last)
// Without a URL it starts a throwaway server with scripts/pg-test-server.sh (PostgreSQL 15's
// initdb/pg_ctl must be installed) and stops it at the end.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

#include <nlohmann/json.hpp>

#include "store/metadata_store.h"
#include "store/work_leases.h"

using namespace lathe;  // NOLINT

namespace {

using Clock = std::chrono::steady_clock;
constexpr int kWorkers = 8;

struct Figures {
  double claims_per_second = 0, p50_ms = 0, p99_ms = 0;
  bool ok = false;
};

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

Figures Run(const std::string& location, int items) {
  Figures f;
  auto queue = store::MetadataStore::Open(location);
  if (!queue.ok()) {
    std::fprintf(stderr, "%s\n", queue.status().ToString().c_str());
    return f;
  }
  store::WorkLeases enqueue((*queue).get());
  for (int i = 0; i < items; ++i) {
    store::WorkItem w;
    w.kind = "fine-tuning-job";
    w.id = "job-" + std::to_string(i);
    w.needs = {1, 0, 1 << 20};
    if (Status s = enqueue.Enqueue(w); !s.ok()) {
      std::fprintf(stderr, "enqueue: %s\n", s.ToString().c_str());
      return f;
    }
  }
  std::vector<std::unique_ptr<store::MetadataStore>> stores;
  for (int w = 0; w < kWorkers; ++w) {
    auto s = store::MetadataStore::Open(location);
    if (!s.ok()) return f;
    stores.push_back(std::move(*s));
  }
  std::vector<std::vector<double>> latencies(kWorkers);
  std::vector<int> claimed(kWorkers, 0);
  const auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int w = 0; w < kWorkers; ++w)
    threads.emplace_back([&, w] {
      store::WorkLeases leases(stores[static_cast<size_t>(w)].get());
      const std::string id = "worker-" + std::to_string(w);
      for (;;) {
        const auto t0 = Clock::now();
        auto lease = leases.Claim(id, {4, 0, 1 << 30}, 60000);
        latencies[static_cast<size_t>(w)].push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
        if (!lease.ok() || !lease->has_value()) return;
        if (leases.Complete(**lease).ok()) ++claimed[static_cast<size_t>(w)];
      }
    });
  for (auto& t : threads) t.join();
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::vector<double> all;
  int total = 0;
  for (int w = 0; w < kWorkers; ++w) {
    all.insert(all.end(), latencies[static_cast<size_t>(w)].begin(), latencies[static_cast<size_t>(w)].end());
    total += claimed[static_cast<size_t>(w)];
  }
  f.claims_per_second = total / seconds;
  f.p50_ms = Percentile(all, 0.50);
  f.p99_ms = Percentile(all, 0.99);
  f.ok = total == items;
  if (!f.ok) std::fprintf(stderr, "only %d of %d items completed\n", total, items);
  return f;
}

}  // namespace

int main(int argc, char** argv) {
  std::string url = argc > 1 ? argv[1] : "";
  const int items = argc > 2 ? std::max(1, std::atoi(argv[2])) : 2000;
  const std::string tmp = std::filesystem::temp_directory_path().string();
  const std::string server_dir = tmp + "/lathe-bench-pg-" + std::to_string(::getpid());
  const std::string script = std::string(LATHE_SOURCE_DIR) + "/scripts/pg-test-server.sh";
  const bool own_server = url.empty();
  if (own_server) {
    const std::string cmd = script + " start " + server_dir + " > " + server_dir + ".url";
    if (std::system(cmd.c_str()) != 0) return 1;
    FILE* in = std::fopen((server_dir + ".url").c_str(), "r");
    char line[512] = {0};
    if (in && std::fgets(line, sizeof line, in)) url = line;
    if (in) std::fclose(in);
    while (!url.empty() && (url.back() == '\n' || url.back() == ' ')) url.pop_back();
    if (url.rfind("postgresql://", 0) != 0) {
      std::fprintf(stderr, "no PostgreSQL to measure: %s\n", url.c_str());
      return 1;
    }
  }
  const std::string sqlite_dir = tmp + "/lathe-bench-leases-" + std::to_string(::getpid());
  std::filesystem::create_directories(sqlite_dir);
  const Figures pg = Run(url, items);
  const Figures lite = Run(sqlite_dir + "/lathe.db", items);
  std::filesystem::remove_all(sqlite_dir);
  if (own_server) {
    (void)std::system((script + " stop " + server_dir).c_str());
    std::filesystem::remove(server_dir + ".url");
  }
  std::printf("%d workers, %d jobs, each claimed and completed\n", kWorkers, items);
  std::printf("%-28s %12s %12s %8s\n", "", "PostgreSQL", "SQLite", "ratio");
  std::printf("%-28s %12.0f %12.0f %8.2f\n", "jobs claimed/s", pg.claims_per_second, lite.claims_per_second,
              lite.claims_per_second > 0 ? pg.claims_per_second / lite.claims_per_second : 0);
  std::printf("%-28s %12.2f %12.2f %8.2f\n", "claim latency p50 (ms)", pg.p50_ms, lite.p50_ms,
              lite.p50_ms > 0 ? pg.p50_ms / lite.p50_ms : 0);
  std::printf("%-28s %12.2f %12.2f %8.2f\n", "claim latency p99 (ms)", pg.p99_ms, lite.p99_ms,
              lite.p99_ms > 0 ? pg.p99_ms / lite.p99_ms : 0);
  std::printf("%s\n", nlohmann::json{{"workers", kWorkers},
                                     {"jobs", items},
                                     {"postgres_claims_per_second", pg.claims_per_second},
                                     {"postgres_p50_ms", pg.p50_ms},
                                     {"postgres_p99_ms", pg.p99_ms},
                                     {"sqlite_claims_per_second", lite.claims_per_second},
                                     {"sqlite_p50_ms", lite.p50_ms},
                                     {"sqlite_p99_ms", lite.p99_ms}}
                          .dump()
                          .c_str());
  return pg.ok && lite.ok ? 0 : 1;
}
