// The Generator over a local model: a batch of cases is one engine call (two when a batch mixes
// plain prompts and chats, whose stop sequences differ), prompts rendered as InvokeModel renders
// them. Prompts are tokenized here, not by the engine, so that one case too long for the model's
// context fails alone instead of failing its whole batch, and so that the reference loss sees
// exactly the tokens generation sees.
#include "eval/engine_generator.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <chrono>
#include <cstdlib>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>

#include "engine/language_model.h"
#include "engine/token_nll.h"
#include "text/chat_format.h"

namespace lathe::eval {
namespace {

constexpr const char* kSpace = " \t\r\n";
using Clock = std::chrono::steady_clock;

// Threads that live as long as the generator: a thread made per batch would pay the engine's
// per-thread start-up (an OpenMP team for its first tensor operation) on every batch.
class WorkerPool {
 public:
  ~WorkerPool() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      quit_ = true;
    }
    wake_.notify_all();
    for (auto& t : threads_) t.join();
  }
  // Runs work(0) here and work(1..n-1) on the pool's threads; returns when all have, even when
  // one of them throws (the first exception is rethrown here once every other one is done, so
  // no thread still uses the caller's stack; a throw on a pool thread would otherwise end the
  // process).
  void Run(size_t n, const std::function<void(size_t)>& work) {
    while (threads_.size() + 1 < n) {
      // A new thread starts at the current round, so it never runs one that is already over.
      const size_t index = threads_.size() + 1;
      const uint64_t round = round_;
      threads_.emplace_back([this, index, round] { Loop(index, round); });
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      work_ = &work;
      active_ = n;
      pending_ = n - 1;
      ++round_;
    }
    wake_.notify_all();
    std::exception_ptr here;
    try {
      work(0);
    } catch (...) {
      here = std::current_exception();
    }
    std::unique_lock<std::mutex> lock(mu_);
    done_.wait(lock, [&] { return pending_ == 0; });
    work_ = nullptr;
    std::exception_ptr thrown = here ? here : thrown_;
    thrown_ = nullptr;
    lock.unlock();
    if (thrown) std::rethrow_exception(thrown);
  }

 private:
  void Loop(size_t index, uint64_t seen) {
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      wake_.wait(lock, [&] { return quit_ || round_ != seen; });
      if (quit_) return;
      seen = round_;
      if (index >= active_) continue;
      const std::function<void(size_t)>* work = work_;
      lock.unlock();
      std::exception_ptr failed;
      try {
        (*work)(index);
      } catch (...) {
        failed = std::current_exception();
      }
      lock.lock();
      if (failed && !thrown_) thrown_ = failed;
      if (--pending_ == 0) done_.notify_all();
    }
  }

  std::mutex mu_;
  std::condition_variable wake_, done_;
  std::vector<std::thread> threads_;
  const std::function<void(size_t)>* work_ = nullptr;
  std::exception_ptr thrown_;  // the first exception of a pool thread this round
  size_t active_ = 0, pending_ = 0;
  uint64_t round_ = 0;
  bool quit_ = false;
};

class EngineModelGenerator final : public Generator {
 public:
  explicit EngineModelGenerator(std::shared_ptr<engine::LanguageModel> model) : model_(std::move(model)) {}

  Result<std::vector<Answer>> Generate(const std::vector<const TestCase*>& cases,
                                       const GenerationSettings& settings) override {
    // The engine is torch: what it throws (out of memory, a kernel's check) fails the batch.
    try {
      return GenerateBatch(cases, settings);
    } catch (const std::exception& e) {
      return Status::Internal(std::string("the engine failed: ") + e.what());
    }
  }

