#include "engine/trainer.h"

#include <torch/optim/adamw.h>
#include <torch/types.h>  // before clip_grad.h, which uses torch::Tensor without including it
#include <torch/nn/utils/clip_grad.h>
#include <torch/serialize.h>
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/autocast_mode.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/cpu_features.h"
#include "core/env.h"
#include "core/random.h"
#include "data/example_reader.h"
#include "engine/data_parallel.h"
#include "engine/hyperparameters.h"
#include "engine/language_model.h"
#include "engine/lora.h"
#include "engine/model_loader.h"
#include "engine/safetensors.h"
#include "engine/training_data.h"
#include "engine/training_outputs.h"

namespace lathe::engine {
namespace {

using Clock = std::chrono::steady_clock;

// bf16 matrix units (AVX512_BF16) double the matmul peak on CPUs that have them.
bool CpuHasBf16() { return DetectCpuFeatures().avx512_bf16; }

// Turns CPU autocast on (matmuls in bf16, reductions and the loss in fp32) for its lifetime.
class Bf16Autocast {
 public:
  explicit Bf16Autocast(bool on) : on_(on) {
    if (!on_) return;
    at::autocast::set_autocast_cpu_dtype(at::kBFloat16);
    at::autocast::set_cpu_enabled(true);
  }
  ~Bf16Autocast() { Stop(); }
  // Exports (merging LoRA into the base) compute in full precision.
  void Stop() {
    if (!on_) return;
    at::autocast::set_cpu_enabled(false);
    at::autocast::clear_cache();
    on_ = false;
  }

