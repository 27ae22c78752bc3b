// Feeds arbitrary text to the Amazon States Language expressions a definition carries: JSONPath
// (parse, select, exists, ResultPath placement), intrinsic calls and payload templates, each
// evaluated against a small fixed input and context. Nothing may crash, hang or allocate without
// bound; from valid UTF-8 text every result must be JSON that can be written out (nlohmann's
// dump throws on invalid UTF-8), and a path accepted must be within the length bound.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "asl/intrinsics.h"
#include "asl/json_path.h"
#include "asl/payload.h"
#include "core/json_nesting.h"
#include "core/utf8.h"

namespace {

using nlohmann::json;

const json& Input() {
  static const json input = json::parse(R"({"a": {"b": [1, 2.5, "x", null, true, {"c": "d"}]}, "s": "1,2;3",
      "n": 7, "o": {"k": "v", "list": [[1], [2, 3]]}, "e": [], "t": "a {} b", "u": "aGk="})");
  return input;
}

const json& Context() {
  static const json context = json::parse(R"({"Execution": {"Id": "arn:x", "Input": "{\"q\":1}"},
      "State": {"Name": "S"}, "Map": {"Item": {"Index": 0, "Value": {"z": 1}}}})");
  return context;
}

// Writing a result out must not throw when the expression was valid UTF-8.
void CheckWritable(const json& value, bool text_valid) {
  if (!text_valid) return;
  try {
    (void)value.dump();
  } catch (const json::exception&) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  bool valid = lathe::FindInvalidUtf8(text) == std::string_view::npos;
  using namespace lathe::asl;
  switch (data[0] % 3) {
    case 0: {
      lathe::Result<JsonPath> path = JsonPath::Parse(text);
      if (!path.ok()) return 0;
      if (text.size() > kMaxPathLength) std::abort();
      const json& root = path->is_context() ? Context() : Input();
      lathe::Result<json> selected = path->Select(root);
      if (selected.ok()) CheckWritable(*selected, valid);
      if (path->is_definite() && path->Exists(root) && !selected.ok()) std::abort();
      if (path->is_reference()) {
        lathe::Result<json> placed = PutAt(*path, Input(), json("R"));
        if (placed.ok()) CheckWritable(*placed, valid);
      }
      break;
    }
    case 1: {
      lathe::Result<Intrinsic> f = Intrinsic::Parse(text);
      if (!f.ok()) return 0;
      lathe::Result<json> value = f->Evaluate(Input(), Context());
      if (value.ok()) CheckWritable(*value, valid);
      break;
    }
    default: {
      if (!lathe::JsonNestingWithin(text, lathe::kMaxRequestJsonDepth)) return 0;
      json tmpl = json::parse(text, nullptr, /*allow_exceptions=*/false);
      if (tmpl.is_discarded()) return 0;
      lathe::Result<PayloadTemplate> t = PayloadTemplate::Parse(tmpl, "/States/F/Parameters");
      if (!t.ok()) return 0;
      lathe::Result<json> value = t->Apply(Input(), Context());
      if (value.ok()) CheckWritable(*value, true);
      break;
    }
  }
  return 0;
}