  Result<std::vector<Answer>> GenerateBatch(const std::vector<const TestCase*>& cases,
                                            const GenerationSettings& settings) {
    const Clock::time_point start = Clock::now();
    std::vector<Answer> answers(cases.size());
    // Plain prompts and chats run as separate engine calls: a chat's end-of-turn markers are stop
    // sequences, which must not cut a plain prompt's answer.
    for (const bool chat : {false, true}) {
      std::vector<size_t> which;
      std::vector<std::vector<int>> prompts;
      std::vector<uint64_t> seeds;
      for (size_t i = 0; i < cases.size(); ++i) {
        if (cases[i]->messages.empty() == chat) continue;
        Result<std::vector<int>> ids = PromptIds(*cases[i]);
        if (ids.ok() && static_cast<int64_t>(ids->size()) >= model_->config().max_position_embeddings)
          ids = Status::InvalidArgument("the prompt has " + std::to_string(ids->size()) +
                                        " tokens; the model's context is " +
                                        std::to_string(model_->config().max_position_embeddings));
        if (!ids.ok()) {
          answers[i].error = ids.status().message();
          answers[i].stop_reason = "error";
          continue;
        }
        which.push_back(i);
        prompts.push_back(std::move(*ids));
        seeds.push_back(CaseSeed(settings.seed, *cases[i]));
      }
      if (prompts.empty()) continue;
      engine::GenerationOptions o = Options(settings, chat);
      o.seeds = std::move(seeds);
      std::vector<Clock::time_point> finished;
      Result<std::vector<engine::GenerationResult>> r = GenerateSharded(prompts, o, &finished);
      if (!r.ok()) return r.status();
      for (size_t k = 0; k < which.size(); ++k) {
        const engine::GenerationResult& g = (*r)[k];
        Answer& a = answers[which[k]];
        a.ok = true;
        // What this case's caller would have waited: from the batch's start to its last token.
        a.latency_ms = std::max(1e-3, std::chrono::duration<double, std::milli>(finished[k] - start).count());
        a.text = chat ? ChatAnswerText(g, settings) : g.text;
        a.output_tokens = static_cast<int>(g.tokens.size());
        a.stop_reason = engine::StopReasonName(g.reason);
      }
    }
    return answers;
  }

  std::optional<ReferenceLoss> LossOfReference(const TestCase& c) override {
    // A loss the engine cannot give (it threw) leaves the case without one; the run goes on.
    try {
      return Loss(c);
    } catch (const std::exception&) {
      return std::nullopt;
    }
  }

  std::optional<ReferenceLoss> Loss(const TestCase& c) {
    if (c.reference.empty()) return std::nullopt;
    Result<std::vector<int>> ids = PromptIds(c);
    if (!ids.ok()) return std::nullopt;
    const size_t prompt_len = ids->size();
    std::vector<int> ref;
    if (!model_->tokenizer().Encode(c.reference, &ref).ok() || ref.empty()) return std::nullopt;
    // Beyond the context the model has no loss to give: such a case is left without one
    // (docs/evaluation.md, Limits) rather than scored on a truncated reference.
    if (static_cast<int64_t>(prompt_len + ref.size()) > model_->config().max_position_embeddings) return std::nullopt;
    // Logits come for every position: a long case on a large vocabulary would hold gigabytes.
    const uint64_t logit_bytes = (prompt_len + ref.size()) * static_cast<uint64_t>(model_->config().vocab_size) * 4;
    if (logit_bytes > kMaxLossLogitBytes) return std::nullopt;
    ids->insert(ids->end(), ref.begin(), ref.end());
    Result<std::vector<float>> logits = model_->Logits(*ids);
    if (!logits.ok()) return std::nullopt;
    return MeanNll(*logits, *ids, prompt_len, static_cast<size_t>(model_->config().vocab_size));
  }

