// What /metrics tells of jobs (docs/scale-out.md, Operations), recorded by the process that
// ends them (`lathe serve`'s runner, or a `lathe worker`):
//   lathe_job_duration_seconds{kind, status}   histogram: creation to end (queueing included)
//   lathe_job_tokens_total{kind, what}         counter: "trained" (customization), "generated" and
//                                              "read" (evaluation), from the job's "_compute"
// kind: "model-customization" | "evaluation" | "other"; status: Completed | Failed | Stopped | other.
#pragma once

#include <cstdint>

#include "store/metadata_store.h"

namespace lathe::service {

// Called once when a job ends (its status and "_compute" final), with the time it ended.
void RecordJobEnd(const store::ResourceRow& job, int64_t now_ms);

}  // namespace lathe::service
