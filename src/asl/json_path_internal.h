// The parsed form of a JsonPath, shared by json_path.cc (parsing, selection) and
// json_path_filter.cc (the `[?(...)]` filter expressions). Not part of the layer's interface.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "asl/json_path.h"

namespace lathe::asl {

struct FilterExpr;

struct JsonPath::Step {
  enum class Kind {
    kName,      // .name or ['name'] (names.size() == 1) or ['a','b'] (a union)
    kIndex,     // [n] or [n,m,...] (indexes.size() > 1: a union)
    kWildcard,  // .* or [*]
    kSlice,     // [start:end]
    kFilter,    // [?(...)]
  };
  Kind kind = Kind::kName;
  bool recursive = false;  // `..`: applied to the node and every node below it
  std::vector<std::string> names;
  std::vector<int64_t> indexes;
  std::optional<int64_t> slice_start, slice_end;
  std::shared_ptr<const FilterExpr> filter;

  // Whether the step names at most one node (Jayway's "definite" tokens; a leaf union of names
  // is definite too, as Jayway merges it into one object).
  bool definite(bool is_last) const {
    if (recursive) return false;
    if (kind == Kind::kName) return names.size() == 1 || is_last;
    return kind == Kind::kIndex && indexes.size() == 1;
  }
};

using Steps = std::vector<JsonPath::Step>;

// One side of a filter comparison: `@...` (the node being filtered), `$...` (the root), or a
// literal.
struct FilterOperand {
  enum class Kind { kCurrent, kRoot, kLiteral };
  Kind kind = Kind::kLiteral;
  Steps steps;
  bool definite = true;
  nlohmann::json literal;
};

struct FilterExpr {
  enum class Kind { kOr, kAnd, kNot, kCompare, kExists };
  Kind kind = Kind::kExists;
  std::vector<FilterExpr> children;  // kOr, kAnd (two or more), kNot (one)
  FilterOperand left, right;         // kCompare: both; kExists: left
  std::string op;                    // "==", "!=", "<", "<=", ">", ">="
};

// Parses steps from text[*pos] on, as far as they go: the whole text at the top level; in a
// filter (`in_filter`), up to the first character that cannot continue a path (an operator,
// a space, a parenthesis). `depth` counts enclosing filters. Advances *pos.
Status ParseSteps(std::string_view text, size_t* pos, bool in_filter, size_t depth, Steps* steps);

// Parses the filter expression of `[?(` ... `)]`, text[*pos] being the first character after
// "[?(" ; stops before the closing ")".
Result<std::shared_ptr<const FilterExpr>> ParseFilter(std::string_view text, size_t* pos, size_t depth);

// The work one selection may do (nodes visited, matches kept), so a hostile path over a large
// input (`$..*..*..*`) stops with an error rather than running away.
struct SelectBudget {
  size_t visits_left = 2'000'000;
  bool exhausted = false;
  bool Spend(size_t n = 1) {
    if (visits_left < n) {
      exhausted = true;
      visits_left = 0;
      return false;
    }
    visits_left -= n;
    return true;
  }
};

// The nodes `steps` select from `node` (`root` for `$` inside filters), appended to *out. Missing
// names and out-of-range indexes select nothing. `arena` owns nodes made during selection (a leaf
// union's merged object). Filters recurse at most kMaxExpressionDepth deep (checked at parse).
void SelectNodes(const Steps& steps, const nlohmann::json& node, const nlohmann::json& root,
                 std::vector<std::unique_ptr<nlohmann::json>>* arena, SelectBudget* budget,
                 std::vector<const nlohmann::json*>* out);

// Whether a filter holds for `node`.
bool FilterHolds(const FilterExpr& expr, const nlohmann::json& node, const nlohmann::json& root,
                 std::vector<std::unique_ptr<nlohmann::json>>* arena, SelectBudget* budget);

}  // namespace lathe::asl