 private:
  bool on_;
};

Result<std::vector<TrainingSequence>> LoadSequences(const std::string& path, const LoadedModel& m,
                                                    const TrainingHyperparameters& h, SequenceStats* stats) {
  std::vector<data::OwnedRecord> records;
  data::Format format = data::Format::kAuto;
  LATHE_RETURN_IF_ERROR(data::ReadAllRecords(Env::Default(), path, data::Format::kAuto, &records, &format));
  if (records.empty()) return Status::InvalidArgument(path + " holds no records");
  SequenceOptions o;
  o.bos_id = m.add_bos ? static_cast<int>(m.config.bos_token_id) : -1;
  o.eos_id = m.eos.empty() ? -1 : *m.eos.begin();
  o.max_length = h.max_sequence_length;
  o.chat_template = m.chat_template;
  if (format == data::Format::kPretraining) {
    std::vector<data::Example> examples;
    for (auto& r : records) examples.push_back(std::move(r.example));
    return PackPretraining(examples, *m.tokenizer, o, stats);
  }
  std::vector<TrainingSequence> out;
  for (const auto& r : records) {
    auto s = BuildSequence(r.example, *m.tokenizer, o, stats);
    if (!s.ok()) return Status::InvalidArgument(path + ":" + std::to_string(r.line) + ": " + s.status().message());
    s->source_line = r.line;
    out.push_back(std::move(s).value());
  }
  return out;
}

// Right-padded [batch, T] tokens and targets.
void MakeBatch(const std::vector<TrainingSequence>& seqs, const std::vector<size_t>& rows, at::Tensor* tokens,
               at::Tensor* targets) {
  size_t t = 0;
  for (size_t i : rows) t = std::max(t, seqs[i].ids.size());
  *tokens = at::zeros({static_cast<int64_t>(rows.size()), static_cast<int64_t>(t)}, at::kLong);
  *targets = at::zeros({static_cast<int64_t>(rows.size()), static_cast<int64_t>(t)}, at::kBool);
  for (size_t b = 0; b < rows.size(); ++b) {
    const auto& s = seqs[rows[b]];
    for (size_t j = 0; j < s.ids.size(); ++j) {
      (*tokens)[static_cast<int64_t>(b)][static_cast<int64_t>(j)] = s.ids[j];
      (*targets)[static_cast<int64_t>(b)][static_cast<int64_t>(j)] = s.target[j] != 0;
    }
  }
}

// Token-weighted mean loss over every sequence (with data parallelism: over every rank's share),
// without gradients.
Result<double> EvaluateLoss(const LoadedModel& m, const LoraAdapters* lora, const std::vector<TrainingSequence>& seqs,
                            size_t batch_size, bool chunked_head, DataParallelGroup* dp) {
  at::NoGradGuard no_grad;
  at::autocast::clear_cache();
  double sum = 0;
  int64_t count = 0;
  for (size_t i = 0; i < seqs.size(); i += batch_size) {
    std::vector<size_t> rows;
    for (size_t j = i; j < std::min(seqs.size(), i + batch_size); ++j) rows.push_back(j);
    at::Tensor tokens, targets;
    MakeBatch(seqs, rows, &tokens, &targets);
    int64_t n = 0;
    double loss = TrainingLoss(m.config, m.weights, lora, tokens, targets, false, chunked_head, &n).item<double>();
    sum += loss * static_cast<double>(n);
    count += n;
  }
  if (dp != nullptr) {
    std::vector<at::Tensor> totals = {at::tensor({sum, static_cast<double>(count)}, at::kDouble)};
    LATHE_RETURN_IF_ERROR(dp->AllReduceSum(&totals));
    sum = totals[0][0].item<double>();
    count = totals[0][1].item<int64_t>();
  }
  return count > 0 ? sum / static_cast<double>(count) : 0.0;
}

double LearningRate(const TrainingHyperparameters& h, int64_t step, int64_t total) {
  if (step < h.warmup_steps) return h.learning_rate * static_cast<double>(step + 1) / static_cast<double>(h.warmup_steps + 1);
  const double progress = total > h.warmup_steps
                              ? static_cast<double>(step - h.warmup_steps) / static_cast<double>(total - h.warmup_steps)
                              : 1.0;
  if (h.lr_schedule == "constant") return h.learning_rate;
  if (h.lr_schedule == "linear") return h.learning_rate * (1.0 - progress);
  return h.learning_rate * 0.5 * (1.0 + std::cos(M_PI * progress));
}

// Everything a run needs to continue exactly where it stopped.
struct LoopState {
  int64_t epoch = 1;                 // the epoch in progress
  int64_t next_batch = 0;            // first batch of that epoch not yet trained
  std::vector<uint64_t> epoch_rng;   // the shuffle generator's state before this epoch's shuffle
  int64_t best_epoch = 0, bad_epochs = 0;
  double best_loss = INFINITY;
  std::vector<std::string> train_rows, val_rows;
};

std::string Generation(const std::string& dir, const char* what, int64_t gen) {
  return dir + "/" + what + "-" + std::to_string(gen) + ".pt";
}

// Through the Env, never torch's own file writer: on a full disk that one throws, and throws again
// from its destructor, which aborts the process (the job ended "killed by signal 6").
template <typename T>
Status SaveTorch(const T& value, const std::string& path) {
  std::unique_ptr<AtomicFileWriter> file;
  LATHE_RETURN_IF_ERROR(AtomicFileWriter::Open(Env::Default(), path, &file));
  Status written;
  // torch only sees success: the first error is kept here and returned once torch is done.
  auto write = [&](const void* data, size_t n) -> size_t {
    if (written.ok()) written = file->Append(std::string_view(static_cast<const char*>(data), n));
    return n;
  };
  try {
    torch::save(value, std::function<size_t(const void*, size_t)>(write));
  } catch (const std::exception& e) {
    return Status::IOError("cannot write " + path + ": " + e.what());
  }
  LATHE_RETURN_IF_ERROR(written);
  return file->Commit();
}

// From the checkpoint file at `path`, or from its bytes when given (rank 0 reads them to send them
// to the other ranks, which then load what they received).
template <typename T>
Status LoadTorch(T& value, const std::string& bytes, const std::string& path) {
  try {
    if (bytes.empty()) {
      torch::load(value, path);
    } else {
      std::istringstream in(bytes);
      torch::load(value, in);
    }
  } catch (const std::exception& e) {
    return Status::Corruption("cannot read checkpoint " + path + ": " + e.what());
  }
  return Status::Ok();
}

// `workers` is left out: a run resumes with however many ranks are available.
// Paths are written relative to the output folder: a data directory restored elsewhere (`lathe
// restore`) moves the job's folder, its data and the model together, and its checkpoint must
// still be recognised. `absolute` gives the form checkpoints were written in before (accepted on
// resume, so an upgrade does not restart running jobs).
nlohmann::json JobIdentity(const TrainRequest& req, std::map<std::string, std::string> hp, bool absolute = false) {
  hp.erase("workers");
  auto path = [&](const std::string& p) {
    if (absolute || p.empty()) return p;
    // Both made absolute first: lexically_relative of an absolute and a relative path is empty.
    std::error_code ec;
    const auto from = std::filesystem::absolute(req.out_dir, ec), to = std::filesystem::absolute(p, ec);
    if (ec) return p;
    return to.lexically_normal().lexically_relative(from.lexically_normal()).string();
  };
  return {{"model", path(req.model_dir)}, {"train", path(req.train_file)}, {"validation", path(req.validation_file)},
          {"hyperparameters", hp}, {"loraTargets", req.lora_targets}};
}

// Train for one process: with dp, one rank of several (rank 0 alone writes anything).
Result<TrainSummary> TrainRank(const TrainRequest& req, TrainingHyperparameters& h,
                               const std::function<void(const TrainProgress&)>& on_progress,
                               const std::atomic<bool>* stop, DataParallelGroup* dp) {
  const bool writer = dp == nullptr || dp->rank() == 0;
  auto loaded = LoadModelDirectory(req.model_dir);
  if (!loaded.ok()) return loaded.status();
  LoadedModel& m = loaded.value();
  ConfigureThreads();
  if (!req.hyperparameters.count("maxSequenceLength"))  // the default fits the model
    h.max_sequence_length = std::min(h.max_sequence_length, m.config.max_position_embeddings);
  if (h.max_sequence_length > m.config.max_position_embeddings)
    return Status::InvalidArgument("hyperparameter maxSequenceLength=" + std::to_string(h.max_sequence_length) +
                                   " exceeds the model's context of " + std::to_string(m.config.max_position_embeddings));
  SequenceStats train_stats, val_stats;
  auto train = LoadSequences(req.train_file, m, h, &train_stats);
  if (!train.ok()) return train.status();
  std::vector<TrainingSequence> validation;
  if (!req.validation_file.empty()) {
    auto v = LoadSequences(req.validation_file, m, h, &val_stats);
    if (!v.ok()) return v.status();
    validation = std::move(v).value();
  }
  const bool has_validation = !validation.empty();
  const size_t validation_sequences = validation.size();  // before each rank takes its share
  if (dp != nullptr) {  // each rank validates every world_size-th sequence; the sums are all-reduced
    std::vector<TrainingSequence> share;
    for (size_t i = static_cast<size_t>(dp->rank()); i < validation.size(); i += static_cast<size_t>(dp->world_size()))
      share.push_back(std::move(validation[i]));
    validation = std::move(share);
  }
  if (writer) LATHE_RETURN_IF_ERROR(Env::Default()->CreateDirs(req.out_dir));

  at::manual_seed(static_cast<uint64_t>(h.seed));  // LoRA dropout
  std::vector<at::Tensor> params;
  std::optional<LoraAdapters> lora;
  if (h.method == "lora") {
    auto l = NewLoraAdapters(m.config, h.lora_rank, h.lora_alpha, h.lora_dropout,
                             LoraTargetModules(h.lora_targets, req.lora_targets),
                             static_cast<uint64_t>(h.seed));
    if (!l.ok()) return l.status();
    lora = std::move(l).value();
    params = lora->Parameters();
  } else {
    std::set<const void*> seen;  // tied embeddings: one tensor, one parameter
    auto add = [&](at::Tensor& t) {
      if (seen.insert(t.unsafeGetTensorImpl()).second) params.push_back(t.set_requires_grad(true));
    };
    add(m.weights.embed);
    add(m.weights.norm);
    add(m.weights.lm_head);
    for (auto& l : m.weights.layers)
      for (at::Tensor* t : {&l.attn_norm, &l.wq, &l.wk, &l.wv, &l.wo, &l.mlp_norm, &l.w_gate, &l.w_up, &l.w_down, &l.bq,
                            &l.bk, &l.bv})
        if (t->defined()) add(*t);
  }
  torch::optim::AdamW optimizer(params, torch::optim::AdamWOptions(h.learning_rate).weight_decay(h.weight_decay));
  // Everything from the first validation on runs in the precision chosen here. LoRA in bf16
  // holds the frozen base in bf16: half the memory, and nothing for autocast to cast.
  TrainSummary sum;
  sum.precision = h.precision == "bf16" || (h.precision == "auto" && CpuHasBf16()) ? "bf16" : "fp32";
  Bf16Autocast autocast(sum.precision == "bf16");
  const bool frozen_in_bf16 = lora && sum.precision == "bf16";
  if (frozen_in_bf16) KeepFrozenMatricesInBf16(&m.weights);
  // bf16 also computes the output layer and the loss a chunk of positions at a time.
  const bool chunked_head = sum.precision == "bf16";

  const size_t batch = static_cast<size_t>(h.batch_size);
  const int64_t batches_per_epoch = static_cast<int64_t>((train->size() + batch - 1) / batch);
  const int64_t steps_per_epoch = (batches_per_epoch + h.gradient_accumulation_steps - 1) / h.gradient_accumulation_steps;
  const int64_t total_steps = steps_per_epoch * h.epoch_count;
  const LoraAdapters* lora_ptr = lora ? &*lora : nullptr;

  sum.method = h.method;
  sum.train_records = train_stats.records;
  sum.truncated = train_stats.truncated + val_stats.truncated;
  LoopState st;
  std::vector<at::Tensor> best;  // parameter values of the best epoch
  Rng rng(static_cast<uint64_t>(h.seed));
  st.epoch_rng = rng.State();

  // Checkpoints: OUT/checkpoint/state.json names generation G of params-G.pt, optim-G.pt,
  // best-G.pt and rng-G.pt. Files are written before state.json, each atomically, so a kill at
  // any moment leaves the previous complete checkpoint in force.
  const std::string ckpt = req.out_dir + "/checkpoint";
  std::map<std::string, std::string> hp_values;
  for (const auto& spec : DefaultHyperparameterSpecs()) hp_values[spec.name] = spec.default_value;
  for (const auto& [k, v] : req.hyperparameters) hp_values[k] = v;
  const nlohmann::json identity = JobIdentity(req, hp_values);
  int64_t generation = 0;
  auto save_checkpoint = [&]() -> Status {
    LATHE_RETURN_IF_ERROR(Env::Default()->CreateDirs(ckpt));
    const int64_t g = generation + 1;
    std::vector<at::Tensor> current;
    for (const auto& p : params) current.push_back(p.detach());
    LATHE_RETURN_IF_ERROR(SaveTorch(current, Generation(ckpt, "params", g)));
    LATHE_RETURN_IF_ERROR(SaveTorch(optimizer, Generation(ckpt, "optim", g)));
    LATHE_RETURN_IF_ERROR(SaveTorch(best, Generation(ckpt, "best", g)));
    at::Tensor torch_rng;
    {
      auto gen = at::detail::getDefaultCPUGenerator();
      std::lock_guard<std::mutex> lock(gen.mutex());
      torch_rng = gen.get_state();
    }
    LATHE_RETURN_IF_ERROR(SaveTorch(torch_rng, Generation(ckpt, "rng", g)));
    nlohmann::json state = {{"generation", g}, {"job", identity}, {"epoch", st.epoch}, {"nextBatch", st.next_batch},
                            {"epochRng", st.epoch_rng}, {"bestEpoch", st.best_epoch}, {"badEpochs", st.bad_epochs},
                            {"bestLoss", std::isfinite(st.best_loss) ? st.best_loss : -1.0},
                            {"trainRows", st.train_rows}, {"validationRows", st.val_rows}, {"steps", sum.steps},
                            {"trainedTokens", sum.trained_tokens}, {"finalTrainingLoss", sum.final_training_loss},
                            {"initialValidationLoss", sum.initial_validation_loss}, {"epochsRun", sum.epochs_run}};
    LATHE_RETURN_IF_ERROR(WriteFileAtomically(Env::Default(), ckpt + "/state.json", state.dump() + "\n"));
    for (const char* what : {"params", "optim", "best", "rng"}) (void)Env::Default()->RemoveFile(Generation(ckpt, what, generation));
    generation = g;
    return Status::Ok();
  };
  StartingState start_state;  // rank 0 reads the checkpoint; the other ranks get it from rank 0
  if (writer && Env::Default()->FileExists(ckpt + "/state.json")) {
    LATHE_RETURN_IF_ERROR(ReadFileToString(Env::Default(), ckpt + "/state.json", &start_state.state));
    auto state = nlohmann::json::parse(start_state.state, nullptr, false);
    if (state.is_discarded() || !state.contains("generation"))
      return Status::Corruption(ckpt + "/state.json is unreadable; delete " + ckpt + " to start over");
    if (state["job"] != identity && state["job"] != JobIdentity(req, hp_values, /*absolute=*/true))
      return Status::InvalidArgument(req.out_dir + " holds a checkpoint of a different job (other data, model or "
                                     "hyperparameters); use another --out, or delete " + ckpt + " to start over");
    generation = state["generation"].get<int64_t>();
    if (dp != nullptr)  // to send; one process loads straight from the files, holding no copy
      for (auto [what, bytes] : {std::pair<const char*, std::string*>{"params", &start_state.params},
                                 {"optim", &start_state.optim}, {"rng", &start_state.rng}})
        LATHE_RETURN_IF_ERROR(ReadFileToString(Env::Default(), Generation(ckpt, what, generation), bytes));
    // Rank 0's alone: only it exports the best epoch.
    LATHE_RETURN_IF_ERROR(LoadTorch(best, "", Generation(ckpt, "best", generation)));
  }
  if (dp != nullptr) {
    // What must be equal on every rank for their steps to agree (paths may differ between machines).
    const std::string job = nlohmann::json{{"hyperparameters", identity["hyperparameters"]},
                                           {"loraTargets", req.lora_targets}, {"trainSequences", train->size()},
                                           {"trainTokens", train_stats.tokens},
                                           // every rank all-reduces validation sums iff rank 0 does
                                           {"validationSequences", validation_sequences}}.dump();
    LATHE_RETURN_IF_ERROR(ShareStartingState(dp, job, params, &start_state));
  }
  const bool resumed = !start_state.state.empty();
  if (resumed || (!writer && !start_state.params.empty())) {
    std::vector<at::Tensor> saved;
    LATHE_RETURN_IF_ERROR(LoadTorch(saved, start_state.params, Generation(ckpt, "params", generation)));
    if (saved.size() != params.size()) return Status::Corruption(ckpt + ": checkpoint does not match the model");
    at::NoGradGuard no_grad;
    for (size_t i = 0; i < params.size(); ++i) params[i].copy_(saved[i]);
  }
  if (resumed) {
    auto state = nlohmann::json::parse(start_state.state, nullptr, false);
    if (state.is_discarded()) return Status::Corruption("rank 0's checkpoint state is unreadable");
    LATHE_RETURN_IF_ERROR(LoadTorch(optimizer, start_state.optim, Generation(ckpt, "optim", generation)));
    at::Tensor torch_rng;
    LATHE_RETURN_IF_ERROR(LoadTorch(torch_rng, start_state.rng, Generation(ckpt, "rng", generation)));
    {
      auto gen = at::detail::getDefaultCPUGenerator();
      std::lock_guard<std::mutex> lock(gen.mutex());
      gen.set_state(torch_rng);
    }
    st.epoch = state["epoch"];
    st.next_batch = state["nextBatch"];
    st.epoch_rng = state["epochRng"].get<std::vector<uint64_t>>();
    st.best_epoch = state["bestEpoch"];
    st.bad_epochs = state["badEpochs"];
    const double bl = state["bestLoss"];
    st.best_loss = bl < 0 ? INFINITY : bl;
    st.train_rows = state["trainRows"].get<std::vector<std::string>>();
    st.val_rows = state["validationRows"].get<std::vector<std::string>>();
    sum.steps = state["steps"];
    sum.trained_tokens = state["trainedTokens"];
    sum.final_training_loss = state["finalTrainingLoss"];
    sum.initial_validation_loss = state["initialValidationLoss"];
    sum.epochs_run = state["epochsRun"];
    rng.SetState(st.epoch_rng);
  } else if (has_validation) {
    auto initial = EvaluateLoss(m, lora_ptr, validation, batch, chunked_head, dp);
    if (!initial.ok()) return initial.status();
    sum.initial_validation_loss = *initial;
  }
  if (dp != nullptr && !writer) {
    // LoRA dropout: the other ranks draw their own masks, not copies of rank 0's.
    at::manual_seed(static_cast<uint64_t>(h.seed) * 1000003u + static_cast<uint64_t>(dp->rank()) * 7919u +
                    static_cast<uint64_t>(sum.steps));
  }
  const auto start = Clock::now();
  const int64_t steps_at_start = sum.steps;
  bool stop_agreed = false;

  for (; st.epoch <= h.epoch_count && !sum.interrupted && !sum.stopped_early; ++st.epoch) {
    st.epoch_rng = rng.State();
    auto batches = MakeLengthBucketedBatches(*train, batch, &rng);
    double step_loss = 0;      // summed over the step's target tokens, so the reported loss is the
    int64_t step_targets = 0;  // per-token mean of the whole step, whatever its batches' sizes
    int64_t in_step = 0;
    for (size_t bi = static_cast<size_t>(st.next_batch); bi < batches.size(); ++bi) {
      // Ranks stop together, at a step all of them agreed on (SyncStep).
      if (dp != nullptr ? stop_agreed : stop != nullptr && stop->load()) {
        sum.interrupted = true;
        break;
      }
      std::vector<size_t> rows = batches[bi];
      if (dp != nullptr) {
        const auto slice = RankSlice(rows.size(), dp->rank(), dp->world_size());
        rows.assign(batches[bi].begin() + static_cast<std::ptrdiff_t>(slice.first),
                    batches[bi].begin() + static_cast<std::ptrdiff_t>(slice.second));
      }
      if (!rows.empty()) {  // the last batch of an epoch may have fewer rows than there are ranks
        at::Tensor tokens, targets;
        MakeBatch(*train, rows, &tokens, &targets);
        // Autocast caches bf16 copies of parameters: stale after an optimizer step, and without
        // autograd history after an evaluation under NoGradGuard. Start every batch afresh.
        at::autocast::clear_cache();
        int64_t n = 0;
        at::Tensor loss = TrainingLoss(m.config, m.weights, lora_ptr, tokens, targets, true, chunked_head, &n);
        if (dp == nullptr) {
          (loss / static_cast<double>(h.gradient_accumulation_steps)).backward();
        } else {  // this rank's share of the whole batch's mean: the ranks' gradients sum to it
          const double share = static_cast<double>(n) / static_cast<double>(std::max<int64_t>(BatchTargets(*train, batches[bi]), 1));
          (loss * (share / static_cast<double>(h.gradient_accumulation_steps))).backward();
        }
        step_loss += loss.item<double>() * static_cast<double>(n);
        step_targets += n;
      }
      for (size_t row : batches[bi]) sum.trained_tokens += (*train)[row].ids.size();  // real tokens, not padding
      if (++in_step < h.gradient_accumulation_steps && bi + 1 < batches.size()) continue;
      if (dp != nullptr)
        LATHE_RETURN_IF_ERROR(SyncStep(dp, params, &step_loss, &step_targets, stop != nullptr && stop->load(), &stop_agreed));
      torch::nn::utils::clip_grad_norm_(params, 1.0);
      const double lr = LearningRate(h, sum.steps, total_steps);
      for (auto& group : optimizer.param_groups()) static_cast<torch::optim::AdamWOptions&>(group.options()).lr(lr);
      optimizer.step();
      // Released rather than zeroed (libtorch 1.13's zero_grad keeps them): full fine-tuning
      // then holds no parameter-sized gradients through the next forward pass. The next backward
      // pass starts from none, which gives the same values as adding to zeros.
      for (auto& p : params) p.mutable_grad() = at::Tensor();
      sum.steps++;
      sum.final_training_loss = step_loss / static_cast<double>(std::max<int64_t>(step_targets, 1));
      st.train_rows.push_back(Row(sum.steps, st.epoch, sum.final_training_loss));
      step_loss = 0;
      step_targets = 0;
      in_step = 0;
      st.next_batch = static_cast<int64_t>(bi) + 1;
      if (h.validation_steps > 0 && has_validation && sum.steps % h.validation_steps == 0 &&
          st.next_batch < static_cast<int64_t>(batches.size())) {  // epoch ends validate anyway
        auto loss = EvaluateLoss(m, lora_ptr, validation, batch, chunked_head, dp);
        if (!loss.ok()) return loss.status();
        st.val_rows.push_back(Row(sum.steps, st.epoch, *loss));
      }
      if (writer && h.checkpoint_steps > 0 && sum.steps % h.checkpoint_steps == 0 &&
          st.next_batch < static_cast<int64_t>(batches.size())) {
        // Resuming regenerates this epoch's batches from epoch_rng and skips the trained ones.
        LATHE_RETURN_IF_ERROR(save_checkpoint());
      }
      if (writer && on_progress) {
        const double secs = std::chrono::duration<double>(Clock::now() - start).count();
        const double per_step = secs / static_cast<double>(std::max<int64_t>(sum.steps - steps_at_start, 1));
        on_progress({sum.steps, total_steps, st.epoch, h.epoch_count, sum.final_training_loss, lr,
                     static_cast<double>(sum.trained_tokens) / std::max(secs, 1e-9),
                     per_step * static_cast<double>(total_steps - sum.steps), sum.trained_tokens});
      }
    }
    if (sum.interrupted) break;  // a partial epoch is not judged; the checkpoint resumes it
    sum.epochs_run = st.epoch;
    st.next_batch = 0;
    // The best epoch is what gets exported: by validation loss when there is a validation set.
    double epoch_loss = sum.final_training_loss;
    if (has_validation) {
      auto loss = EvaluateLoss(m, lora_ptr, validation, batch, chunked_head, dp);
      if (!loss.ok()) return loss.status();
      epoch_loss = *loss;
      st.val_rows.push_back(Row(sum.steps, st.epoch, epoch_loss));
    }
    // Early stopping counts epochs that improve by less than the threshold; the export is the
    // lowest loss seen, whatever the threshold.
    // (No best epoch yet: best_epoch 0. Only rank 0 keeps the best weights, for its export.)
    const bool improved = st.best_epoch == 0 || epoch_loss < st.best_loss - h.early_stopping_threshold;
    if (st.best_epoch == 0 || epoch_loss < st.best_loss) {
      st.best_loss = epoch_loss;
      st.best_epoch = st.epoch;
      best.clear();
      if (writer)
        for (const auto& p : params) best.push_back(p.detach().clone());
    }
    if (improved) st.bad_epochs = 0;
    else if (h.early_stopping_patience > 0 && ++st.bad_epochs >= h.early_stopping_patience) sum.stopped_early = true;
    if (!writer) continue;
    LATHE_RETURN_IF_ERROR(WriteCsv(req.out_dir + "/training_artifacts/step_wise_training_metrics.csv",
                                   "step_number,epoch_number,training_loss,perplexity", st.train_rows));
    // Epoch-end checkpoint: the next epoch starts from the generator as it is now.
    ++st.epoch;
    st.epoch_rng = rng.State();
    LATHE_RETURN_IF_ERROR(save_checkpoint());
    --st.epoch;
  }
  sum.best_epoch = st.best_epoch;
  if (!writer) return sum;  // rank 0 writes the outputs
  const double best_loss = st.best_loss;
  const auto& train_rows = st.train_rows;
  const auto& val_rows = st.val_rows;
  sum.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  if (has_validation) sum.best_validation_loss = best_loss;
  {
    at::NoGradGuard no_grad;
    for (size_t i = 0; i < best.size(); ++i) params[i].copy_(best[i]);
  }
  LATHE_RETURN_IF_ERROR(WriteCsv(req.out_dir + "/training_artifacts/step_wise_training_metrics.csv",
                                 "step_number,epoch_number,training_loss,perplexity", train_rows));
  if (has_validation)
    LATHE_RETURN_IF_ERROR(WriteCsv(req.out_dir + "/validation_artifacts/post_fine_tuning_validation/validation/validation_metrics.csv",
                                   "step_number,epoch_number,validation_loss,perplexity", val_rows));
  autocast.Stop();
  if (lora) {
    LATHE_RETURN_IF_ERROR(WriteAdapter(req.out_dir, m.config, *lora, req.model_dir));
    if (req.save_merged && frozen_in_bf16) {
      // The adapter goes into the base as it was loaded, not into its bf16 rounding: load it again
      // (after letting the bf16 copy go), merge in fp32, save in the dtype it came in.
      m.weights = LlamaWeights();
      auto base = LoadModelDirectory(req.model_dir);
      if (!base.ok()) return base.status();
      LATHE_RETURN_IF_ERROR(
          SaveModelDirectory(req.out_dir + "/model", base->config, Merged(base->weights, *lora), req.model_dir));
    } else if (req.save_merged) {
      LATHE_RETURN_IF_ERROR(SaveModelDirectory(req.out_dir + "/model", m.config, Merged(m.weights, *lora), req.model_dir));
    }
  } else {
    LATHE_RETURN_IF_ERROR(SaveModelDirectory(req.out_dir + "/model", m.config, m.weights, req.model_dir));
  }
  nlohmann::json summary = {{"method", sum.method}, {"precision", sum.precision}, {"steps", sum.steps}, {"epochsRun", sum.epochs_run},
                            {"bestEpoch", sum.best_epoch}, {"finalTrainingLoss", sum.final_training_loss},
                            {"initialValidationLoss", sum.initial_validation_loss},
                            {"bestValidationLoss", sum.best_validation_loss}, {"trainedTokens", sum.trained_tokens},
                            {"trainRecords", sum.train_records}, {"truncatedSequences", sum.truncated},
                            {"seconds", sum.seconds}, {"stoppedEarly", sum.stopped_early},
                            {"interrupted", sum.interrupted}};
  LATHE_RETURN_IF_ERROR(WriteFileAtomically(Env::Default(), req.out_dir + "/training_summary.json", summary.dump(2) + "\n"));
  return sum;
}

}  // namespace

Result<TrainSummary> Train(const TrainRequest& req, const std::function<void(const TrainProgress&)>& on_progress,
                           const std::atomic<bool>* stop) {
  auto hp = ParseHyperparameters(req.hyperparameters, DefaultHyperparameterSpecs());
  if (!hp.ok()) return hp.status();
  if (hp->workers == 1) return TrainRank(req, *hp, on_progress, stop, nullptr);
  // The group is joined before the model loads: the rendezvous then waits only for the ranks'
  // processes to start, and a rank whose loading fails is reported by name (Leave).
  auto group = DataParallelGroup::Join(req.data_parallel, static_cast<int>(hp->workers));
  if (!group.ok()) return group.status();
  auto r = TrainRank(req, *hp, on_progress, stop, group->get());
  if (!r.ok()) (*group)->Leave(r.status().message());
  return r;
}

}  // namespace lathe::engine
