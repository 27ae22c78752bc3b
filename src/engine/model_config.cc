#include "engine/model_config.h"

#include <nlohmann/json.hpp>

#include "core/env.h"

namespace lathe::engine {

using nlohmann::json;

int64_t ModelConfig::ParameterCount() const {
  int64_t q = hidden_size * num_heads * head_dim, kv = 2 * hidden_size * num_kv_heads * head_dim;
  int64_t o = num_heads * head_dim * hidden_size, mlp = 3 * hidden_size * intermediate_size;
  int64_t bias = attention_bias ? (num_heads + 2 * num_kv_heads) * head_dim : 0;
  int64_t layer = q + kv + o + mlp + bias + 2 * hidden_size;
  int64_t embed = vocab_size * hidden_size * (tie_word_embeddings ? 1 : 2);
  return num_layers * layer + embed + hidden_size;
}

Status ModelConfig::Validate() const {
  auto within = [](int64_t v, int64_t max, const char* name) {
    if (v <= 0) return Status::InvalidArgument(std::string(name) + " must be positive, got " + std::to_string(v));
    if (v > max)
      return Status::Unsupported(std::string(name) + " " + std::to_string(v) + " is more than lathe accepts (" +
                                 std::to_string(max) + ")");
    return Status::Ok();
  };
  LATHE_RETURN_IF_ERROR(within(vocab_size, kMaxConfigVocabulary, "vocab_size"));
  LATHE_RETURN_IF_ERROR(within(hidden_size, kMaxConfigWidth, "hidden_size"));
  LATHE_RETURN_IF_ERROR(within(intermediate_size, kMaxConfigIntermediate, "intermediate_size"));
  LATHE_RETURN_IF_ERROR(within(num_layers, kMaxConfigLayers, "num_hidden_layers"));
  LATHE_RETURN_IF_ERROR(within(num_heads, kMaxConfigHeads, "num_attention_heads"));
  LATHE_RETURN_IF_ERROR(within(num_kv_heads, kMaxConfigHeads, "num_key_value_heads"));
  LATHE_RETURN_IF_ERROR(within(head_dim, kMaxConfigHeadDim, "head_dim"));
  LATHE_RETURN_IF_ERROR(within(max_position_embeddings, kMaxConfigPositions, "max_position_embeddings"));
  if (num_heads % num_kv_heads != 0)
    return Status::InvalidArgument("num_attention_heads (" + std::to_string(num_heads) +
                                   ") is not a multiple of num_key_value_heads (" +
                                   std::to_string(num_kv_heads) + ")");
  if (head_dim % 2 != 0)
    return Status::InvalidArgument("head_dim " + std::to_string(head_dim) +
                                   " must be even for rotary embeddings");
  if (!rope_scaling.type.empty() && rope_scaling.type != "llama3")
    return Status::Unsupported("rope_scaling type \"" + rope_scaling.type +
                               "\" (lathe supports none and \"llama3\")");
  return Status::Ok();
}

Result<ModelConfig> ParseModelConfig(const json& j, const std::string& file) {
  if (!j.is_object()) return Status::InvalidArgument(file + ": not a JSON object");
  ModelConfig c;
  auto fail = [&](const std::string& key, const std::string& why) {
    return Status::InvalidArgument(file + ": \"" + key + "\" " + why);
  };
  if (auto it = j.find("architectures"); it != j.end()) {
    if (!it->is_array() || it->empty() || !(*it)[0].is_string())
      return fail("architectures", "must be a list of names");
    c.architecture = (*it)[0].get<std::string>();
  }
  if (c.architecture != "LlamaForCausalLM" && c.architecture != "MistralForCausalLM" &&
      c.architecture != "Qwen2ForCausalLM")
    return Status::Unsupported(file + ": architecture " + c.architecture +
                               " (lathe runs LlamaForCausalLM, MistralForCausalLM and "
                               "Qwen2ForCausalLM)");
  // Reads an integer key; missing keys keep their default only when `required` is false.
  auto get_int = [&](const char* key, int64_t* out, bool required) -> Status {
    auto it = j.find(key);
    if (it == j.end() || it->is_null())
      return required ? fail(key, "is missing") : Status::Ok();
    if (!it->is_number_integer()) return fail(key, "must be an integer, got " + it->dump());
    *out = it->get<int64_t>();
    return Status::Ok();
  };
  auto get_double = [&](const char* key, double* out) -> Status {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return Status::Ok();
    if (!it->is_number()) return fail(key, "must be a number, got " + it->dump());
    *out = it->get<double>();
    return Status::Ok();
  };
  LATHE_RETURN_IF_ERROR(get_int("vocab_size", &c.vocab_size, true));
  LATHE_RETURN_IF_ERROR(get_int("hidden_size", &c.hidden_size, true));
  LATHE_RETURN_IF_ERROR(get_int("intermediate_size", &c.intermediate_size, true));
  LATHE_RETURN_IF_ERROR(get_int("num_hidden_layers", &c.num_layers, true));
  LATHE_RETURN_IF_ERROR(get_int("num_attention_heads", &c.num_heads, true));
  c.num_kv_heads = c.num_heads;
  LATHE_RETURN_IF_ERROR(get_int("num_key_value_heads", &c.num_kv_heads, false));
  c.head_dim = c.num_heads > 0 ? c.hidden_size / c.num_heads : 0;
  LATHE_RETURN_IF_ERROR(get_int("head_dim", &c.head_dim, false));
  LATHE_RETURN_IF_ERROR(get_int("max_position_embeddings", &c.max_position_embeddings, false));
  LATHE_RETURN_IF_ERROR(get_double("rms_norm_eps", &c.rms_norm_eps));
  LATHE_RETURN_IF_ERROR(get_double("rope_theta", &c.rope_theta));
  LATHE_RETURN_IF_ERROR(get_int("bos_token_id", &c.bos_token_id, false));
  if (auto it = j.find("eos_token_id"); it != j.end() && !it->is_null()) {
    if (it->is_number_integer()) c.eos_token_ids = {it->get<int64_t>()};
    else if (it->is_array())
      for (const auto& e : *it) {
        if (!e.is_number_integer()) return fail("eos_token_id", "must hold integers");
        c.eos_token_ids.push_back(e.get<int64_t>());
      }
    else return fail("eos_token_id", "must be an integer or a list of integers");
  }
  if (auto it = j.find("tie_word_embeddings"); it != j.end() && it->is_boolean())
    c.tie_word_embeddings = it->get<bool>();
  if (auto it = j.find("attention_bias"); it != j.end() && it->is_boolean())
    c.attention_bias = it->get<bool>();
  if (c.architecture == "Qwen2ForCausalLM") c.attention_bias = true;
  if (auto it = j.find("torch_dtype"); it != j.end() && it->is_string())
    c.torch_dtype = it->get<std::string>();
  if (auto it = j.find("rope_scaling"); it != j.end() && !it->is_null()) {
    if (!it->is_object()) return fail("rope_scaling", "must be an object");
    const json& r = *it;
    for (const char* key : {"rope_type", "type"})
      if (r.contains(key) && !r[key].is_string()) return fail(std::string("rope_scaling.") + key, "must be a string");
    for (const char* key : {"factor", "low_freq_factor", "high_freq_factor", "original_max_position_embeddings"})
      if (r.contains(key) && !r[key].is_number()) return fail(std::string("rope_scaling.") + key, "must be a number");
    std::string type = r.value("rope_type", r.value("type", std::string()));
    c.rope_scaling.type = type == "default" ? "" : type;
    c.rope_scaling.factor = r.value("factor", 1.0);
    c.rope_scaling.low_freq_factor = r.value("low_freq_factor", 1.0);
    c.rope_scaling.high_freq_factor = r.value("high_freq_factor", 4.0);
    c.rope_scaling.original_max_position_embeddings =
        r.value("original_max_position_embeddings", int64_t{8192});
  }
  if (Status s = c.Validate(); !s.ok()) return Status::InvalidArgument(file + ": " + s.message());
  return c;
}

Result<ModelConfig> LoadModelConfig(const std::string& path) {
  std::string text;
  LATHE_RETURN_IF_ERROR(ReadFileToString(Env::Default(), path, &text));
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded()) return Status::InvalidArgument(path + ": invalid JSON");
  return ParseModelConfig(j, path);
}

