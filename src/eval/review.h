// Human review (`lathe eval review RUN`): a person scores answers on the guide's rubric without
// knowing which model wrote which. Per case, the models' answers are shown in an order shuffled
// by (run seed, case index), labelled "Answer 1", "Answer 2", ...; scores go into
// CaseResult::human and the run is marked reviewed. Progress is saved after every case
// (review.json beside report.json), so a review can stop and resume.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "core/env.h"
#include "core/status.h"
#include "eval/evaluation.h"

namespace lathe::eval {

// The guide's five criteria ("Human Evaluation Metrics"), each scored 1 (poor) .. 5 (excellent).
const std::vector<std::string>& RubricCriteria();  // accuracy, relevance, tone, completeness, formatting

// The order in which case `case_index`'s answers are shown: a permutation of model indices,
// deterministic for a given run.
std::vector<size_t> BlindOrder(const RunResult& run, size_t case_index);

struct ReviewOptions {
  std::string run_dir;      // holds report.json (and review.json once started)
  std::FILE* in = stdin;    // answers are read line by line ("q" saves and quits, "s" skips)
  std::FILE* out = stdout;
};
// Walks the unreviewed cases, then re-summarises and rewrites the three reports with the human
// scores beside the automatic ones. Bad input is asked again, never stored.
Status RunReview(Env* env, const ReviewOptions& options);

}  // namespace lathe::eval
