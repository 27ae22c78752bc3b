// Intrinsic calls: parsing `States.Name(arg, ...)` once, evaluating it per state. The parser is
// recursive only across nested calls, at most kMaxIntrinsicNesting deep, over a text of at most
// kMaxPathLength characters.
#include <string>

#include "asl/intrinsics_internal.h"
#include "core/utf8.h"

namespace lathe::asl {

using nlohmann::json;

namespace {

bool IsNameChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_';
}

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  Status ParseCall(size_t depth, Intrinsic::Node* out) {
    if (depth > kMaxIntrinsicNesting)
      return Error("intrinsic functions nest more than " + std::to_string(kMaxIntrinsicNesting) + " deep");
    size_t start = pos_;
    while (pos_ < text_.size() && IsNameChar(text_[pos_])) ++pos_;
    std::string name(text_.substr(start, pos_ - start));
    if (pos_ >= text_.size() || text_[pos_] != '(') return Error("expected '(' after the function name '" + name + "'");
    const IntrinsicSignature* signature = FindIntrinsic(name);
    if (signature == nullptr) return Error("unknown intrinsic function '" + name + "'");
    ++pos_;
    out->kind = Intrinsic::Node::Kind::kCall;
    out->name = name;
    SkipSpaces();
    if (pos_ < text_.size() && text_[pos_] == ')') {
      ++pos_;
    } else {
      for (;;) {
        out->args.emplace_back();
        LATHE_RETURN_IF_ERROR(ParseArgument(depth, &out->args.back()));
        SkipSpaces();
        if (pos_ >= text_.size()) return Error("missing ')' closing " + name);
        if (text_[pos_] == ',') {
          ++pos_;
          SkipSpaces();
          continue;
        }
        if (text_[pos_] == ')') {
          ++pos_;
          break;
        }
        return Error(std::string("unexpected '") + text_[pos_] + "' in the arguments of " + name);
      }
    }
    if (out->args.size() < signature->min_args || out->args.size() > signature->max_args) {
      std::string expected = signature->min_args == signature->max_args
                                 ? std::to_string(signature->min_args)
                                 : signature->max_args == SIZE_MAX ? "at least " + std::to_string(signature->min_args)
                                                                   : std::to_string(signature->min_args) + " to " +
                                                                         std::to_string(signature->max_args);
      return Error(name + " takes " + expected + " argument(s), not " + std::to_string(out->args.size()));
    }
    return CheckFormat(*out);
  }

  bool AtEnd() {
    SkipSpaces();
    return pos_ == text_.size();
  }
  size_t pos() const { return pos_; }

  Status Error(const std::string& what) const {
    std::string shown = SanitizeUtf8(text_.substr(0, 200));
    if (text_.size() > 200) shown += "...";
    return Status::InvalidArgument("Invalid intrinsic function '" + shown + "': " + what + " (at position " +
                                   std::to_string(pos_) + ")");
  }

 private:
  void SkipSpaces() {
    while (pos_ < text_.size() && IsSpace(text_[pos_])) ++pos_;
  }

  Status ParseArgument(size_t depth, Intrinsic::Node* out) {
    if (pos_ >= text_.size()) return Error("expected an argument");
    char c = text_[pos_];
    if (c == '\'') return ParseString(out);
    if (c == '$') return ParsePath(out);
    if (c == '-' || (c >= '0' && c <= '9')) return ParseNumber(out);
    for (auto [word, value] : {std::pair<std::string_view, json>{"true", true}, {"false", false}, {"null", nullptr}}) {
      if (text_.substr(pos_, word.size()) == word &&
          (pos_ + word.size() == text_.size() || !IsNameChar(text_[pos_ + word.size()]))) {
        pos_ += word.size();
        out->literal = value;
        return Status::Ok();
      }
    }
    if (IsNameChar(c)) return ParseCall(depth + 1, out);
    return Error(std::string("unexpected '") + c + "'");
  }

