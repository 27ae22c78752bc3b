// `lathe data split FILE --train 0.8 --seed N --out-dir D`
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "cli/commands.h"
#include "cli/dataset_options.h"
#include "cli/s3_staging.h"
#include "data/split.h"

namespace lathe::cli {
namespace {

constexpr const char* kSplitOutputs[] = {"train.jsonl", "validation.jsonl", "manifest.json"};

// An s3:// --out-dir: written in a local folder that stands for the prefix, refused as a local
// one would be when its outputs exist (without --force) or one of them is the input.
Status StageS3Outputs(S3Staging* staging, const std::string& input, data::SplitOptions* opt) {
  auto prefix = service::ParseS3PrefixUri(opt->out_dir);
  if (!prefix.ok()) return prefix.status();
  for (const char* name : kSplitOutputs) {
    const service::S3Uri object{prefix->bucket, prefix->key + name};
    if (object.ToString() == input)
      return Status::InvalidArgument(input + " is both the input and an output; choose another --out-dir");
    if (opt->force) continue;
    auto exists = staging->Exists(object);
    if (!exists.ok()) return exists.status();
    if (*exists) return Status::AlreadyExists(object.ToString() + " exists; pass --force to overwrite it");
  }
  LATHE_RETURN_IF_ERROR(staging->OutputFolder(opt->out_dir));
  // The data layer joins names with '/': the prefix without its own.
  opt->out_dir = prefix->ToString();
  if (opt->out_dir.back() == '/') opt->out_dir.pop_back();
  opt->force = true;  // checked above; the local folder is new and empty
  return Status::Ok();
}

}  // namespace

void AddDataSplitCommand(CLI::App* data, Context* ctx) {
  struct Args {
    std::string file, format = "auto";
    data::SplitOptions opt;
    ClientOptions s3;
    bool json = false;
  };
  auto a = std::make_shared<Args>();
  CLI::App* cmd = data->add_subcommand(
      "split",
      "Split a dataset into OUT/train.jsonl and OUT/validation.jsonl. The same input and seed give\n"
      "byte-identical files on any machine; records that are duplicates (ignoring case,\n"
      "punctuation and spacing) stay on one side; OUT/manifest.json records the sha256 of the\n"
      "source and of both outputs.\n\n"
      "The file and --out-dir may be s3:// URIs: the outputs are written locally, then uploaded to\n"
      "OUT/train.jsonl, OUT/validation.jsonl and OUT/manifest.json (last).\n\n"
      "Example:\n  lathe data split all.jsonl --train 0.8 --seed 42 --out-dir split/\n"
      "  lathe data split s3://my-bucket/all.jsonl --out-dir s3://my-bucket/training-data/");
  cmd->add_option("file", a->file, "JSONL file (or s3:// URI) to split")->required()->check(ExistingFileOrS3Uri());
  cmd->add_option("--train", a->opt.train_ratio, "Share of records for training, in (0, 1)")
      ->capture_default_str()
      ->check(CLI::Validator(
          [](std::string& v) {
            double d = std::strtod(v.c_str(), nullptr);
            return d > 0.0 && d < 1.0 ? std::string() : "must be between 0 and 1 (exclusive), got " + v;
          },
          "in (0, 1)"));
  cmd->add_option("--seed", a->opt.seed, "Seed of the shuffle")->capture_default_str();
  cmd->add_option("--out-dir", a->opt.out_dir, "Folder (or s3:// prefix) for the outputs")->required();
  AddS3Options(cmd, &a->s3);
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
    S3Staging staging(a->s3);
    const bool to_s3 = IsS3Name(a->opt.out_dir);
    Status staged = staging.Input(a->file);
    if (staged.ok() && to_s3) staged = StageS3Outputs(&staging, a->file, &a->opt);
    if (!staged.ok()) {
      ctx->exit_code = ReportError(staged);
      return;
    }
    auto r = data::SplitDataset(staging.env(), a->file, a->opt);
    if (r.ok() && to_s3) {
      // The manifest last: once it is there, the outputs it describes are.
      if (Status up = staging.Upload(a->opt.out_dir, {std::begin(kSplitOutputs), std::end(kSplitOutputs)}); !up.ok())
        r = up;
    }
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
