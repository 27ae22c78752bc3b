// `lathe data split FILE --train 0.8 --seed N --out-dir D`
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "cli/commands.h"
#include "data/split.h"

namespace lathe::cli {

void AddDataSplitCommand(CLI::App* data, Context* ctx) {
  struct Args {
    std::string file, format = "auto";
    data::SplitOptions opt;
    bool json = false;
  };
  auto a = std::make_shared<Args>();
  CLI::App* cmd = data->add_subcommand(
      "split",
      "Split a dataset into OUT/train.jsonl and OUT/validation.jsonl. The same input and seed give\n"
      "byte-identical files on any machine; records that are duplicates (ignoring case,\n"
      "punctuation and spacing) stay on one side; OUT/manifest.json records the sha256 of the\n"
      "source and of both outputs.\n\n"
      "Example:\n  lathe data split all.jsonl --train 0.8 --seed 42 --out-dir split/");
  cmd->add_option("file", a->file, "JSONL file to split")->required()->check(CLI::ExistingFile);
  cmd->add_option("--train", a->opt.train_ratio, "Share of records for training, in (0, 1)")
      ->capture_default_str()
      ->check(CLI::Validator(
          [](std::string& v) {
            double d = std::strtod(v.c_str(), nullptr);
            return d > 0.0 && d < 1.0 ? std::string() : "must be between 0 and 1 (exclusive), got " + v;
          },
          "in (0, 1)"));
  cmd->add_option("--seed", a->opt.seed, "Seed of the shuffle")->capture_default_str();
  cmd->add_option("--out-dir", a->opt.out_dir, "Folder for the outputs")->required();
  cmd->add_option("--format", a->format, "auto, prompt-completion, chat, conversation or pretraining")->capture_default_str();
  cmd->add_flag("--force", a->opt.force, "Overwrite existing outputs");
  cmd->add_flag("--json", a->json, "Print the manifest as JSON");
  cmd->callback([a, ctx] {
    auto format = data::ParseFormat(a->format);
    if (!format.ok()) {
      ctx->exit_code = ReportError(format.status());
      return;
    }
    a->opt.format = *format;
    auto r = data::SplitDataset(Env::Default(), a->file, a->opt);
    if (!r.ok()) {
      ctx->exit_code = ReportError(r.status());
      return;
    }
    if (a->json) {
      PrintJson(r->manifest);
    } else {
      std::printf("%s: %llu training + %llu validation records (seed %llu, %llu duplicate groups kept together)\n"
                  "  %s\n  %s\n  %s\n",
                  a->file.c_str(), static_cast<unsigned long long>(r->train_records),
                  static_cast<unsigned long long>(r->validation_records), static_cast<unsigned long long>(a->opt.seed),
                  static_cast<unsigned long long>(r->duplicate_groups), r->train_path.c_str(),
                  r->validation_path.c_str(), r->manifest_path.c_str());
    }
    ctx->exit_code = kExitOk;
  });
}

}  // namespace lathe::cli
