#include "cli/invoke_generator.h"

#include <chrono>

#include <nlohmann/json.hpp>

namespace lathe::cli {
namespace {

using nlohmann::json;

class InvokeGenerator final : public eval::Generator {
 public:
  InvokeGenerator(const ClientOptions& options, std::string model_id)
      : client_(options), model_id_(std::move(model_id)) {}

  Result<std::vector<eval::Answer>> Generate(const std::vector<const eval::TestCase*>& cases,
                                             const eval::GenerationSettings& settings) override {
    std::vector<eval::Answer> answers;
    for (const eval::TestCase* c : cases) answers.push_back(Ask(*c, settings));
    return answers;
  }

 private:
  // Titan has no seed: the server samples with its own fixed one, so a served run repeats too.
  static json Body(const eval::TestCase& c, const eval::GenerationSettings& s) {
    if (c.messages.empty())
      return {{"inputText", c.prompt},
              {"textGenerationConfig",
               {{"maxTokenCount", s.max_tokens}, {"temperature", s.temperature}, {"topP", s.top_p},
                {"stopSequences", s.stop_sequences}}}};
    // The test set's validation (text::CheckConversation) allows one system message, first.
    std::string system;
    json messages = json::array();
    for (const auto& m : c.messages) {
      if (m.role == "system") system = m.content;
      else messages.push_back({{"role", m.role}, {"content", m.content}});
    }
    json body = {{"anthropic_version", "bedrock-2023-05-31"}, {"max_tokens", s.max_tokens},
                 {"messages", messages}, {"temperature", s.temperature}, {"top_p", s.top_p}};
    if (!system.empty()) body["system"] = system;
    if (!s.stop_sequences.empty()) body["stop_sequences"] = s.stop_sequences;
    return body;
  }

  eval::Answer Ask(const eval::TestCase& c, const eval::GenerationSettings& s) {
    eval::Answer a;
    const auto t0 = std::chrono::steady_clock::now();
    Result<json> r = client_.Post("/model/" + Encode(model_id_) + "/invoke", Body(c, s));
    a.latency_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    if (!r.ok()) {
      a.error = r.status().message();
      a.stop_reason = "error";
      return a;
    }
    try {
      if (c.messages.empty()) {
        const json& one = r->at("results").at(0);
        a.text = one.value("outputText", "");
        a.output_tokens = one.value("tokenCount", 0);
        const std::string reason = one.value("completionReason", "");
        a.stop_reason = reason == "FINISH" ? "end_token" : reason == "STOP_CRITERIA_MET" ? "stop_sequence" : "length";
      } else {
        for (const auto& block : r->at("content"))
          if (block.value("type", "") == "text") a.text += block.value("text", "");
        a.output_tokens = r->at("usage").value("output_tokens", 0);
        const std::string reason = r->value("stop_reason", "");
        a.stop_reason = reason == "end_turn" ? "end_token" : reason == "max_tokens" ? "length" : "stop_sequence";
      }
      a.ok = true;
    } catch (const json::exception&) {
      a.error = "the server's answer is not an InvokeModel response: " + r->dump(-1, ' ', false, json::error_handler_t::replace).substr(0, 200);
      a.stop_reason = "error";
    }
    return a;
  }

  BedrockClient client_;
  std::string model_id_;
};

}  // namespace

std::shared_ptr<eval::Generator> InvokeModelGenerator(const ClientOptions& client, const std::string& model_id) {
  return std::make_shared<InvokeGenerator>(client, model_id);
}

}  // namespace lathe::cli
