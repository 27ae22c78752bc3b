// `lathe jobs watch`: follows a job on lathe serve until it ends, one poll a second.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <thread>

#include "cli/client_commands.h"
#include "cli/commands.h"

namespace lathe::cli {
namespace {
using nlohmann::json;

// Consecutive failed polls tolerated before giving up: a restarted server resumes its job, so a
// watch should survive the restart. A server never reached is reported at once.
constexpr int kMaxUnreachablePolls = 60;

std::string Duration(double seconds) {
  if (seconds < 0) return "?";
  const long s = static_cast<long>(seconds + 0.5);
  char buf[32];
  if (s < 60) std::snprintf(buf, sizeof buf, "%lds", s);
  else if (s < 3600) std::snprintf(buf, sizeof buf, "%ldm%02lds", s / 60, s % 60);
  else std::snprintf(buf, sizeof buf, "%ldh%02ldm", s / 3600, s % 3600 / 60);
  return buf;
}

double Number(const json& obj, const char* key, double fallback = -1) {
  return obj.is_object() && obj.contains(key) && obj[key].is_number() ? obj[key].get<double>() : fallback;
}

// The phase that is running, in the words a user expects.
std::string Phase(const json& job) {
  const json details = job.value("statusDetails", json::object());
  for (const auto& [key, label] : {std::pair{"validationDetails", "validating data"},
                                   {"dataProcessingDetails", "preparing the base model"},
                                   {"trainingDetails", "training"}})
    if (details.contains(key) && Field(details[key], "status") == "InProgress") return label;
  return "";
}

double ValidationLoss(const json& job) {
  const json v = job.value("validationMetrics", json::array());
  return v.is_array() && !v.empty() ? Number(v.back(), "validationLoss") : -1;
}

bool Ended(const std::string& status) { return status != "InProgress" && status != "Stopping"; }

}  // namespace

std::string ProgressText(const json& job) {
  const json p = job.value("latheProgress", json::object());
  const double step = Number(p, "step"), total = Number(p, "totalSteps");
  if (step < 0 || total <= 0) return "";
  char buf[256];
  std::snprintf(buf, sizeof buf, "step %.0f/%.0f  epoch %.0f/%.0f  loss %.4f", step, total, Number(p, "epoch", 0),
                Number(p, "epochs", 0), Number(p, "loss", 0));
  std::string text = buf;
  if (double val = ValidationLoss(job); val >= 0) {
    std::snprintf(buf, sizeof buf, "  val loss %.4f", val);
    text += buf;
  }
  if (double tps = Number(p, "tokensPerSecond"); tps > 0 && step < total) {
    std::snprintf(buf, sizeof buf, "  %.0f tok/s  ETA %s", tps, Duration(Number(p, "etaSeconds")).c_str());
    text += buf;
  }
  return text;
}

int WatchJob(BedrockClient* client, const std::string& id, bool as_json) {
  // On a terminal the line is redrawn in place; in a log, a line is written each time it changes.
  const bool tty = ::isatty(STDERR_FILENO) != 0;
  const auto start = std::chrono::steady_clock::now();
  std::string last_line;
  size_t drawn = 0;
  int unreachable = 0;
  json job;
  while (true) {
    auto r = client->Get("/model-customization-jobs/" + Encode(id));
    if (!r.ok()) {
      if (r.status().code() != Status::Code::kIOError || job.is_null() || ++unreachable > kMaxUnreachablePolls) {
        if (tty && drawn) std::fprintf(stderr, "\n");
        return ReportError(r.status());
      }
      if (unreachable == 1) std::fprintf(stderr, "%slathe: server unreachable, retrying...\n", tty && drawn ? "\n" : "");
      drawn = 0;
      std::this_thread::sleep_for(std::chrono::seconds(1));
      continue;
    }
    unreachable = 0;
    job = std::move(*r);
    const std::string status = Field(job, "status");
    if (Ended(status)) break;
    std::string line = status;
    if (std::string phase = Phase(job); !phase.empty()) line += "  " + phase;
    if (std::string progress = ProgressText(job); !progress.empty()) line += "  " + progress;
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (tty) {
      line += "  (" + Duration(elapsed) + ")";
      // Pads with spaces over a longer previous line, then returns to the line's start.
      std::fprintf(stderr, "\r%s%s", line.c_str(), std::string(drawn > line.size() ? drawn - line.size() : 0, ' ').c_str());
      drawn = line.size();
    } else if (line != last_line) {
      std::fprintf(stderr, "%s\n", line.c_str());
    }
    std::fflush(stderr);
    last_line = line;
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  if (tty && drawn) std::fprintf(stderr, "\n");

  const std::string status = Field(job, "status");
  if (as_json) {
    PrintJson(job);
  } else {
    std::printf("%s: %s\n", status.c_str(), Field(job, "jobName").c_str());
    if (std::string failure = Field(job, "failureMessage"); !failure.empty()) std::printf("  failure: %s\n", failure.c_str());
    const json p = job.value("latheProgress", json::object());
    if (Number(p, "totalSteps") > 0)
      std::printf("  step %.0f/%.0f, epoch %.0f/%.0f\n", Number(p, "step", 0), Number(p, "totalSteps"),
                  Number(p, "epoch", 0), Number(p, "epochs", 0));
    const double train_loss = Number(job.value("trainingMetrics", json::object()), "trainingLoss");
    const double val_loss = ValidationLoss(job);
    if (train_loss >= 0) std::printf("  training loss %.4f", train_loss);
    if (val_loss >= 0) std::printf("%s validation loss %.4f", train_loss >= 0 ? "," : " ", val_loss);
    if (train_loss >= 0 || val_loss >= 0) std::printf("\n");
    if (std::string model = Field(job, "outputModelArn"); !model.empty())
      std::printf("  output model: %s\n", model.c_str());
  }
  return status == "Completed" ? kExitOk : kExitBadInput;
}

}  // namespace lathe::cli