json ModelConfigToJson(const ModelConfig& c) {
  json j = {{"architectures", {c.architecture}},
            {"model_type", c.architecture == "Qwen2ForCausalLM"     ? "qwen2"
                           : c.architecture == "MistralForCausalLM" ? "mistral"
                                                                    : "llama"},
            {"vocab_size", c.vocab_size},
            {"hidden_size", c.hidden_size},
            {"intermediate_size", c.intermediate_size},
            {"num_hidden_layers", c.num_layers},
            {"num_attention_heads", c.num_heads},
            {"num_key_value_heads", c.num_kv_heads},
            {"head_dim", c.head_dim},
            {"max_position_embeddings", c.max_position_embeddings},
            {"rms_norm_eps", c.rms_norm_eps},
            {"rope_theta", c.rope_theta},
            {"tie_word_embeddings", c.tie_word_embeddings},
            {"attention_bias", c.attention_bias},
            {"hidden_act", "silu"},
            {"torch_dtype", c.torch_dtype}};
  if (c.bos_token_id >= 0) j["bos_token_id"] = c.bos_token_id;
  if (c.eos_token_ids.size() == 1) j["eos_token_id"] = c.eos_token_ids[0];
  else if (!c.eos_token_ids.empty()) j["eos_token_id"] = c.eos_token_ids;
  if (!c.rope_scaling.type.empty())
    j["rope_scaling"] = {{"rope_type", c.rope_scaling.type},
                         {"factor", c.rope_scaling.factor},
                         {"low_freq_factor", c.rope_scaling.low_freq_factor},
                         {"high_freq_factor", c.rope_scaling.high_freq_factor},
                         {"original_max_position_embeddings",
                          c.rope_scaling.original_max_position_embeddings}};
  return j;
}

