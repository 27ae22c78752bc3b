#include "service/runtime_stream.h"

#include <exception>

namespace lathe::service {
namespace {

int64_t MillisSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
}

// The streaming form of the chat kinds' AnswerText (runtime_formats.cc): a chat format puts
// whitespace before the answer and before its end-of-turn marker, which a message's content does
// not have. Leading whitespace is dropped (not after a prefill: its continuation keeps it);
// trailing whitespace is held until more text follows it, and at the end dropped when the turn
// ended (end_turn), sent otherwise.
class AnswerTrimmer {
 public:
  AnswerTrimmer(bool trim_front, bool trim_back) : at_front_(trim_front), trim_back_(trim_back) {}
  std::string Push(std::string_view piece) {
    if (at_front_) {
      const size_t first = piece.find_first_not_of(kSpace);
      if (first == std::string_view::npos) return {};
      piece.remove_prefix(first);
      at_front_ = false;
    }
    if (!trim_back_) return std::string(piece);
    held_.append(piece.data(), piece.size());
    const size_t last = held_.find_last_not_of(kSpace);
    if (last == std::string::npos) return {};
    std::string out = held_.substr(0, last + 1);
    held_.erase(0, last + 1);
    return out;
  }
  std::string Finish(bool turn_ended) {
    std::string rest;
    if (!turn_ended) rest.swap(held_);
    held_.clear();
    return rest;
  }

 private:
  static constexpr const char* kSpace = " \t\r\n";
  bool at_front_;
  bool trim_back_;
  std::string held_;
};

}  // namespace

RuntimeStream::RuntimeStream(RuntimeRequest request, std::shared_ptr<ModelPool> pool, ModelPool::Lease lease,
                             std::vector<int> prompt, engine::GenerationOptions options, Headers headers,
                             Recorder record, std::chrono::steady_clock::time_point start)
    : request_(std::move(request)),
      pool_(std::move(pool)),
      lease_(std::move(lease)),
      prompt_(std::move(prompt)),
      options_(std::move(options)),
      headers_(std::move(headers)),
      record_(std::move(record)),
      start_(start) {}

int64_t RuntimeStream::elapsed_ms() const { return MillisSince(start_); }

Result<StreamEnd> RuntimeStream::Run(const TextSink& sink) {
  if (!lease_) return Status::Internal("a runtime stream runs once");
  const bool chat = request_.kind != BodyKind::kTitanText;
  const bool prefill = !request_.messages.empty() && request_.messages.back().role == "assistant";
  AnswerTrimmer trimmer(chat && !prefill, chat);
  StreamEnd end;
  bool client_gone = false;
  auto deliver = [&](std::string_view piece) {
    if (piece.empty() || client_gone) return !client_gone;
    if (end.first_text_ms < 0) end.first_text_ms = elapsed_ms();
    end.text.append(piece.data(), piece.size());
    client_gone = !sink(piece);
    return !client_gone;
  };
  const auto compute_start = std::chrono::steady_clock::now();
  Result<engine::GenerationResult> result = lease_->Generate(
      prompt_, options_, [&](size_t, std::string_view piece) { return deliver(trimmer.Push(piece)); });
  const int64_t compute_ms = MillisSince(compute_start);
  lease_.reset();  // the slot is free for the next request while the wire finishes
  if (result.ok() && client_gone) result->reason = engine::StopReason::kCancelled;
  end.latency_ms = elapsed_ms();
  if (record_) record_(result, compute_ms, end.latency_ms);
  if (!result.ok()) return result.status();
  if (chat) deliver(trimmer.Finish(std::string(ChatStopReason(request_, *result)) == "end_turn"));
  end.result = std::move(*result);
  end.latency_ms = elapsed_ms();
  return end;
}

StreamPump::StreamPump(std::unique_ptr<RuntimeStream> stream) : stream_(std::move(stream)) {
  thread_ = std::thread([this] {
    Result<StreamEnd> end = Status::Internal("the stream did not run");
    try {
      end = stream_->Run([this](std::string_view piece) {
        std::lock_guard<std::mutex> lock(mu_);
        if (cancelled_) return false;
        pending_.emplace_back(piece);
        changed_.notify_all();
        return true;
      });
    } catch (const std::exception& e) {  // torch reports failures (out of memory) by throwing
      end = Status::Internal(std::string("generation failed: ") + e.what());
    }
    std::lock_guard<std::mutex> lock(mu_);
    end_.emplace(std::move(end));
    changed_.notify_all();
  });
}

StreamPump::~StreamPump() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    cancelled_ = true;
  }
  thread_.join();
}

std::optional<std::string> StreamPump::Next() {
  std::unique_lock<std::mutex> lock(mu_);
  changed_.wait(lock, [this] { return !pending_.empty() || end_.has_value(); });
  if (pending_.empty()) return std::nullopt;
  std::string piece = std::move(pending_.front());
  pending_.pop_front();
  return piece;
}

}  // namespace lathe::service
