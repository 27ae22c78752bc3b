// `lathe data convert | augment | balance`: rewrite datasets into new files (written atomically).
#include <cstdio>
#include <memory>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "data/augment.h"
#include "data/balance.h"
#include "data/convert.h"

namespace lathe::cli {

void AddDataConvertCommand(CLI::App* data, Context* ctx) {
  struct Args {
    std::string in, out, to, from = "jsonl", system;
    bool drop_system = false, json = false;
    data::CsvOptions csv;
  };
  auto a = std::make_shared<Args>();
  CLI::App* cmd = data->add_subcommand(
      "convert",
      "Convert between record formats, or a CSV file with a header row into JSONL.\n\n"
      "Examples:\n"
      "  lathe data convert train.jsonl --to chat --system \"You are a bank assistant.\" --out chat.jsonl\n"
      "  lathe data convert chat.jsonl --to prompt-completion --out pc.jsonl\n"
      "  lathe data convert faq.csv --from csv --prompt-column question --completion-column answer --out faq.jsonl");
  cmd->add_option("file", a->in, "Input file")->required()->check(CLI::ExistingFile);
  cmd->add_option("--out", a->out, "Output JSONL file")->required();
  cmd->add_option("--to", a->to, "Target format: prompt-completion, chat, conversation or pretraining");
  cmd->add_option("--from", a->from, "Input kind: jsonl or csv")->capture_default_str();
  cmd->add_option("--system", a->system, "System prompt to set on every chat record");
  cmd->add_flag("--drop-system", a->drop_system, "Allow dropping system prompts when converting to prompt-completion");
  cmd->add_option("--prompt-column", a->csv.prompt_column, "CSV column holding prompts")->capture_default_str();
  cmd->add_option("--completion-column", a->csv.completion_column, "CSV column holding completions")->capture_default_str();
  cmd->add_option("--input-column", a->csv.input_column, "CSV column of text: writes pre-training {\"input\"} records");
  cmd->add_flag("--json", a->json, "Print machine-readable results");
  cmd->callback([a, ctx] {
    Result<data::ConvertResult> r = Status::Ok();
    if (a->from == "csv") {
      r = data::ConvertCsv(Env::Default(), a->in, a->out, a->csv);
    } else if (a->from == "jsonl") {
      if (a->to.empty()) throw CLI::ValidationError("--to", "say which format to convert to");
      auto to = data::ParseFormat(a->to);
      if (!to.ok() || *to == data::Format::kAuto) {
        ctx->exit_code = ReportError(to.ok() ? Status::InvalidArgument("--to needs a format, not auto") : to.status());
        return;
      }
      if (*to == data::Format::kPromptCompletion && !a->system.empty())
        throw CLI::ValidationError("--system", "prompt-completion records cannot hold a system prompt");
      r = data::ConvertFile(Env::Default(), a->in, a->out, {*to, a->system, a->drop_system});
    } else {
      throw CLI::ValidationError("--from", "expected jsonl or csv");
    }
    if (!r.ok()) {
      ctx->exit_code = ReportError(r.status());
      return;
    }
    if (a->json) PrintJson({{"records", r->records}, {"out", a->out}});
    else std::printf("wrote %llu records to %s\n", static_cast<unsigned long long>(r->records), a->out.c_str());
    ctx->exit_code = kExitOk;
  });
}

void AddDataAugmentCommand(CLI::App* data, Context* ctx) {
  struct Args {
    std::string in, out;
    bool json = false;
  };
  auto a = std::make_shared<Args>();
  CLI::App* cmd = data->add_subcommand(
      "augment",
      "Add reworded copies of records using the tutorial's rules for question openings\n"
      "(\"How do I\" -> \"How can I\", \"What is\" -> \"What's\", \"Can you\" -> \"Could you\", and a few of the\n"
      "same kind; see docs/data.md). Rule-based: it adds phrasing, not information.\n"
      "Originals are kept; no prompt is written twice.\n\n"
      "Example:\n  lathe data augment train.jsonl --out augmented.jsonl");
  cmd->add_option("file", a->in, "Prompt/completion or chat JSONL file")->required()->check(CLI::ExistingFile);
  cmd->add_option("--out", a->out, "Output JSONL file")->required();
  cmd->add_flag("--json", a->json, "Print machine-readable results");
  cmd->callback([a, ctx] {
    auto r = data::AugmentFile(Env::Default(), a->in, a->out);
    if (!r.ok()) {
      ctx->exit_code = ReportError(r.status());
      return;
    }
    if (a->json)
      PrintJson({{"original", r->original}, {"added", r->added}, {"skippedDuplicates", r->skipped_duplicates}});
    else
      std::printf("%s: %llu records + %llu reworded = %llu (%llu rewrites skipped as duplicates)\n", a->out.c_str(),
                  static_cast<unsigned long long>(r->original), static_cast<unsigned long long>(r->added),
                  static_cast<unsigned long long>(r->original + r->added),
                  static_cast<unsigned long long>(r->skipped_duplicates));
    ctx->exit_code = kExitOk;
  });
}

void AddDataBalanceCommand(CLI::App* data, Context* ctx) {
  struct Args {
    std::string in, out;
    uint64_t max = 0, seed = 0;
    bool json = false;
  };
  auto a = std::make_shared<Args>();
  CLI::App* cmd = data->add_subcommand(
      "balance",
      "Keep at most N records per category, the category being the prompt's first word (the\n"
      "tutorial's heuristic). The seed picks which records stay; kept records keep their order.\n\n"
      "Example:\n  lathe data balance train.jsonl --max-per-category 50 --seed 1 --out balanced.jsonl");
  cmd->add_option("file", a->in, "JSONL file")->required()->check(CLI::ExistingFile);
  cmd->add_option("--max-per-category", a->max, "Most records kept per category")->required()->check(CLI::PositiveNumber);
  cmd->add_option("--seed", a->seed, "Seed of the draw")->capture_default_str();
  cmd->add_option("--out", a->out, "Output JSONL file")->required();
  cmd->add_flag("--json", a->json, "Print machine-readable results");
  cmd->callback([a, ctx] {
    auto r = data::BalanceFile(Env::Default(), a->in, a->out, a->max, a->seed);
    if (!r.ok()) {
      ctx->exit_code = ReportError(r.status());
      return;
    }
    if (a->json) {
      nlohmann::json cats = nlohmann::json::array();
      for (const auto& c : r->categories) cats.push_back({{"category", c.category}, {"before", c.before}, {"after", c.after}});
      PrintJson({{"before", r->before}, {"after", r->after}, {"categories", cats}});
    } else {
      std::printf("%-16s %8s %8s\n", "category", "before", "after");
      for (const auto& c : r->categories)
        std::printf("%-16s %8llu %8llu\n", c.category.empty() ? "(none)" : c.category.c_str(),
                    static_cast<unsigned long long>(c.before), static_cast<unsigned long long>(c.after));
      std::printf("%-16s %8llu %8llu -> %s\n", "total", static_cast<unsigned long long>(r->before),
                  static_cast<unsigned long long>(r->after), a->out.c_str());
    }
    ctx->exit_code = kExitOk;
  });
}

}  // namespace lathe::cli
