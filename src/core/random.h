// Reproducible randomness: the same seed gives the same numbers on every machine and compiler.
// lathe never uses std::shuffle or std::uniform_int_distribution, whose results are
// implementation-defined. Generator: xoshiro256** seeded through splitmix64 (Blackman & Vigna).
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace lathe {

class Rng {
 public:
  explicit Rng(uint64_t seed);
  // The full state, to save and restore a generator exactly (training checkpoints).
  std::vector<uint64_t> State() const { return {s_[0], s_[1], s_[2], s_[3]}; }
  void SetState(const std::vector<uint64_t>& s) {
    for (size_t i = 0; i < 4 && i < s.size(); ++i) s_[i] = s[i];
  }
  uint64_t Next();
  double Uniform();                  // [0, 1), 53 random bits
  uint64_t Below(uint64_t bound);    // [0, bound), unbiased (Lemire's method with rejection)

  // Fisher-Yates, drawing with Below().
  template <typename T>
  void Shuffle(std::vector<T>* v) {
    for (size_t i = v->size(); i > 1; --i) std::swap((*v)[i - 1], (*v)[Below(i)]);
  }

 private:
  uint64_t s_[4];
};

}  // namespace lathe