  // The batch in contiguous shards, one per worker (EvalWorkers), each one engine call on its own
  // instance over the same weights, run in parallel: the decode of a small model barely uses a
  // second core, so one call would leave the others idle. Each case samples from its own seed
  // (CaseSeed), so how the batch is split changes no answer. finished[k]: when prompt k's last
  // piece of text came (its shard's end when no text came).
  Result<std::vector<engine::GenerationResult>> GenerateSharded(const std::vector<std::vector<int>>& prompts,
                                                                const engine::GenerationOptions& o,
                                                                std::vector<Clock::time_point>* finished) {
    const size_t n = prompts.size(), shards = std::min(n, EvalWorkers());
    if (instances_.empty()) instances_.push_back(nullptr);
    while (instances_.size() < shards) instances_.push_back(model_->NewInstance());
    std::vector<engine::GenerationResult> out(n);
    finished->assign(n, Clock::time_point{});
    std::vector<Status> status(shards);
    // Shards are taken in turn, not dealt out: a thread the machine's other work holds back
    // leaves the rest of the batch to the others. Which thread runs a shard changes nothing in it.
    std::atomic<size_t> next{0};
    auto work = [&](size_t t) {
      for (size_t s; (s = next.fetch_add(1)) < shards;) {
        // An exception (torch's) becomes the shard's status: the pool must never see it unwind
        // past a shard others still run beside.
        try {
          const size_t begin = n * s / shards, end = n * (s + 1) / shards;
          std::vector<std::vector<int>> part(prompts.begin() + begin, prompts.begin() + end);
          engine::GenerationOptions shard_options = o;
          shard_options.seeds.assign(o.seeds.begin() + static_cast<std::ptrdiff_t>(begin),
                                     o.seeds.begin() + static_cast<std::ptrdiff_t>(end));
          engine::LanguageModel* m = t == 0 ? model_.get() : instances_[t].get();
          // Each shard writes only its own prompts' times, from its own thread.
          auto r = m->GenerateTokens(part, shard_options, [&, begin](size_t index, std::string_view) {
            (*finished)[begin + index] = Clock::now();
            return true;
          });
          const Clock::time_point shard_end = Clock::now();
          for (size_t k = begin; k < end; ++k)
            if ((*finished)[k] == Clock::time_point{}) (*finished)[k] = shard_end;
          if (!r.ok()) {
            status[s] = r.status();
            continue;
          }
          for (size_t k = 0; k < r->size(); ++k) out[begin + k] = std::move((*r)[k]);
        } catch (const std::exception& e) {
          status[s] = Status::Internal(std::string("the engine failed: ") + e.what());
        }
      }
    };
    if (shards <= 1) work(0);
    else pool_.Run(shards, work);
    for (const Status& s : status)
      if (!s.ok()) return s;
    return out;
  }

  // Mean of -log softmax(logits[t])[ids[t+1]] over the reference tokens.
  static ReferenceLoss MeanNll(const std::vector<float>& logits, const std::vector<int>& ids, size_t prompt_len,
                               size_t vocab) {
    ReferenceLoss loss;
    double sum = 0;
    for (size_t t = prompt_len; t < ids.size(); ++t) {
      sum += engine::NextTokenNll(logits.data() + (t - 1) * vocab, vocab, ids[t]);
      ++loss.tokens;
    }
    loss.mean_nll = loss.tokens > 0 ? sum / loss.tokens : 0;
    return loss;
  }

 private:
  engine::GenerationOptions Options(const GenerationSettings& s, bool chat) const {
    engine::GenerationOptions o;
    o.max_tokens = s.max_tokens;
    o.temperature = static_cast<float>(s.temperature);
    o.top_p = static_cast<float>(s.top_p);
    o.seed = s.seed;
    o.stop_sequences = s.stop_sequences;
    if (chat)
      for (std::string& stop : text::ChatStopSequences(model_->chat_template()))
        if (std::find(o.stop_sequences.begin(), o.stop_sequences.end(), stop) == o.stop_sequences.end())
          o.stop_sequences.push_back(std::move(stop));
    return o;
  }

