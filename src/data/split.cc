#include "data/split.h"

#include <cmath>
#include <unordered_map>
#include <vector>

#include "core/random.h"
#include "core/sha256.h"
#include "data/dedup.h"
#include "data/example_reader.h"

namespace lathe::data {

Result<SplitResult> SplitDataset(Env* env, const std::string& path, const SplitOptions& o) {
  if (!(o.train_ratio > 0.0 && o.train_ratio < 1.0))
    return Status::InvalidArgument("--train must be between 0 and 1 (exclusive), got " + std::to_string(o.train_ratio));
  SplitResult r;
  r.train_path = o.out_dir + "/train.jsonl";
  r.validation_path = o.out_dir + "/validation.jsonl";
  r.manifest_path = o.out_dir + "/manifest.json";
  if (!o.force)
    for (const auto& p : {r.train_path, r.validation_path, r.manifest_path})
      if (env->FileExists(p)) return Status::AlreadyExists(p + " exists; pass --force to overwrite it");

  for (const auto& p : {r.train_path, r.validation_path, r.manifest_path})
    LATHE_RETURN_IF_ERROR(CheckNotSameFile(path, p));
  std::string source_sha;  // before anything is written
  LATHE_RETURN_IF_ERROR(Sha256File(env, path, &source_sha));
  std::vector<OwnedRecord> records;
  Format format = Format::kAuto;
  LATHE_RETURN_IF_ERROR(ReadAllRecords(env, path, o.format, &records, &format));
  const uint64_t n = records.size();
  if (n < 2) return Status::InvalidArgument(path + " has " + std::to_string(n) + " records; a split needs at least 2");

  // Groups of records with the same normalized text, in order of first appearance.
  std::vector<std::vector<size_t>> groups;
  std::unordered_map<uint64_t, size_t> group_of;
  for (size_t i = 0; i < records.size(); ++i) {
    auto [it, added] = group_of.try_emplace(NormalizedKey(records[i].example), groups.size());
    if (added) groups.emplace_back();
    groups[it->second].push_back(i);
  }
  for (const auto& g : groups) r.duplicate_groups += g.size() > 1;

  Rng rng(o.seed);
  rng.Shuffle(&groups);
  const uint64_t target = static_cast<uint64_t>(std::llround(static_cast<double>(n) * o.train_ratio));
  std::vector<size_t> train, validation;
  for (const auto& g : groups) {
    auto& side = train.size() + g.size() <= target ? train : validation;
    side.insert(side.end(), g.begin(), g.end());
  }
  if (train.empty() || validation.empty())
    return Status::InvalidArgument("--train " + std::to_string(o.train_ratio) + " on " + std::to_string(n) +
                                   " records leaves the " + (train.empty() ? "training" : "validation") +
                                   " side empty");

  LATHE_RETURN_IF_ERROR(env->CreateDirs(o.out_dir));
  auto write = [&](const std::string& out, const std::vector<size_t>& rows) -> Status {
    std::unique_ptr<AtomicFileWriter> w;
    LATHE_RETURN_IF_ERROR(AtomicFileWriter::Open(env, out, &w));
    for (size_t i : rows) {
      LATHE_RETURN_IF_ERROR(w->Append(records[i].raw));
      LATHE_RETURN_IF_ERROR(w->Append("\n"));
    }
    return w->Commit();
  };
  LATHE_RETURN_IF_ERROR(write(r.train_path, train));
  LATHE_RETURN_IF_ERROR(write(r.validation_path, validation));
  r.train_records = train.size();
  r.validation_records = validation.size();

  std::string train_sha, validation_sha;
  LATHE_RETURN_IF_ERROR(Sha256File(env, r.train_path, &train_sha));
  LATHE_RETURN_IF_ERROR(Sha256File(env, r.validation_path, &validation_sha));
  r.manifest = {
      {"tool", "lathe data split"},
      {"source", {{"path", path}, {"sha256", source_sha}, {"records", n}, {"format", FormatName(format)}}},
      {"seed", o.seed},
      {"trainRatio", o.train_ratio},
      {"prng", "xoshiro256** seeded by splitmix64; Fisher-Yates over duplicate groups"},
      {"duplicateGroupsKeptTogether", r.duplicate_groups},
      {"outputs",
       {{"train", {{"path", r.train_path}, {"sha256", train_sha}, {"records", r.train_records}}},
        {"validation", {{"path", r.validation_path}, {"sha256", validation_sha}, {"records", r.validation_records}}}}}};
  LATHE_RETURN_IF_ERROR(WriteFileAtomically(env, r.manifest_path, r.manifest.dump(2) + "\n"));
  return r;
}

}  // namespace lathe::data
