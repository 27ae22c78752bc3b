// Validator throughput (issue: >= 50 MB/s on the 2-core dev machine), next to two peers measured
// in the same run on the same file: splitting lines only (the I/O floor) and parsing every line
// with nlohmann::json without any of the validator's checks.
//
//   build/bench_validate [MB]      (default 128 MB of synthetic prompt/completion records)
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <string>

#include <nlohmann/json.hpp>

#include "core/line_reader.h"
#include "data/validator.h"

using namespace lathe;

namespace {

// Realistic records: mixed-length English-like prompts and completions, some escapes and UTF-8.
void WriteDataset(const std::string& path, size_t target_bytes) {
  static const char* kWords[] = {"account", "balance", "transfer", "card", "the", "your", "to",
                                 "please", "within", "business", "days", "fee", "mortgage",
                                 "caf\u00e9", "online", "banking", "\\\"quoted\\\"", "limit",
                                 "statement", "interest", "rate", "and", "a", "of", "payment"};
  std::mt19937 rng(42);
  auto sentence = [&](int words) {
    std::string s;
    for (int i = 0; i < words; ++i) {
      if (i) s += ' ';
      s += kWords[rng() % (sizeof kWords / sizeof *kWords)];
    }
    return s;
  };
  std::ofstream out(path, std::ios::binary);
  size_t written = 0;
  while (written < target_bytes) {
    std::string line = "{\"prompt\": \"" + sentence(6 + rng() % 20) + "?\", \"completion\": \"" +
                       sentence(20 + rng() % 120) + ".\"}\n";
    out << line;
    written += line.size();
  }
}

double BestSeconds(const std::function<void()>& fn, int runs = 3) {
  double best = 1e30;
  for (int i = 0; i < runs; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    fn();
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  size_t mb = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 128;
  std::string path = (std::filesystem::temp_directory_path() / "lathe_bench_validate.jsonl").string();
  WriteDataset(path, mb << 20);
  uint64_t bytes = std::filesystem::file_size(path);
  Env* env = Env::Default();

  uint64_t sink = 0;
  double t_lines = BestSeconds([&] {
    std::unique_ptr<SequentialFile> f;
    if (!env->NewSequentialFile(path, &f).ok()) std::abort();
    LineReader r(f.get());
    Line l;
    while (r.Next(&l)) sink += l.length;
  });
  double t_parse = BestSeconds([&] {
    std::unique_ptr<SequentialFile> f;
    if (!env->NewSequentialFile(path, &f).ok()) std::abort();
    LineReader r(f.get());
    Line l;
    while (r.Next(&l)) sink += nlohmann::json::parse(l.text).size();
  });
  data::FileReport report;
  double t_validate = BestSeconds([&] {
    data::ValidateOptions opt;
    opt.max_record_tokens = 4096;
    report = data::ValidateFile(env, path, opt);
  });
  std::filesystem::remove(path);
  if (!report.ok()) {
    std::fprintf(stderr, "benchmark dataset unexpectedly invalid\n");
    return 1;
  }
  double mbs = 1024.0 * 1024.0;
  double v = bytes / t_validate / mbs, p = bytes / t_parse / mbs, s = bytes / t_lines / mbs;
  std::printf("dataset: %.1f MB, %llu records (sink %llu)\n", bytes / mbs,
              static_cast<unsigned long long>(report.records), static_cast<unsigned long long>(sink % 10));
  std::printf("%-34s %9.1f MB/s\n", "split lines only (I/O floor)", s);
  std::printf("%-34s %9.1f MB/s\n", "nlohmann::json::parse per line", p);
  std::printf("%-34s %9.1f MB/s\n", "lathe data validate", v);
  std::printf("ratio validate / parse-only:        %6.2fx\n", v / p);
  std::printf("ratio validate / split-only:        %6.2fx\n", v / s);
  std::printf("target >= 50 MB/s:                  %s (%.2fx the target)\n",
              v >= 50 ? "met" : "NOT met", v / 50);
  return 0;
}