  // As InvokeModel answers a chat: without the whitespace the format puts around an answer.
  static std::string ChatAnswerText(const engine::GenerationResult& g, const GenerationSettings& s) {
    std::string text = g.text;
    text.erase(0, std::min(text.size(), text.find_first_not_of(kSpace)));
    const bool caller_stop = g.reason == engine::StopReason::kStopSequence &&
                             std::find(s.stop_sequences.begin(), s.stop_sequences.end(), g.stop_sequence) !=
                                 s.stop_sequences.end();
    const bool end_turn = g.reason != engine::StopReason::kLength && g.reason != engine::StopReason::kCancelled &&
                          !caller_stop;
    if (end_turn) text.erase(text.find_last_not_of(kSpace) + 1);
    return text;
  }

  // The text the model reads: a prompt verbatim (Titan's inputText), a conversation in the
  // model's chat format ending where the answer starts; then tokens, with BOS as Generate adds it.
  Result<std::vector<int>> PromptIds(const TestCase& c) {
    std::string text = c.prompt;
    if (!c.messages.empty()) {
      auto rendered = text::RenderChat(model_->chat_template(), c.messages, /*add_generation_prompt=*/true);
      if (!rendered.ok()) return rendered.status();
      text = std::move(*rendered);
    }
    std::vector<int> ids;
    if (AddsBos()) ids.push_back(static_cast<int>(model_->config().bos_token_id));
    std::vector<int> enc;
    LATHE_RETURN_IF_ERROR(model_->tokenizer().Encode(text, &enc));
    ids.insert(ids.end(), enc.begin(), enc.end());
    if (ids.empty()) return Status::InvalidArgument("the prompt has no tokens");
    return ids;
  }

  // Whether the engine prepends BOS to a text prompt: the model's tokenizer_config.json decides
  // (add_bos_token), which LanguageModel does not expose. One generation of no tokens tells.
  bool AddsBos() {
    std::call_once(bos_once_, [this] {
      const int64_t bos = model_->config().bos_token_id;
      std::vector<int> enc;
      if (bos < 0 || !model_->tokenizer().Encode("a", &enc).ok()) return;
      engine::GenerationOptions o;
      o.max_tokens = 0;
      auto r = model_->Generate({"a"}, o);
      adds_bos_ = r.ok() && !r->empty() && (*r)[0].prompt_tokens == static_cast<int>(enc.size()) + 1;
    });
    return adds_bos_;
  }

  static constexpr uint64_t kMaxLossLogitBytes = 256ull << 20;
  std::shared_ptr<engine::LanguageModel> model_;
  std::vector<std::unique_ptr<engine::LanguageModel>> instances_;  // [0] unused: model_ is the first
  WorkerPool pool_;  // after the instances: its threads stop before the instances they use go
  std::once_flag bos_once_;
  bool adds_bos_ = false;
};

}  // namespace

size_t EvalWorkers() {
  if (const char* env = std::getenv("LATHE_EVAL_WORKERS"))
    return static_cast<size_t>(std::clamp(std::atol(env), 1L, static_cast<long>(kMaxEvalWorkers)));
  const long cores = std::max(1L, static_cast<long>(std::thread::hardware_concurrency()));
  return static_cast<size_t>(std::min(cores, static_cast<long>(kDefaultEvalWorkers)));
}

int EvalThreadsPerWorker() {
  const long cores = std::max(1L, static_cast<long>(std::thread::hardware_concurrency()));
  return static_cast<int>(std::max(1L, cores / static_cast<long>(EvalWorkers())));
}

std::shared_ptr<Generator> EngineGenerator(std::shared_ptr<engine::LanguageModel> model) {
  return std::make_shared<EngineModelGenerator>(std::move(model));
}

Result<std::shared_ptr<Generator>> LoadEngineGenerator(const std::string& model_dir) {
  auto model = engine::LanguageModel::Load(model_dir);
  if (!model.ok()) return model.status();
  return EngineGenerator(std::shared_ptr<engine::LanguageModel>(std::move(*model)));
}

}  // namespace lathe::eval
