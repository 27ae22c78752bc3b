// JSONPath filter expressions, `[?(@.price < 10 && @.kind == 'book')]`, as Jayway evaluates
// them: `@` the element being tested, `$` the root, literals ('text', "text", numbers, true,
// false, null), the comparisons == != < <= > >=, a bare path as an existence test, `!`, `&&`,
// `||` and parentheses. Recursion (parentheses, `!`, filters inside filter paths) is bounded by
// kMaxExpressionDepth at parse time, so evaluation is bounded too.
#include <string>

#include "asl/json_path_internal.h"
#include "core/utf8.h"

namespace lathe::asl {

using nlohmann::json;

namespace {

using Arena = std::vector<std::unique_ptr<json>>;

Status FilterError(std::string_view text, size_t pos, const std::string& what) {
  std::string shown = SanitizeUtf8(text.substr(0, 200));
  if (text.size() > 200) shown += "...";
  return Status::InvalidArgument("Invalid JSONPath '" + shown + "': " + what + " in a filter at position " +
                                 std::to_string(pos));
}

void SkipSpaces(std::string_view text, size_t* pos) {
  while (*pos < text.size() && (text[*pos] == ' ' || text[*pos] == '\t' || text[*pos] == '\n' || text[*pos] == '\r'))
    ++*pos;
}

bool StartsWith(std::string_view text, size_t pos, std::string_view word) {
  return text.substr(pos, word.size()) == word;
}

Status ParseOperand(std::string_view text, size_t* pos, size_t depth, FilterOperand* operand) {
  SkipSpaces(text, pos);
  if (*pos >= text.size()) return FilterError(text, *pos, "expected a value");
  char c = text[*pos];
  if (c == '@' || c == '$') {
    operand->kind = c == '@' ? FilterOperand::Kind::kCurrent : FilterOperand::Kind::kRoot;
    ++*pos;
    LATHE_RETURN_IF_ERROR(ParseSteps(text, pos, /*in_filter=*/true, depth, &operand->steps));
    operand->definite = true;
    for (size_t i = 0; i < operand->steps.size(); ++i)
      if (!operand->steps[i].definite(i + 1 == operand->steps.size())) operand->definite = false;
    return Status::Ok();
  }
  operand->kind = FilterOperand::Kind::kLiteral;
  if (c == '\'' || c == '"') {
    std::string value;
    size_t start = *pos;
    ++*pos;
    for (;;) {
      if (*pos >= text.size()) return FilterError(text, start, "unterminated string");
      char s = text[*pos];
      if (s == '\\' && *pos + 1 < text.size()) {
        value.push_back(text[*pos + 1]);
        *pos += 2;
        continue;
      }
      ++*pos;
      if (s == c) break;
      value.push_back(s);
    }
    operand->literal = std::move(value);
    return Status::Ok();
  }
  for (auto [word, value] : {std::pair<std::string_view, json>{"true", true}, {"false", false}, {"null", nullptr}}) {
    if (StartsWith(text, *pos, word)) {
      *pos += word.size();
      operand->literal = value;
      return Status::Ok();
    }
  }
  size_t start = *pos;
  while (*pos < text.size() && *pos - start < 32 &&
         ((text[*pos] >= '0' && text[*pos] <= '9') || text[*pos] == '-' || text[*pos] == '+' || text[*pos] == '.' ||
          text[*pos] == 'e' || text[*pos] == 'E'))
    ++*pos;
  json number = json::parse(text.substr(start, *pos - start), nullptr, /*allow_exceptions=*/false);
  if (*pos == start || !number.is_number()) return FilterError(text, start, "expected a path, a string, a number, true, false or null");
  operand->literal = std::move(number);
  return Status::Ok();
}

Status ParseOr(std::string_view text, size_t* pos, size_t depth, FilterExpr* out);

Status ParseUnary(std::string_view text, size_t* pos, size_t depth, FilterExpr* out) {
  SkipSpaces(text, pos);
  if (*pos < text.size() && (text[*pos] == '!' || text[*pos] == '(') && !StartsWith(text, *pos, "!=")) {
    if (depth + 1 > kMaxExpressionDepth) return FilterError(text, *pos, "expression nests too deeply");
    if (text[*pos] == '!') {
      ++*pos;
      out->kind = FilterExpr::Kind::kNot;
      out->children.emplace_back();
      return ParseUnary(text, pos, depth + 1, &out->children.back());
    }
    ++*pos;
    LATHE_RETURN_IF_ERROR(ParseOr(text, pos, depth + 1, out));
    SkipSpaces(text, pos);
    if (*pos >= text.size() || text[*pos] != ')') return FilterError(text, *pos, "expected ')'");
    ++*pos;
    return Status::Ok();
  }
  LATHE_RETURN_IF_ERROR(ParseOperand(text, pos, depth, &out->left));
  SkipSpaces(text, pos);
  for (std::string_view op : {"==", "!=", "<=", ">=", "<", ">"}) {
    if (StartsWith(text, *pos, op)) {
      *pos += op.size();
      out->kind = FilterExpr::Kind::kCompare;
      out->op = std::string(op);
      return ParseOperand(text, pos, depth, &out->right);
    }
  }
  if (out->left.kind == FilterOperand::Kind::kLiteral)
    return FilterError(text, *pos, "expected a comparison operator");
  out->kind = FilterExpr::Kind::kExists;
  return Status::Ok();
}

// `join` ("&&" or "||") separated operands of the next tighter level.
template <typename ParseNext>
Status ParseJoined(std::string_view text, size_t* pos, size_t depth, std::string_view join, FilterExpr::Kind kind,
                   ParseNext parse_next, FilterExpr* out) {
  FilterExpr first;
  LATHE_RETURN_IF_ERROR(parse_next(text, pos, depth, &first));
  SkipSpaces(text, pos);
  if (!StartsWith(text, *pos, join)) {
    *out = std::move(first);
    return Status::Ok();
  }
  out->kind = kind;
  out->children.push_back(std::move(first));
  while (StartsWith(text, *pos, join)) {
    *pos += join.size();
    out->children.emplace_back();
    LATHE_RETURN_IF_ERROR(parse_next(text, pos, depth, &out->children.back()));
    SkipSpaces(text, pos);
  }
  return Status::Ok();
}

Status ParseAnd(std::string_view text, size_t* pos, size_t depth, FilterExpr* out) {
  return ParseJoined(text, pos, depth, "&&", FilterExpr::Kind::kAnd, ParseUnary, out);
}

Status ParseOr(std::string_view text, size_t* pos, size_t depth, FilterExpr* out) {
  return ParseJoined(text, pos, depth, "||", FilterExpr::Kind::kOr, ParseAnd, out);
}

// An operand's value: the literal, the one node a definite path names, or an array of what an
// indefinite path selects; nullopt when a definite path names nothing (Jayway's UNDEFINED).
std::optional<json> OperandValue(const FilterOperand& operand, const json& node, const json& root, Arena* arena,
                                 SelectBudget* budget) {
  if (operand.kind == FilterOperand::Kind::kLiteral) return operand.literal;
  std::vector<const json*> matches;
  SelectNodes(operand.steps, operand.kind == FilterOperand::Kind::kCurrent ? node : root, root, arena, budget,
              &matches);
  if (operand.definite) {
    if (matches.empty()) return std::nullopt;
    return *matches.front();
  }
  json out = json::array();
  for (const json* m : matches) out.push_back(*m);
  return out;
}

bool Equal(const std::optional<json>& a, const std::optional<json>& b) {
  if (!a || !b) return false;
  if (a->is_number() && b->is_number()) return *a == *b;  // numerically, across int and float
  if (a->type() != b->type()) return false;
  return *a == *b;
}

// Ordering holds between two numbers or two strings only.
bool Ordered(const std::optional<json>& a, const std::optional<json>& b, const std::string& op) {
  if (!a || !b) return false;
  bool comparable = (a->is_number() && b->is_number()) || (a->is_string() && b->is_string());
  if (!comparable) return false;
  if (op == "<") return *a < *b;
  if (op == "<=") return *a <= *b;
  if (op == ">") return *a > *b;
  return *a >= *b;
}

}  // namespace

Result<std::shared_ptr<const FilterExpr>> ParseFilter(std::string_view text, size_t* pos, size_t depth) {
  auto expr = std::make_shared<FilterExpr>();
  LATHE_RETURN_IF_ERROR(ParseOr(text, pos, depth, expr.get()));
  SkipSpaces(text, pos);
  return std::shared_ptr<const FilterExpr>(std::move(expr));
}

bool FilterHolds(const FilterExpr& expr, const json& node, const json& root, Arena* arena, SelectBudget* budget) {
  if (!budget->Spend()) return false;
  switch (expr.kind) {
    case FilterExpr::Kind::kOr:
      for (const FilterExpr& child : expr.children)
        if (FilterHolds(child, node, root, arena, budget)) return true;
      return false;
    case FilterExpr::Kind::kAnd:
      for (const FilterExpr& child : expr.children)
        if (!FilterHolds(child, node, root, arena, budget)) return false;
      return true;
    case FilterExpr::Kind::kNot:
      return !FilterHolds(expr.children.front(), node, root, arena, budget);
    case FilterExpr::Kind::kExists: {
      std::optional<json> value = OperandValue(expr.left, node, root, arena, budget);
      if (!value) return false;
      return expr.left.definite || !value->empty();
    }
    case FilterExpr::Kind::kCompare: {
      std::optional<json> left = OperandValue(expr.left, node, root, arena, budget);
      std::optional<json> right = OperandValue(expr.right, node, root, arena, budget);
      if (expr.op == "==") return Equal(left, right);
      if (expr.op == "!=") return !Equal(left, right);
      return Ordered(left, right, expr.op);
    }
  }
  return false;
}

}  // namespace lathe::asl
