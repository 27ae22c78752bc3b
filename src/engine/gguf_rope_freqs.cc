#include "engine/gguf_rope_freqs.h"

#include <algorithm>
#include <cmath>

namespace lathe::engine {
namespace {

// Frequency i of the rotary embedding and its wavelength, in double as InverseFrequencies has them.
double Frequency(const ModelConfig& c, int64_t i) {
  return 1.0 / std::pow(c.rope_theta, 2.0 * static_cast<double>(i) / static_cast<double>(c.head_dim));
}

}  // namespace

std::vector<float> Llama3RopeFreqs(const ModelConfig& c) {
  std::vector<float> out(static_cast<size_t>(c.head_dim / 2), 1.0f);
  if (c.rope_scaling.type != "llama3") return out;
  const RopeScaling& s = c.rope_scaling;
  const double old_len = static_cast<double>(s.original_max_position_embeddings);
  const double low_wavelen = old_len / s.low_freq_factor, high_wavelen = old_len / s.high_freq_factor;
  for (size_t i = 0; i < out.size(); ++i) {
    const double wavelen = 2 * M_PI / Frequency(c, static_cast<int64_t>(i));
    if (wavelen < high_wavelen) continue;
    if (wavelen > low_wavelen) {
      out[i] = static_cast<float>(s.factor);
    } else {
      const double smooth = (old_len / wavelen - s.low_freq_factor) / (s.high_freq_factor - s.low_freq_factor);
      out[i] = static_cast<float>(1.0 / ((1 - smooth) / s.factor + smooth));
    }
  }
  return out;
}

Status RopeScalingFromFreqs(const std::vector<float>& freqs, const std::string& file, ModelConfig* c) {
  if (static_cast<int64_t>(freqs.size()) != c->head_dim / 2)
    return Status::InvalidArgument(file + ": rope_freqs.weight holds " + std::to_string(freqs.size()) +
                                   " values, not one per rotary frequency (" + std::to_string(c->head_dim / 2) + ")");
  for (float f : freqs)
    if (!std::isfinite(f) || f <= 0)
      return Status::InvalidArgument(file + ": rope_freqs.weight holds a value that is not finite and positive");
  const double factor = freqs.back();
  c->rope_scaling = RopeScaling{};
  if (std::all_of(freqs.begin(), freqs.end(), [](float f) { return std::fabs(f - 1.0f) < 1e-6f; })) return Status::Ok();
  RopeScaling s;
  s.type = "llama3";
  s.factor = factor;
  s.low_freq_factor = 1.0;
  s.high_freq_factor = 4.0;
  // Each divisor strictly between 1 and the factor tells the original context:
  // 1 / f = (1 - smooth) / factor + smooth, smooth = (old / wavelen - low) / (high - low).
  std::vector<double> olds;
  for (size_t i = 0; i < freqs.size(); ++i) {
    const double f = freqs[i];
    if (factor <= 1 || f <= 1 + 1e-4 || f >= factor * (1 - 1e-4)) continue;
    const double smooth = (1 / f - 1 / factor) / (1 - 1 / factor);
    const double wavelen = 2 * M_PI / Frequency(*c, static_cast<int64_t>(i));
    olds.push_back(wavelen * (smooth * (s.high_freq_factor - s.low_freq_factor) + s.low_freq_factor));
  }
  if (!olds.empty()) {
    std::nth_element(olds.begin(), olds.begin() + static_cast<std::ptrdiff_t>(olds.size() / 2), olds.end());
    const double old_len = std::round(olds[olds.size() / 2]);
    if (old_len >= 1 && old_len <= 1e9) s.original_max_position_embeddings = static_cast<int64_t>(old_len);
  }
  ModelConfig trial = *c;
  trial.rope_scaling = s;
  const std::vector<float> back = Llama3RopeFreqs(trial);
  for (size_t i = 0; i < freqs.size(); ++i)
    if (std::fabs(back[i] - freqs[i]) > 1e-3 * freqs[i])
      return Status::Unsupported(file + ": rope_freqs.weight is not Llama 3's rope scaling (frequency " +
                                 std::to_string(i) + ": " + std::to_string(freqs[i]) + ", Llama 3's would be " +
                                 std::to_string(back[i]) + "); lathe imports that scaling only");
  c->rope_scaling = s;
  return Status::Ok();
}

}  // namespace lathe::engine
