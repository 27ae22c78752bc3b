// Payload templates and the path fields, in AWS's order of input and output processing. A
// template is compiled once: subtrees without any ".$" key are kept as constants, so applying a
// template costs only its dynamic parts (and one copy of the constants).
#include "asl/payload.h"

#include <algorithm>
#include <set>
#include <utility>
#include <string>
#include <vector>

#include "asl/intrinsics.h"
#include "asl/intrinsics_internal.h"

namespace lathe::asl {

using nlohmann::json;

struct PayloadTemplate::Node {
  enum class Kind { kConstant, kObject, kArray, kPath, kIntrinsic };
  Kind kind = Kind::kConstant;
  json constant;  // kConstant
  // kObject: (output key, the key as written, value), in the template's order.
  struct Member {
    std::string key, source_key;
    std::shared_ptr<Node> value;
  };
  std::vector<Member> members;
  std::vector<Node> elements;  // kArray
  JsonPath path;               // kPath
  std::shared_ptr<const Intrinsic> intrinsic;
  json source;  // the root only: the template as written
};

namespace {

using Node = PayloadTemplate::Node;

constexpr std::string_view kDynamicSuffix = ".$";

bool EndsWithDynamicSuffix(const std::string& key) {
  return key.size() >= kDynamicSuffix.size() && key.compare(key.size() - 2, 2, kDynamicSuffix) == 0;
}

// Whether any object at or below `value` has a ".$" key (iterative: constants may nest deeply).
bool HasDynamicKey(const json& value) {
  std::vector<const json*> stack{&value};
  while (!stack.empty()) {
    const json* v = stack.back();
    stack.pop_back();
    if (v->is_object()) {
      for (auto it = v->begin(); it != v->end(); ++it) {
        if (EndsWithDynamicSuffix(it.key())) return true;
        stack.push_back(&it.value());
      }
    } else if (v->is_array()) {
      for (const json& e : *v) stack.push_back(&e);
    }
  }
  return false;
}

// RFC 6901: '~' and '/' in a key are written ~0 and ~1.
std::string Pointer(const std::string& location, const std::string& key) {
  std::string out = location + "/";
  for (char c : key) {
    if (c == '~') out += "~0";
    else if (c == '/') out += "~1";
    else out += c;
  }
  return out;
}

const char* TypeName(const json& value) {
  switch (value.type()) {
    case json::value_t::object: return "an OBJECT";
    case json::value_t::array: return "an ARRAY";
    case json::value_t::boolean: return "a BOOLEAN";
    case json::value_t::null: return "NULL";
    case json::value_t::string: return "a STRING";
    default: return "a NUMBER";
  }
}

Status Compile(const json& value, const std::string& location, size_t depth, Node* out) {
  if (!HasDynamicKey(value)) {
    out->kind = Node::Kind::kConstant;
    out->constant = value;
    return Status::Ok();
  }
  if (depth > kMaxExpressionDepth)
    return Status::InvalidArgument("The payload template nests deeper than " + std::to_string(kMaxExpressionDepth) +
                                   " levels at " + location);
  if (value.is_array()) {
    out->kind = Node::Kind::kArray;
    out->elements.resize(value.size());
    for (size_t i = 0; i < value.size(); ++i)
      LATHE_RETURN_IF_ERROR(Compile(value[i], location + "/" + std::to_string(i), depth + 1, &out->elements[i]));
    return Status::Ok();
  }
  out->kind = Node::Kind::kObject;
  std::set<std::string> keys;
  for (auto it = value.begin(); it != value.end(); ++it) {
    const std::string& key = it.key();
    std::string field_location = Pointer(location, key);
    Node::Member member;
    member.source_key = key;
    member.value = std::make_shared<Node>();
    if (EndsWithDynamicSuffix(key)) {
      member.key = key.substr(0, key.size() - 2);
      const json& v = it.value();
      if (!v.is_string())
        return Status::InvalidArgument("The value for the field '" + key +
                                       "' must be a STRING that contains a JSONPath but was " + TypeName(v) + " at " +
                                       field_location);
      const std::string& text = v.get_ref<const std::string&>();
      if (!text.empty() && text[0] == '$') {
        Result<JsonPath> path = JsonPath::Parse(text);
        if (!path.ok())
          return Status::InvalidArgument("The value for the field '" + key + "' must be a valid JSONPath at " +
                                         field_location + ": " + path.status().message());
        member.value->kind = Node::Kind::kPath;
        member.value->path = std::move(path).value();
      } else if (LooksLikeIntrinsic(text)) {
        Result<Intrinsic> intrinsic = Intrinsic::Parse(text);
        if (!intrinsic.ok())
          return Status::InvalidArgument("The value for the field '" + key +
                                         "' must be a valid intrinsic function call at " + field_location + ": " +
                                         intrinsic.status().message());
        member.value->kind = Node::Kind::kIntrinsic;
        member.value->intrinsic = std::make_shared<const Intrinsic>(std::move(intrinsic).value());
      } else {
        return Status::InvalidArgument("The value for the field '" + key +
                                       "' must be a valid JSONPath or a valid intrinsic function call at " +
                                       field_location);
      }
    } else {
      member.key = key;
      LATHE_RETURN_IF_ERROR(Compile(it.value(), field_location, depth + 1, member.value.get()));
    }
    if (!keys.insert(member.key).second)
      return Status::InvalidArgument("The field '" + member.key + "' is given twice (as '" + member.key + "' and '" +
                                     member.key + ".$') at " + location);
    out->members.push_back(std::move(member));
  }
  return Status::Ok();
}

// How much of the cause a "could not be found in the input" error quotes of the input.
constexpr size_t kMaxQuotedInputBytes = 1024;

// Evaluate's running total of the result's bytes (as JsonBytesUpTo counts them). Each ".$"
// member copies what it selects, so without it a 1 MB template of {"aN.$": "$"} members over a
// 256 KiB input would build ~18 GB before the result's size is ever checked.
struct Budget {
  size_t used = 0;
  Status Charge(const json& value, const std::string& field) {
    const size_t left = kMaxPayloadBytes - std::min(used, kMaxPayloadBytes);
    used += JsonBytesUpTo(value, left);
    return CheckUsed(field);
  }
  Status ChargeBytes(size_t bytes, const std::string& field) {
    used += bytes;
    return CheckUsed(field);
  }
  Status CheckUsed(const std::string& field) const {
    if (used <= kMaxPayloadBytes) return Status::Ok();
    return Fail(kStatesDataLimitExceeded, "The payload template's result exceeds the maximum number of bytes service "
                                          "limit (" + std::to_string(kMaxPayloadBytes) + " bytes) at the field '" +
                                              ClipUtf8(field, 256) + "'");
  }
};

Result<json> Evaluate(const Node& node, const json& input, const json& context, const std::string& field,
                      Budget* budget) {
  switch (node.kind) {
    case Node::Kind::kConstant:
      LATHE_RETURN_IF_ERROR(budget->Charge(node.constant, field));
      return node.constant;
    case Node::Kind::kArray: {
      json out = json::array();
      LATHE_RETURN_IF_ERROR(budget->ChargeBytes(2 + node.elements.size(), field));
      for (const Node& element : node.elements) {
        Result<json> v = Evaluate(element, input, context, field, budget);
        if (!v.ok()) return v.status();
        out.push_back(std::move(v).value());
      }
      return out;
    }
    case Node::Kind::kObject: {
      json out = json::object();
      LATHE_RETURN_IF_ERROR(budget->ChargeBytes(2, field));
      for (const Node::Member& member : node.members) {
        LATHE_RETURN_IF_ERROR(budget->ChargeBytes(member.key.size() + 4, member.source_key));
        Result<json> v = Evaluate(*member.value, input, context, member.source_key, budget);
        if (!v.ok()) return v.status();
        out[member.key] = std::move(v).value();
      }
      return out;
    }
    case Node::Kind::kPath: {
      const json& root = node.path.is_context() ? context : input;
      Result<json> v = node.path.Select(root);
      if (!v.ok())
        return Fail(kStatesRuntime, "The JSONPath '" + node.path.text() + "' specified for the field '" + field +
                                        "' could not be found in the input '" +
                                        ClipUtf8(DumpPayload(root), kMaxQuotedInputBytes) + "'");
      LATHE_RETURN_IF_ERROR(budget->Charge(*v, field));
      return v;
    }
    case Node::Kind::kIntrinsic: {
      Result<json> v = node.intrinsic->Evaluate(input, context);
      if (v.ok()) LATHE_RETURN_IF_ERROR(budget->Charge(*v, field));
      return v;
    }
  }
  return Status::Internal("unknown payload template node");
}

}  // namespace

PayloadTemplate::PayloadTemplate() {
  auto root = std::make_shared<Node>();
  root->constant = json::object();
  root->source = json::object();
  root_ = std::move(root);
}

Result<PayloadTemplate> PayloadTemplate::Parse(const json& tmpl, const std::string& location) {
  if (!tmpl.is_object())
    return Status::InvalidArgument("A payload template must be a JSON OBJECT but was " + std::string(TypeName(tmpl)) +
                                   " at " + location);
  auto root = std::make_shared<Node>();
  LATHE_RETURN_IF_ERROR(Compile(tmpl, location, 1, root.get()));
  root->source = tmpl;
  PayloadTemplate out;
  out.root_ = std::move(root);
  return out;
}

const json& PayloadTemplate::source() const { return root_->source; }

Result<json> PayloadTemplate::Apply(const json& input, const json& context) const {
  Budget budget;
  return Evaluate(*root_, input, context, "", &budget);
}

Result<json> ApplyInputPath(const PathField& field, const json& value, const json& context) {
  switch (field.kind) {
    case PathField::Kind::kDefault: return value;
    case PathField::Kind::kNull: return json::object();
    case PathField::Kind::kPath: return field.path.Select(field.path.is_context() ? context : value);
  }
  return value;
}

Result<json> ApplyResultPath(const PathField& field, const json& state_input, json result) {
  switch (field.kind) {
    case PathField::Kind::kDefault: return result;
    case PathField::Kind::kNull: return state_input;
    case PathField::Kind::kPath: return PutAt(field.path, state_input, std::move(result));
  }
  return result;
}

std::string DumpPayload(const json& value) { return value.dump(-1, ' ', false, json::error_handler_t::replace); }

bool NestingWithin(const json& value, size_t limit) {
  // Iterative: this is what makes the recursive walks (Dump, copies) safe to call afterwards.
  std::vector<std::pair<const json*, size_t>> stack{{&value, 1}};
  while (!stack.empty()) {
    auto [v, depth] = stack.back();
    stack.pop_back();
    if (!v->is_structured()) continue;
    if (depth > limit) return false;
    for (const json& child : *v)
      if (child.is_structured()) stack.push_back({&child, depth + 1});
  }
  return true;
}

size_t PayloadBytes(const json& value) { return DumpPayload(value).size(); }

Status CheckPayloadSize(const json& value, const std::string& what) {
  if (!NestingWithin(value, kMaxPayloadDepth))
    return Fail(kStatesDataLimitExceeded, "The " + what + " nests deeper than the maximum depth of " +
                                              std::to_string(kMaxPayloadDepth) + " levels.");
  size_t bytes = PayloadBytes(value);
  if (bytes <= kMaxPayloadBytes) return Status::Ok();
  return Fail(kStatesDataLimitExceeded, "The " + what + " of " + std::to_string(bytes) +
                                            " bytes exceeds the maximum number of bytes service limit (" +
                                            std::to_string(kMaxPayloadBytes) + " bytes).");
}

}  // namespace lathe::asl
