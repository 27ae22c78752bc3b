// Tokenizer throughput, one thread: our BPE (GPT-2, Llama 3, Qwen 3, Llama 2 tokenizer.json) next
// to libsentencepiece on Llama 2's tokenizer.model, measured in the same run on the same text.
// Target: >= 5 MB/s per core for our BPE.
//
//   build/bench/bench_tokenizer [MB]     (default 5; needs ../shared/tokenizers, or
//                                         LATHE_SHARED_DIR=/path/to/shared)
// The text is ../shared/seeds/*.md repeated (English prose, code and JSON), encoded one line at a
// time as dataset records are. Because it repeats, "best of 3" runs with a warm pre-token cache;
// "unique MB/s" encodes one copy of the seeds (~120 KB) with a freshly loaded tokenizer, so every
// line is new to it and only words repeating within the text hit the cache.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "text/tokenizer.h"

using namespace lathe;

namespace {

std::string SharedDir() {
  const char* env = std::getenv("LATHE_SHARED_DIR");
  return env != nullptr ? env : LATHE_SHARED_DIR;
}

std::vector<std::string> MakeLines(size_t target_bytes, bool one_copy = false) {
  std::string corpus;
  std::vector<std::filesystem::path> seeds;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(SharedDir() + "/seeds", ec))
    if (e.path().extension() == ".md") seeds.push_back(e.path());
  std::sort(seeds.begin(), seeds.end());
  for (const auto& p : seeds) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    corpus += ss.str();
  }
  if (corpus.empty()) {  // no seeds: deterministic English-like filler
    corpus = "The quick brown fox jumps over the lazy dog's fence, twice; then it rests.\n";
  }
  std::vector<std::string> lines;
  size_t total = 0;
  for (bool again = true; again && total < target_bytes; again = !one_copy) {
    std::istringstream in(corpus);
    std::string line;
    while (total < target_bytes && std::getline(in, line)) {
      line += '\n';
      total += line.size();
      lines.push_back(line);
    }
  }
  return lines;
}

}  // namespace

int main(int argc, char** argv) {
  double mb = argc > 1 ? std::strtod(argv[1], nullptr) : 5;
  std::vector<std::string> lines = MakeLines(size_t(mb * 1024 * 1024));
  std::vector<std::string> unique_lines = MakeLines(size_t(mb * 1024 * 1024), /*one_copy=*/true);
  size_t bytes = 0, unique_bytes = 0;
  for (const auto& l : lines) bytes += l.size();
  for (const auto& l : unique_lines) unique_bytes += l.size();
  const double mib = 1024.0 * 1024.0;
  std::printf("text: %.2f MB in %zu lines from %s/seeds\n", bytes / mib, lines.size(),
              SharedDir().c_str());

  struct Entry {
    const char* name;
    std::string path;
  };
  std::string tk = SharedDir() + "/tokenizers/";
  std::vector<Entry> entries = {
      {"sentencepiece llama2 tokenizer.model", tk + "llama2/tokenizer.model"},
      {"lathe BPE gpt2 (encoder.json)", tk + "gpt2"},
      {"lathe BPE llama3 tokenizer.json", tk + "llama3/tokenizer.json"},
      {"lathe BPE qwen3 tokenizer.json", tk + "qwen3/tokenizer.json"},
      {"lathe BPE llama2 tokenizer.json", tk + "llama2/tokenizer.json"},
  };
  double peer = 0;
  std::printf("%-38s %10s %12s %12s %10s\n", "tokenizer", "tokens", "unique MB/s", "best MB/s",
              "vs spm");
  bool all_met = true;
  for (const auto& e : entries) {
    auto tok = text::LoadTokenizer(e.path);
    if (!tok.ok()) {
      std::fprintf(stderr, "%s: %s\n", e.name, tok.status().ToString().c_str());
      return 1;
    }
    double best = 1e30;
    size_t tokens = 0;
    std::vector<int> ids;
    auto u0 = std::chrono::steady_clock::now();
    for (const auto& l : unique_lines)
      if (!(*tok)->Encode(l, &ids).ok()) return 1;
    double unique_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - u0).count();
    for (int run = 0; run < 3; ++run) {
      tokens = 0;
      auto t0 = std::chrono::steady_clock::now();
      for (const auto& l : lines) {
        if (!(*tok)->Encode(l, &ids).ok()) {
          std::fprintf(stderr, "%s: encode failed\n", e.name);
          return 1;
        }
        tokens += ids.size();
      }
      double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      best = std::min(best, s);
    }
    double rate = bytes / best / mib;
    double unique_rate = unique_bytes / unique_s / mib;
    if (peer == 0) peer = rate;
    else all_met = all_met && rate >= 5 && unique_rate >= 5;
    std::printf("%-38s %10zu %12.1f %12.1f %9.2fx\n", e.name, tokens, unique_rate, rate,
                rate / peer);
  }
  std::printf("(unique text: %.2f MB)\n", unique_bytes / mib);
  std::printf("target >= 5 MB/s per core for lathe BPE: %s\n", all_met ? "met" : "NOT met");
  return 0;
}
