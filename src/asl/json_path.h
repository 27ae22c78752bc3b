// JSONPath as Step Functions accepts it (the Jayway dialect): `$`, `.name`, `['name']`, `[n]`,
// `[*]`, `..name`, `[a,b]` unions, `[start:end]` slices and `[?(@.x <op> value)]` filters;
// `$$` paths address the context object. Parsing and selection are iterative or depth-bounded
// (kMaxExpressionDepth), never a backtracking regex, and bounded by kMaxPathLength.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "asl/errors.h"
#include "core/status.h"

namespace lathe::asl {

class JsonPath {
 public:
  // InvalidArgument naming the character where the text stops being a path (the definition
  // validator turns it into SCHEMA_VALIDATION_FAILED / INVALID_JSON_PATH at the field's location).
  static Result<JsonPath> Parse(std::string_view text);

  JsonPath();  // "$"
  const std::string& text() const { return text_; }
  // "$$..." : addresses the context object rather than the input.
  bool is_context() const { return context_; }
  // Names at most one node: only `.name`, `['name']` and `[n]` steps (ResultPath, a Choice's
  // Variable, ItemsPath ... require one).
  bool is_reference() const;
  // Whether selection yields a list of matches rather than one node (wildcards, unions,
  // slices, filters, recursive descent): Jayway then answers an array, possibly empty.
  bool is_definite() const;

  // The node(s) at this path in `root` (for a context path, pass the context object). A definite
  // path that names nothing fails with States.Runtime, cause "Invalid path '<path>' : No results
  // for path: $['a']['b']" (AWS's text); an indefinite one answers [].
  Result<nlohmann::json> Select(const nlohmann::json& root) const;
  // Whether a definite path names a node in `root` (Choice's IsPresent).
  bool Exists(const nlohmann::json& root) const;

  struct Step;  // defined in json_path.cc

 private:
  std::string text_;
  bool context_ = false;
  std::shared_ptr<const std::vector<Step>> steps_;
};

// ResultPath: `input` with `value` placed at `reference` (a reference path; "$" replaces the
// whole input), creating objects along the way. A step through a non-object (or an index out of
// range) fails with States.ResultPathMatchFailure and AWS's cause text.
Result<nlohmann::json> PutAt(const JsonPath& reference, nlohmann::json input, nlohmann::json value);

}  // namespace lathe::asl
