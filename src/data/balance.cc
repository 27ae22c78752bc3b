#include "data/balance.h"

#include <algorithm>
#include <map>

#include "core/random.h"
#include "data/dedup.h"
#include "data/example_reader.h"

namespace lathe::data {

Result<BalanceResult> BalanceFile(Env* env, const std::string& in, const std::string& out, uint64_t max_per_category,
                                  uint64_t seed) {
  if (max_per_category == 0) return Status::InvalidArgument("--max-per-category must be at least 1");
  LATHE_RETURN_IF_ERROR(CheckNotSameFile(in, out));
  std::vector<OwnedRecord> records;
  LATHE_RETURN_IF_ERROR(ReadAllRecords(env, in, Format::kAuto, &records, nullptr));
  std::map<std::string, std::vector<size_t>> by_category;  // ordered: the draw is stable
  for (size_t i = 0; i < records.size(); ++i) by_category[FirstWord(records[i].example)].push_back(i);
  Rng rng(seed);
  std::vector<bool> keep(records.size(), false);
  BalanceResult result;
  for (auto& [category, rows] : by_category) {
    CategoryBalance cb{category, rows.size(), std::min<uint64_t>(rows.size(), max_per_category)};
    if (rows.size() > max_per_category) rng.Shuffle(&rows);
    for (uint64_t k = 0; k < cb.after; ++k) keep[rows[k]] = true;
    result.categories.push_back(cb);
  }
  std::stable_sort(result.categories.begin(), result.categories.end(),
                   [](const CategoryBalance& a, const CategoryBalance& b) { return a.before > b.before; });
  std::unique_ptr<AtomicFileWriter> w;
  LATHE_RETURN_IF_ERROR(AtomicFileWriter::Open(env, out, &w));
  for (size_t i = 0; i < records.size(); ++i) {
    result.before++;
    if (!keep[i]) continue;
    result.after++;
    LATHE_RETURN_IF_ERROR(w->Append(records[i].raw));
    LATHE_RETURN_IF_ERROR(w->Append("\n"));
  }
  LATHE_RETURN_IF_ERROR(w->Commit());
  return result;
}

}  // namespace lathe::data
