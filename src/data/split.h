// Train/validation split behind `lathe data split`: the same bytes for the same input and seed on
// any machine (lathe's own generator, core/random.h), duplicates never on both sides, and a
// manifest with the sha256 of the source and of each output for lineage.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "core/env.h"
#include "data/example.h"

namespace lathe::data {

struct SplitOptions {
  double train_ratio = 0.8;  // in (0, 1)
  uint64_t seed = 0;
  std::string out_dir;
  bool force = false;  // overwrite existing outputs
  Format format = Format::kAuto;
};

struct SplitResult {
  uint64_t train_records = 0, validation_records = 0, duplicate_groups = 0;
  std::string train_path, validation_path, manifest_path;
  nlohmann::json manifest;
};

Result<SplitResult> SplitDataset(Env* env, const std::string& path, const SplitOptions& options);

}  // namespace lathe::data
