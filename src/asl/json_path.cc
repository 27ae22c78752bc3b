// JSONPath parsing and selection as Jayway (the library Step Functions runs) does them. The
// parser walks the text once, left to right; only filters recurse, at most kMaxExpressionDepth
// deep. Selection keeps pointers into the input and copies only what it answers.
#include <deque>
#include <string>

#include "asl/json_path_internal.h"
#include "core/utf8.h"

namespace lathe::asl {

using nlohmann::json;

namespace {

Status PathError(std::string_view text, size_t pos, const std::string& what) {
  // Cut at 200 bytes and made valid UTF-8: the message may travel in JSON (a diagnostic, a cause).
  std::string shown = SanitizeUtf8(text.substr(0, 200));
  if (text.size() > 200) shown += "...";
  return Status::InvalidArgument("Invalid JSONPath '" + shown + "': " + what + " at position " +
                                 std::to_string(pos));
}

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

void SkipSpaces(std::string_view text, size_t* pos) {
  while (*pos < text.size() && IsSpace(text[*pos])) ++*pos;
}

// A quoted name inside brackets: '...' or "..." with backslash escapes of the quote and the
// backslash (Jayway's). *pos is at the opening quote.
Status ParseQuoted(std::string_view text, size_t* pos, std::string* out) {
  char quote = text[*pos];
  size_t start = *pos;
  ++*pos;
  while (*pos < text.size()) {
    char c = text[*pos];
    if (c == '\\' && *pos + 1 < text.size()) {
      out->push_back(text[*pos + 1]);
      *pos += 2;
      continue;
    }
    if (c == quote) {
      ++*pos;
      return Status::Ok();
    }
    out->push_back(c);
    ++*pos;
  }
  return PathError(text, start, "unterminated quoted name");
}

// An optionally signed integer of at most 10 digits (array indexes and slice bounds).
bool ParseInteger(std::string_view text, size_t* pos, int64_t* out) {
  size_t p = *pos;
  bool negative = false;
  if (p < text.size() && text[p] == '-') {
    negative = true;
    ++p;
  }
  size_t digits_start = p;
  int64_t value = 0;
  while (p < text.size() && text[p] >= '0' && text[p] <= '9') {
    if (p - digits_start >= 10) return false;
    value = value * 10 + (text[p] - '0');
    ++p;
  }
  if (p == digits_start) return false;
  *out = negative ? -value : value;
  *pos = p;
  return true;
}

// What follows '[' : names, indexes, a slice, '*' or a filter. *pos is just after '['.
Status ParseBracket(std::string_view text, size_t* pos, size_t depth, JsonPath::Step* step) {
  using Kind = JsonPath::Step::Kind;
  SkipSpaces(text, pos);
  if (*pos >= text.size()) return PathError(text, *pos, "unterminated '['");
  char c = text[*pos];
  if (c == '*') {
    step->kind = Kind::kWildcard;
    ++*pos;
  } else if (c == '\'' || c == '"') {
    step->kind = Kind::kName;
    for (;;) {
      if (*pos >= text.size() || (text[*pos] != '\'' && text[*pos] != '"'))
        return PathError(text, *pos, "expected a quoted name");
      std::string name;
      LATHE_RETURN_IF_ERROR(ParseQuoted(text, pos, &name));
      step->names.push_back(std::move(name));
      SkipSpaces(text, pos);
      if (*pos < text.size() && text[*pos] == ',') {
        ++*pos;
        SkipSpaces(text, pos);
        continue;
      }
      break;
    }
  } else if (c == '?') {
    ++*pos;
    SkipSpaces(text, pos);
    if (*pos >= text.size() || text[*pos] != '(') return PathError(text, *pos, "expected '(' after '?'");
    ++*pos;
    if (depth + 1 > kMaxExpressionDepth) return PathError(text, *pos, "filters nest too deeply");
    Result<std::shared_ptr<const FilterExpr>> filter = ParseFilter(text, pos, depth + 1);
    if (!filter.ok()) return filter.status();
    if (*pos >= text.size() || text[*pos] != ')') return PathError(text, *pos, "expected ')' closing the filter");
    ++*pos;
    step->kind = Kind::kFilter;
    step->filter = std::move(filter).value();
  } else if (c == ':' || c == '-' || (c >= '0' && c <= '9')) {
    int64_t first = 0;
    bool has_first = c != ':' && ParseInteger(text, pos, &first);
    if (c != ':' && !has_first) return PathError(text, *pos, "expected an index");
    SkipSpaces(text, pos);
    if (*pos < text.size() && text[*pos] == ':') {
      step->kind = Kind::kSlice;
      if (has_first) step->slice_start = first;
      ++*pos;
      SkipSpaces(text, pos);
      int64_t end = 0;
      if (*pos < text.size() && text[*pos] != ']') {
        if (!ParseInteger(text, pos, &end)) return PathError(text, *pos, "expected the slice's end");
        step->slice_end = end;
      }
    } else {
      step->kind = Kind::kIndex;
      step->indexes.push_back(first);
      while (*pos < text.size() && text[*pos] == ',') {
        ++*pos;
        SkipSpaces(text, pos);
        int64_t next = 0;
        if (!ParseInteger(text, pos, &next)) return PathError(text, *pos, "expected an index");
        step->indexes.push_back(next);
        SkipSpaces(text, pos);
      }
    }
  } else {
    return PathError(text, *pos, std::string("unexpected '") + c + "' after '['");
  }
  SkipSpaces(text, pos);
  if (*pos >= text.size() || text[*pos] != ']') return PathError(text, *pos, "expected ']'");
  ++*pos;
  return Status::Ok();
}

// Characters that end a dot-notation name inside a filter (`@.price<10`).
bool EndsFilterName(char c) {
  return IsSpace(c) || c == '=' || c == '!' || c == '<' || c == '>' || c == '&' || c == '|' || c == ')';
}

}  // namespace

Status ParseSteps(std::string_view text, size_t* pos, bool in_filter, size_t depth, Steps* steps) {
  using Kind = JsonPath::Step::Kind;
  while (*pos < text.size()) {
    char c = text[*pos];
    if (in_filter && c != '.' && c != '[') return Status::Ok();
    JsonPath::Step step;
    if (c == '[') {
      ++*pos;
      LATHE_RETURN_IF_ERROR(ParseBracket(text, pos, depth, &step));
      steps->push_back(std::move(step));
      continue;
    }
    if (c != '.') return PathError(text, *pos, std::string("unexpected '") + c + "'");
    ++*pos;
    if (*pos < text.size() && text[*pos] == '.') {
      step.recursive = true;
      ++*pos;
      if (*pos < text.size() && text[*pos] == '[') {
        ++*pos;
        LATHE_RETURN_IF_ERROR(ParseBracket(text, pos, depth, &step));
        steps->push_back(std::move(step));
        continue;
      }
    }
    if (*pos < text.size() && text[*pos] == '*') {
      ++*pos;
      step.kind = Kind::kWildcard;
      steps->push_back(std::move(step));
      continue;
    }
    // A dot-notation name; a backslash takes the next character as it is ($.store\.book names
    // "store.book"), as the States Language spec's reference path examples write them.
    size_t start = *pos;
    std::string name;
    while (*pos < text.size()) {
      char n = text[*pos];
      if (n == '\\' && *pos + 1 < text.size()) {
        name.push_back(text[*pos + 1]);
        *pos += 2;
        continue;
      }
      if (n == '.' || n == '[') break;
      if (in_filter && EndsFilterName(n)) break;
      if (IsSpace(n)) return PathError(text, *pos, "a name with blanks needs bracket notation ['my name']");
      if (n == '(') return PathError(text, *pos, "functions are not supported");
      if (n == ']' || n == ')') return PathError(text, *pos, std::string("unexpected '") + n + "'");
      name.push_back(n);
      ++*pos;
    }
    if (*pos == start) return PathError(text, start, "expected a name");
    step.kind = Kind::kName;
    step.names.push_back(std::move(name));
    steps->push_back(std::move(step));
  }
  return Status::Ok();
}

namespace {

using Arena = std::vector<std::unique_ptr<json>>;

// Appends node and every node below it (pre-order, as Jayway's scan walks) to *out.
void Descendants(const json& node, SelectBudget* budget, std::vector<const json*>* out) {
  std::vector<const json*> stack{&node};
  while (!stack.empty()) {
    if (!budget->Spend()) return;
    const json* n = stack.back();
    stack.pop_back();
    out->push_back(n);
    if (n->is_object() || n->is_array()) {
      // Pushed in reverse so that the first child is visited first.
      std::vector<const json*> children;
      for (const auto& child : *n)
        if (child.is_object() || child.is_array()) children.push_back(&child);
      for (auto it = children.rbegin(); it != children.rend(); ++it) stack.push_back(*it);
    }
  }
}

int64_t EffectiveIndex(int64_t index, size_t size) {
  return index < 0 ? static_cast<int64_t>(size) + index : index;
}

// One step applied to one node (not recursive).
void ApplyStep(const JsonPath::Step& step, bool is_last, const json& node, const json& root, Arena* arena,
               SelectBudget* budget, std::vector<const json*>* out) {
  using Kind = JsonPath::Step::Kind;
  switch (step.kind) {
    case Kind::kName: {
      if (!node.is_object()) return;
      if (step.names.size() > 1 && is_last && !step.recursive) {
        // Jayway answers a leaf union of names as one object holding those that exist.
        auto merged = std::make_unique<json>(json::object());
        for (const std::string& name : step.names) {
          auto it = node.find(name);
          if (it != node.end()) (*merged)[name] = *it;
        }
        out->push_back(merged.get());
        arena->push_back(std::move(merged));
        return;
      }
      for (const std::string& name : step.names) {
        auto it = node.find(name);
        if (it != node.end()) out->push_back(&*it);
      }
      return;
    }
    case Kind::kIndex: {
      if (!node.is_array()) return;
      for (int64_t index : step.indexes) {
        int64_t i = EffectiveIndex(index, node.size());
        if (i >= 0 && i < static_cast<int64_t>(node.size())) out->push_back(&node[static_cast<size_t>(i)]);
      }
      return;
    }
    case Kind::kWildcard:
      if (node.is_object() || node.is_array())
        for (const auto& child : node) out->push_back(&child);
      return;
    case Kind::kSlice: {
      if (!node.is_array()) return;
      int64_t size = static_cast<int64_t>(node.size());
      int64_t begin = step.slice_start ? EffectiveIndex(*step.slice_start, node.size()) : 0;
      int64_t end = step.slice_end ? EffectiveIndex(*step.slice_end, node.size()) : size;
      begin = std::max<int64_t>(0, std::min(begin, size));
      end = std::max<int64_t>(0, std::min(end, size));
      for (int64_t i = begin; i < end; ++i) out->push_back(&node[static_cast<size_t>(i)]);
      return;
    }
    case Kind::kFilter:
      // An array's elements are filtered; an object is tested itself (Jayway's predicate token).
      if (node.is_array()) {
        for (const auto& element : node)
          if (budget->Spend() && FilterHolds(*step.filter, element, root, arena, budget)) out->push_back(&element);
      } else if (node.is_object()) {
        if (FilterHolds(*step.filter, node, root, arena, budget)) out->push_back(&node);
      }
      return;
  }
}

std::string NormalizedPath(const Steps& steps, size_t count) {
  std::string out = "$";
  for (size_t i = 0; i < count && i < steps.size(); ++i) {
    const JsonPath::Step& step = steps[i];
    if (step.kind == JsonPath::Step::Kind::kName) {
      out += "[";
      for (size_t n = 0; n < step.names.size(); ++n) out += (n ? ",'" : "'") + step.names[n] + "'";
      out += "]";
    } else if (step.kind == JsonPath::Step::Kind::kIndex) {
      out += "[" + std::to_string(step.indexes.front()) + "]";
    }
  }
  return out;
}

}  // namespace

void SelectNodes(const Steps& steps, const json& node, const json& root, Arena* arena, SelectBudget* budget,
                 std::vector<const json*>* out) {
  std::vector<const json*> current{&node}, next, scanned;
  for (size_t s = 0; s < steps.size(); ++s) {
    const JsonPath::Step& step = steps[s];
    bool is_last = s + 1 == steps.size();
    next.clear();
    for (const json* n : current) {
      if (step.recursive) {
        scanned.clear();
        Descendants(*n, budget, &scanned);
        for (const json* d : scanned) ApplyStep(step, is_last, *d, root, arena, budget, &next);
      } else {
        ApplyStep(step, is_last, *n, root, arena, budget, &next);
      }
      if (!budget->Spend(1) || budget->exhausted) return;
    }
    if (!budget->Spend(next.size())) return;
    current.swap(next);
    if (current.empty()) return;
  }
  out->insert(out->end(), current.begin(), current.end());
}

JsonPath::JsonPath() : text_("$"), steps_(std::make_shared<const std::vector<Step>>()) {}

Result<JsonPath> JsonPath::Parse(std::string_view text) {
  if (text.size() > kMaxPathLength)
    return Status::InvalidArgument("Invalid JSONPath: longer than " + std::to_string(kMaxPathLength) + " characters");
  if (text.empty() || text[0] != '$') return PathError(text, 0, "a path must start with '$'");
  JsonPath path;
  path.text_ = std::string(text);
  size_t pos = 1;
  if (text.size() > 1 && text[1] == '$') {
    path.context_ = true;
    pos = 2;
  }
  auto steps = std::make_shared<std::vector<Step>>();
  LATHE_RETURN_IF_ERROR(ParseSteps(text, &pos, /*in_filter=*/false, 0, steps.get()));
  path.steps_ = std::move(steps);
  return path;
}

bool JsonPath::is_definite() const {
  for (size_t i = 0; i < steps_->size(); ++i)
    if (!(*steps_)[i].definite(i + 1 == steps_->size())) return false;
  return true;
}

bool JsonPath::is_reference() const {
  for (const Step& step : *steps_) {
    if (step.recursive) return false;
    if (step.kind == Step::Kind::kName && step.names.size() == 1) continue;
    if (step.kind == Step::Kind::kIndex && step.indexes.size() == 1 && step.indexes[0] >= 0) continue;
    return false;
  }
  return true;
}

namespace {

// A definite path's node, or null. `lenient_leaf_index`: an out-of-range index as the last step
// answers JSON null, as Step Functions does (Jayway over Jackson, whose get(i) is null there).
const json* SelectDefinite(const Steps& steps, const json& root, bool lenient_leaf_index, Arena* arena) {
  static const json kNull;
  const json* node = &root;
  for (size_t s = 0; s < steps.size(); ++s) {
    const JsonPath::Step& step = steps[s];
    bool is_last = s + 1 == steps.size();
    if (step.kind == JsonPath::Step::Kind::kName) {
      if (!node->is_object()) return nullptr;
      if (step.names.size() > 1) {  // a leaf union (definite only as the last step)
        std::vector<const json*> merged;
        SelectBudget budget;
        ApplyStep(step, true, *node, root, arena, &budget, &merged);
        return merged.empty() ? nullptr : merged.front();
      }
      auto it = node->find(step.names.front());
      if (it == node->end()) return nullptr;
      node = &*it;
    } else {
      if (!node->is_array()) return nullptr;
      int64_t i = EffectiveIndex(step.indexes.front(), node->size());
      if (i < 0 || i >= static_cast<int64_t>(node->size())) return is_last && lenient_leaf_index ? &kNull : nullptr;
      node = &(*node)[static_cast<size_t>(i)];
    }
  }
  return node;
}

}  // namespace

Result<json> JsonPath::Select(const json& root) const {
  Arena arena;
  if (is_definite()) {
    const json* node = SelectDefinite(*steps_, root, /*lenient_leaf_index=*/true, &arena);
    if (node == nullptr)
      return Fail(kStatesRuntime,
                  "Invalid path '" + text_ + "' : No results for path: " + NormalizedPath(*steps_, steps_->size()));
    return *node;
  }
  SelectBudget budget;
  std::vector<const json*> matches;
  SelectNodes(*steps_, root, root, &arena, &budget, &matches);
  // Copying the matches costs their sizes together (`$..*` copies nested nodes again at each
  // level): that is charged to the same budget.
  json out = json::array();
  for (const json* m : matches) {
    if (!budget.exhausted && (m->is_object() || m->is_array())) {
      std::vector<const json*> inner;
      Descendants(*m, &budget, &inner);
    }
    if (budget.exhausted) break;
    out.push_back(*m);
  }
  if (budget.exhausted)
    return Fail(kStatesRuntime, "Invalid path '" + text_ + "' : the selection visits too many nodes");
  return out;
}

bool JsonPath::Exists(const json& root) const {
  Arena arena;
  if (is_definite()) return SelectDefinite(*steps_, root, /*lenient_leaf_index=*/false, &arena) != nullptr;
  SelectBudget budget;
  std::vector<const json*> matches;
  SelectNodes(*steps_, root, root, &arena, &budget, &matches);
  return !matches.empty();
}

Result<json> PutAt(const JsonPath& reference, json input, json value) {
  // The header keeps a path's steps private; a reference path is short, so reading it again
  // here costs little.
  Steps steps;
  std::string_view text = reference.text();
  size_t pos = reference.is_context() ? 2 : 1;
  if (!ParseSteps(text, &pos, false, 0, &steps).ok()) steps.clear();
  auto failure = [&]() {
    return Fail(kStatesResultPathMatchFailure,
                "Unable to apply ReferencePath " + reference.text() + " to input " +
                    input.dump(-1, ' ', false, json::error_handler_t::replace));
  };
  if (!reference.is_reference()) return failure();
  if (steps.empty()) return value;
  // A dry walk first, so that a failure reports the input untouched: names that are missing
  // are created as objects; an index must name an existing element.
  const json* node = &input;
  for (const JsonPath::Step& step : steps) {
    if (node == nullptr) {
      if (step.kind != JsonPath::Step::Kind::kName) return failure();
      continue;
    }
    if (step.kind == JsonPath::Step::Kind::kName) {
      if (!node->is_object()) return failure();
      auto it = node->find(step.names.front());
      node = it == node->end() ? nullptr : &*it;
    } else {
      if (!node->is_array() || step.indexes.front() >= static_cast<int64_t>(node->size())) return failure();
      node = &(*node)[static_cast<size_t>(step.indexes.front())];
    }
  }
  json* target = &input;
  for (const JsonPath::Step& step : steps) {
    if (step.kind == JsonPath::Step::Kind::kName) {
      if (target->is_null()) *target = json::object();
      target = &(*target)[step.names.front()];
    } else {
      target = &(*target)[static_cast<size_t>(step.indexes.front())];
    }
  }
  *target = std::move(value);
  return input;
}

}  // namespace lathe::asl
