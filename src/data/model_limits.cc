#include "data/model_limits.h"

namespace lathe::data {

const std::vector<ModelLimits>& KnownModelLimits() {
  static const std::vector<ModelLimits> kLimits = {
      {"amazon.titan-text-express-v1", 4096, 10000, 1000},
      {"amazon.titan-text-lite-v1", 4096, 10000, 1000},
      {"anthropic.claude-3-haiku-20240307-v1:0", 32000, 10000, 1000},
      {"cohere.command-light-text-v14", 4096, 10000, 1000},
      {"meta.llama2-13b-v1", 4096, 10000, 1000},
  };
  return kLimits;
}

const ModelLimits* FindModelLimits(std::string_view id) {
  for (const ModelLimits& m : KnownModelLimits())
    if (m.id == id) return &m;
  return nullptr;
}

}  // namespace lathe::data