  // '...' with \' \{ \} \\ escapes; any other backslash is an error, as AWS's spec says.
  Status ParseString(Intrinsic::Node* out) {
    size_t start = ++pos_;
    std::string value;
    while (pos_ < text_.size() && text_[pos_] != '\'') {
      if (text_[pos_] == '\\') {
        if (pos_ + 1 >= text_.size()) break;
        char e = text_[pos_ + 1];
        if (e != '\'' && e != '{' && e != '}' && e != '\\') return Error(std::string("invalid escape '\\") + e + "'");
        value.push_back(e);
        pos_ += 2;
        continue;
      }
      value.push_back(text_[pos_++]);
    }
    if (pos_ >= text_.size()) return Error("unterminated string");
    out->raw = std::string(text_.substr(start, pos_ - start));
    ++pos_;
    out->literal = std::move(value);
    out->string_literal = true;
    return Status::Ok();
  }

  Status ParseNumber(Intrinsic::Node* out) {
    size_t start = pos_;
    while (pos_ < text_.size() && pos_ - start < 32 &&
           ((text_[pos_] >= '0' && text_[pos_] <= '9') || text_[pos_] == '-' || text_[pos_] == '+' ||
            text_[pos_] == '.' || text_[pos_] == 'e' || text_[pos_] == 'E'))
      ++pos_;
    json number = json::parse(text_.substr(start, pos_ - start), nullptr, /*allow_exceptions=*/false);
    if (!number.is_number()) return Error("invalid number '" + std::string(text_.substr(start, pos_ - start)) + "'");
    out->literal = std::move(number);
    return Status::Ok();
  }

  // A path runs to the ',' or ')' that ends the argument, outside brackets, parentheses and
  // quotes (a filter such as [?(@.a == 'x,y')] may hold both).
  Status ParsePath(Intrinsic::Node* out) {
    size_t start = pos_;
    int nesting = 0;
    char quote = 0;
    while (pos_ < text_.size()) {
      char c = text_[pos_];
      if (quote) {
        if (c == '\\') ++pos_;
        else if (c == quote) quote = 0;
      } else if (c == '\'' || c == '"') {
        quote = c;
      } else if (c == '[' || c == '(') {
        ++nesting;
      } else if (c == ']' || c == ')') {
        if (nesting == 0) break;
        --nesting;
      } else if (c == ',' && nesting == 0) {
        break;
      }
      ++pos_;
    }
    std::string_view text = text_.substr(start, std::min(pos_, text_.size()) - start);
    while (!text.empty() && IsSpace(text.back())) text.remove_suffix(1);
    Result<JsonPath> path = JsonPath::Parse(text);
    if (!path.ok()) return Error("bad path argument: " + path.status().message());
    out->kind = Intrinsic::Node::Kind::kPath;
    out->path = std::move(path).value();
    return Status::Ok();
  }

  // States.Format with a literal template: the template is a string, and it has as many `{}`
  // as there are further arguments (a template from a path is checked when it is evaluated).
  Status CheckFormat(const Intrinsic::Node& call) {
    if (call.name != "States.Format") return Status::Ok();
    const Intrinsic::Node& first = call.args.front();
    if (first.kind == Intrinsic::Node::Kind::kLiteral && !first.string_literal)
      return Error("the first argument of States.Format must be a string");
    if (!first.string_literal) return Status::Ok();
    size_t placeholders = 0;
    for (size_t i = 0; i < first.raw.size(); ++i) {
      if (first.raw[i] == '\\') ++i;
      else if (first.raw[i] == '{' && i + 1 < first.raw.size() && first.raw[i + 1] == '}') ++placeholders, ++i;
    }
    if (placeholders != call.args.size() - 1)
      return Error("States.Format's template has " + std::to_string(placeholders) + " placeholder(s) for " +
                   std::to_string(call.args.size() - 1) + " argument(s)");
    return Status::Ok();
  }