std::vector<std::pair<std::string, std::vector<int64_t>>> ExpectedTensors(const ModelConfig& c) {
  const int64_t h = c.hidden_size, q = c.num_heads * c.head_dim, kv = c.num_kv_heads * c.head_dim,
                ff = c.intermediate_size;
  std::vector<std::pair<std::string, std::vector<int64_t>>> out;
  out.push_back({"model.embed_tokens.weight", {c.vocab_size, h}});
  for (int64_t l = 0; l < c.num_layers; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    out.push_back({p + "input_layernorm.weight", {h}});
    out.push_back({p + "self_attn.q_proj.weight", {q, h}});
    out.push_back({p + "self_attn.k_proj.weight", {kv, h}});
    out.push_back({p + "self_attn.v_proj.weight", {kv, h}});
    if (c.attention_bias) {
      out.push_back({p + "self_attn.q_proj.bias", {q}});
      out.push_back({p + "self_attn.k_proj.bias", {kv}});
      out.push_back({p + "self_attn.v_proj.bias", {kv}});
    }
    out.push_back({p + "self_attn.o_proj.weight", {h, q}});
    out.push_back({p + "post_attention_layernorm.weight", {h}});
    out.push_back({p + "mlp.gate_proj.weight", {ff, h}});
    out.push_back({p + "mlp.up_proj.weight", {ff, h}});
    out.push_back({p + "mlp.down_proj.weight", {h, ff}});
  }
  out.push_back({"model.norm.weight", {h}});
  if (!c.tie_word_embeddings) out.push_back({"lm_head.weight", {c.vocab_size, h}});
  return out;
}

}  // namespace lathe::engine
