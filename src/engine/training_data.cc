#include "engine/training_data.h"

#include <algorithm>
#include <numeric>

namespace lathe::engine {
namespace {

Status Append(const text::Tokenizer& tok, std::string_view text, bool target, TrainingSequence* s) {
  std::vector<int> ids;
  LATHE_RETURN_IF_ERROR(tok.Encode(text, &ids));
  s->ids.insert(s->ids.end(), ids.begin(), ids.end());
  s->target.insert(s->target.end(), ids.size(), target ? 1 : 0);
  return Status::Ok();
}

}  // namespace

Result<TrainingSequence> BuildSequence(const data::Example& e, const text::Tokenizer& tok,
                                       const SequenceOptions& o, SequenceStats* stats) {
  if (e.format == data::Format::kPretraining)
    return Status::InvalidArgument("pre-training records are packed with PackPretraining");
  TrainingSequence s;
  if (o.bos_id >= 0) {
    s.ids.push_back(o.bos_id);
    s.target.push_back(0);
  }
  if (e.format == data::Format::kPromptCompletion) {
    LATHE_RETURN_IF_ERROR(Append(tok, e.Prompt(), false, &s));
    LATHE_RETURN_IF_ERROR(Append(tok, e.Completion(), true, &s));
  } else {
    std::vector<text::ChatMessage> msgs;
    if (!e.system.empty()) msgs.push_back({"system", e.system});
    for (const auto& t : e.turns) msgs.push_back({data::RoleName(t.role), t.text});
    auto segments = text::RenderChatSegments(o.chat_template, msgs);
    if (!segments.ok()) return segments.status();
    for (const auto& seg : *segments) LATHE_RETURN_IF_ERROR(Append(tok, seg.text, seg.assistant, &s));
  }
  if (o.eos_id >= 0) {
    s.ids.push_back(o.eos_id);
    s.target.push_back(1);
  }
  stats->records++;
  if (static_cast<int64_t>(s.ids.size()) > o.max_length) {
    stats->truncated++;
    s.ids.resize(static_cast<size_t>(o.max_length));
    s.target.resize(static_cast<size_t>(o.max_length));
  }
  stats->sequences++;
  stats->tokens += s.ids.size();
  stats->target_tokens += static_cast<uint64_t>(std::count(s.target.begin(), s.target.end(), 1));
  return s;
}

Result<std::vector<TrainingSequence>> PackPretraining(const std::vector<data::Example>& records,
                                                      const text::Tokenizer& tok, const SequenceOptions& o,
                                                      SequenceStats* stats) {
  std::vector<TrainingSequence> out;
  TrainingSequence cur;
  auto start = [&] {
    cur = TrainingSequence{};
    if (o.bos_id >= 0) {
      cur.ids.push_back(o.bos_id);
      cur.target.push_back(0);
    }
  };
  auto flush = [&] {
    stats->sequences++;
    stats->tokens += cur.ids.size();
    stats->target_tokens += static_cast<uint64_t>(std::count(cur.target.begin(), cur.target.end(), 1));
    out.push_back(std::move(cur));
    start();
  };
  start();
  for (size_t r = 0; r < records.size(); ++r) {
    std::vector<int> ids;
    LATHE_RETURN_IF_ERROR(tok.Encode(records[r].input, &ids));
    if (o.eos_id >= 0) ids.push_back(o.eos_id);
    stats->records++;
    for (int id : ids) {
      if (static_cast<int64_t>(cur.ids.size()) >= o.max_length) flush();
      if (cur.ids.size() <= (o.bos_id >= 0 ? 1u : 0u)) cur.source_line = r + 1;
      cur.ids.push_back(id);
      cur.target.push_back(1);
    }
  }
  if (cur.ids.size() > (o.bos_id >= 0 ? 1u : 0u)) flush();
  return out;
}

std::vector<std::vector<size_t>> MakeLengthBucketedBatches(const std::vector<TrainingSequence>& seqs,
                                                            size_t batch_size, Rng* rng) {
  std::vector<size_t> order(seqs.size());
  std::iota(order.begin(), order.end(), 0);
  rng->Shuffle(&order);
  const size_t window = batch_size * 50;
  for (size_t i = 0; i < order.size(); i += window) {
    auto end = order.begin() + static_cast<long>(std::min(order.size(), i + window));
    std::stable_sort(order.begin() + static_cast<long>(i), end,
                     [&](size_t a, size_t b) { return seqs[a].ids.size() < seqs[b].ids.size(); });
  }
  std::vector<std::vector<size_t>> batches;
  for (size_t i = 0; i < order.size(); i += batch_size)
    batches.emplace_back(order.begin() + static_cast<long>(i),
                         order.begin() + static_cast<long>(std::min(order.size(), i + batch_size)));
  rng->Shuffle(&batches);
  return batches;
}

}  // namespace lathe::engine