  std::string_view text_;
  size_t pos_ = 0;
};

Result<json> EvaluateNode(const Intrinsic::Node& node, const json& input, const json& context) {
  switch (node.kind) {
    case Intrinsic::Node::Kind::kLiteral:
      return node.literal;
    case Intrinsic::Node::Kind::kPath:
      return node.path.Select(node.path.is_context() ? context : input);
    case Intrinsic::Node::Kind::kCall: {
      std::vector<json> args;
      args.reserve(node.args.size());
      size_t total = 0;
      for (const Intrinsic::Node& arg : node.args) {
        Result<json> value = EvaluateNode(arg, input, context);
        if (!value.ok()) return value.status();
        // Arguments together are bounded as results are, so that States.Array($, $, $, ...)
        // cannot hold hundreds of copies of the input.
        total += JsonBytesUpTo(*value, kMaxPayloadBytes);
        if (total > kMaxPayloadBytes)
          return IntrinsicFailure(node.name, "the arguments are larger than " + std::to_string(kMaxPayloadBytes) + " bytes");
        args.push_back(std::move(value).value());
      }
      Result<json> result = CallIntrinsic(node, std::move(args));
      if (result.ok() && JsonBytesUpTo(*result, kMaxPayloadBytes) > kMaxPayloadBytes)
        return IntrinsicFailure(node.name, "the result is larger than " + std::to_string(kMaxPayloadBytes) + " bytes");
      return result;
    }
  }
  return Status::Internal("unknown intrinsic node");
}

}  // namespace

bool LooksLikeIntrinsic(std::string_view text) {
  if (text.substr(0, 7) != "States.") return false;
  size_t i = 7;
  while (i < text.size() && IsNameChar(text[i])) ++i;
  return i > 7 && i < text.size() && text[i] == '(';
}

Result<Intrinsic> Intrinsic::Parse(std::string_view text) {
  if (text.size() > kMaxPathLength)
    return Status::InvalidArgument("Invalid intrinsic function: longer than " + std::to_string(kMaxPathLength) +
                                   " characters");
  Parser parser(text);
  auto root = std::make_shared<Node>();
  LATHE_RETURN_IF_ERROR(parser.ParseCall(1, root.get()));
  if (!parser.AtEnd()) return parser.Error("unexpected text after the call");
  Intrinsic intrinsic;
  intrinsic.text_ = std::string(text);
  intrinsic.root_ = std::move(root);
  return intrinsic;
}

Result<json> Intrinsic::Evaluate(const json& input, const json& context) const {
  if (!root_) return Status::Internal("evaluating an intrinsic that was never parsed");
  return EvaluateNode(*root_, input, context);
}

Status IntrinsicFailure(const std::string& function, const std::string& what) {
  return Fail(kStatesIntrinsicFailure, "Invalid arguments in " + function + ": " + what);
}

size_t JsonBytesUpTo(const json& value, size_t limit) {
  size_t total = 0;
  std::vector<const json*> stack{&value};
  while (!stack.empty() && total <= limit) {
    const json* v = stack.back();
    stack.pop_back();
    switch (v->type()) {
      case json::value_t::object:
        total += 2;
        for (auto it = v->begin(); it != v->end(); ++it) {
          total += it.key().size() + 4;
          stack.push_back(&it.value());
        }
        break;
      case json::value_t::array:
        total += 2 + v->size();
        for (const json& e : *v) stack.push_back(&e);
        break;
      case json::value_t::string:
        total += v->get_ref<const std::string&>().size() + 2;
        break;
      case json::value_t::boolean:
        total += v->get<bool>() ? 4 : 5;
        break;
      case json::value_t::null:
        total += 4;
        break;
      default:
        total += v->dump().size();  // a number
        break;
    }
  }
  return std::min(total, limit + 1);
}

}  // namespace lathe::asl
