#include "engine/training_outputs.h"

#include <cmath>
#include <cstdio>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "core/env.h"
#include "engine/safetensors.h"

namespace lathe::engine {

namespace {

std::string PeftModule(const std::string& target) {
  return (target == "gate_proj" || target == "up_proj" || target == "down_proj" ? "mlp." : "self_attn.") + target;
}

}  // namespace

Status WriteAdapter(const std::string& out, const ModelConfig& c, const LoraAdapters& lora, const std::string& base) {
  std::vector<at::Tensor> keep;
  std::vector<TensorToWrite> tensors;
  for (size_t l = 0; l < lora.layers.size(); ++l)
    for (const auto& [target, pair] : lora.layers[l]) {
      const std::string prefix = "base_model.model.model.layers." + std::to_string(l) + "." + PeftModule(target);
      for (auto [suffix, t] : {std::pair<const char*, at::Tensor>{".lora_A.weight", pair.a}, {".lora_B.weight", pair.b}}) {
        keep.push_back(t.detach().to(at::kFloat).contiguous());
        tensors.push_back({prefix + suffix, DType::kF32, keep.back().sizes().vec(),
                           std::string_view(static_cast<const char*>(keep.back().data_ptr()), keep.back().nbytes())});
      }
    }
  auto bytes = SerializeSafetensors(tensors, {{"format", "pt"}});
  if (!bytes.ok()) return bytes.status();
  Env* env = Env::Default();
  LATHE_RETURN_IF_ERROR(WriteFileAtomically(env, out + "/adapter_model.safetensors", *bytes));
  nlohmann::json config = {{"peft_type", "LORA"},
                           {"task_type", "CAUSAL_LM"},
                           {"base_model_name_or_path", base},
                           {"r", lora.rank},
                           {"lora_alpha", lora.alpha},
                           {"lora_dropout", lora.dropout},
                           {"target_modules", lora.targets},
                           {"bias", "none"},
                           {"fan_in_fan_out", false},
                           {"inference_mode", true},
                           {"modules_to_save", nullptr}};
  return WriteFileAtomically(env, out + "/adapter_config.json", config.dump(2) + "\n");
}

LlamaWeights Merged(const LlamaWeights& w, const LoraAdapters& lora) {
  at::NoGradGuard no_grad;
  LlamaWeights m = w;
  for (size_t l = 0; l < lora.layers.size(); ++l)
    for (const auto& [target, pair] : lora.layers[l]) {
      LayerWeights& lw = m.layers[l];
      at::Tensor* base = target == "q_proj" ? &lw.wq : target == "k_proj" ? &lw.wk : target == "v_proj" ? &lw.wv
                       : target == "o_proj" ? &lw.wo : target == "gate_proj" ? &lw.w_gate
                       : target == "up_proj" ? &lw.w_up : &lw.w_down;
      *base = *base + at::matmul(pair.b, pair.a) * lora.scale();
    }
  return m;
}

Status WriteCsv(const std::string& path, const std::string& header, const std::vector<std::string>& rows) {
  std::string text = header + "\n";
  for (const auto& r : rows) text += r + "\n";
  LATHE_RETURN_IF_ERROR(Env::Default()->CreateDirs(std::filesystem::path(path).parent_path().string()));
  return WriteFileAtomically(Env::Default(), path, text);
}

std::string Row(int64_t step, int64_t epoch, double loss) {
  char buf[96];
  std::snprintf(buf, sizeof buf, "%lld,%lld,%.6f,%.6f", static_cast<long long>(step), static_cast<long long>(epoch),
                loss, std::exp(loss));
  return buf;
}

}  // namespace lathe::engine
