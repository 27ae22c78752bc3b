#include "aws/query_protocol.h"

#include "aws/wire.h"

#include <set>

#include "aws/xml.h"

namespace lathe::aws {
namespace {

Status Malformed(std::string message) { return Status::Aws("MalformedQueryString", 400, std::move(message)); }

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Form decoding in one pass: '+' is a space, %XX a byte; a '%' without two hex digits is refused.
Result<std::string> FormDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '+') {
      out += ' ';
    } else if (c == '%') {
      int hi = i + 1 < s.size() ? HexValue(s[i + 1]) : -1;
      int lo = i + 2 < s.size() ? HexValue(s[i + 2]) : -1;
      if (hi < 0 || lo < 0)
        return Malformed("Invalid percent-encoding at \"" + std::string(s.substr(i, 3)) +
                         "\": '%' must be followed by two hexadecimal digits.");
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

std::string Shown(std::string_view s) {
  return std::string(s.substr(0, 64)) + (s.size() > 64 ? "..." : "");
}

Status AddPairs(std::string_view form, const QueryLimits& limits, std::map<std::string, std::string, std::less<>>* out) {
  size_t start = 0;
  while (start <= form.size()) {
    size_t amp = form.find('&', start);
    if (amp == std::string_view::npos) amp = form.size();
    std::string_view pair = form.substr(start, amp - start);
    start = amp + 1;
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    std::string_view raw_key = pair.substr(0, eq);
    std::string_view raw_value = eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    // Check the encoded length first, so a huge name is never decoded.
    if (raw_key.size() > 3 * limits.max_key_bytes)
      return Malformed("Parameter name \"" + Shown(raw_key) + "\" is longer than " +
                       std::to_string(limits.max_key_bytes) + " bytes.");
    Result<std::string> key = FormDecode(raw_key);
    if (!key.ok()) return key.status();
    if (key->empty()) return Malformed("A parameter has an empty name.");
    if (key->size() > limits.max_key_bytes)
      return Malformed("Parameter name \"" + Shown(*key) + "\" is longer than " +
                       std::to_string(limits.max_key_bytes) + " bytes.");
    if (out->size() >= limits.max_parameters)
      return Malformed("The request has more than " + std::to_string(limits.max_parameters) + " parameters.");
    Result<std::string> value = FormDecode(raw_value);
    if (!value.ok()) return value.status();
    auto [it, inserted] = out->emplace(std::move(*key), std::move(*value));
    if (!inserted) return Malformed("Parameter " + Shown(it->first) + " is given more than once.");
  }
  return Status::Ok();
}

// Parses a list index: 1-9999 without leading zeros; 0 when not one.
size_t ParseIndex(std::string_view digits) {
  if (digits.empty() || digits.size() > 4 || digits[0] == '0') return 0;
  size_t n = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return 0;
    n = n * 10 + static_cast<size_t>(c - '0');
  }
  return n;
}

std::string LowerCamel(std::string_view member) {
  std::string s(member);
  if (!s.empty() && s[0] >= 'A' && s[0] <= 'Z') s[0] = static_cast<char>(s[0] - 'A' + 'a');
  return s;
}

}  // namespace

Status QueryValidationError(std::string message) { return Status::Aws("ValidationError", 400, std::move(message)); }

Status QueryMissingParameter(std::string_view member) {
  return QueryValidationError("1 validation error detected: Value null at '" + LowerCamel(member) +
                              "' failed to satisfy constraint: Member must not be null");
}

Result<QueryParams> QueryParams::Parse(std::string_view form, std::string_view query_string,
                                       const QueryLimits& limits) {
  QueryParams p;
  LATHE_RETURN_IF_ERROR(AddPairs(query_string, limits, &p.params_));
  LATHE_RETURN_IF_ERROR(AddPairs(form, limits, &p.params_));
  if (const std::string* a = p.Get("Action")) p.action_ = *a;
  if (const std::string* v = p.Get("Version")) p.version_ = *v;
  return p;
}

const std::string* QueryParams::Get(std::string_view name) const {
  auto it = params_.find(name);
  return it == params_.end() ? nullptr : &it->second;
}

Result<std::string> QueryParams::Required(std::string_view name) const {
  const std::string* v = Get(name);
  if (!v) return QueryMissingParameter(name);
  return *v;
}

Result<std::optional<bool>> QueryParams::Bool(std::string_view name) const {
  const std::string* v = Get(name);
  if (!v) return std::optional<bool>();
  std::string lower;
  for (char c : v->substr(0, 6)) lower += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  if (v->size() <= 5 && lower == "true") return std::optional<bool>(true);
  if (v->size() <= 5 && lower == "false") return std::optional<bool>(false);
  return QueryValidationError("1 validation error detected: Value '" + Shown(*v) + "' at '" + LowerCamel(name) +
                              "' failed to satisfy constraint: Member must be true or false");
}

Result<std::optional<int64_t>> QueryParams::Int(std::string_view name, int64_t min, int64_t max) const {
  const std::string* v = Get(name);
  if (!v) return std::optional<int64_t>();
  std::string_view s = *v;
  bool negative = !s.empty() && s[0] == '-';
  std::string_view digits = negative ? s.substr(1) : s;
  int64_t n = 0;
  bool ok = !digits.empty() && digits.size() <= 18;
  for (char c : digits) {
    if (c < '0' || c > '9') ok = false;
    if (ok) n = n * 10 + (c - '0');
  }
  if (negative) n = -n;
  if (!ok)
    return QueryValidationError("1 validation error detected: Value '" + Shown(s) + "' at '" + LowerCamel(name) +
                                "' failed to satisfy constraint: Member must be an integer");
  if (n < min)
    return QueryValidationError("1 validation error detected: Value '" + std::to_string(n) + "' at '" +
                                LowerCamel(name) + "' failed to satisfy constraint: Member must have value " +
                                "greater than or equal to " + std::to_string(min));
  if (n > max)
    return QueryValidationError("1 validation error detected: Value '" + std::to_string(n) + "' at '" +
                                LowerCamel(name) + "' failed to satisfy constraint: Member must have value " +
                                "less than or equal to " + std::to_string(max));
  return std::optional<int64_t>(n);
}

Result<size_t> QueryParams::ListLength(std::string_view name, std::string_view member) const {
  std::string prefix = std::string(name) + "." + std::string(member) + ".";
  std::set<size_t> indexes;
  for (auto it = params_.lower_bound(prefix); it != params_.end(); ++it) {
    std::string_view key = it->first;
    if (key.substr(0, prefix.size()) != prefix) break;
    std::string_view rest = key.substr(prefix.size());
    size_t index = ParseIndex(rest.substr(0, rest.find('.')));
    if (index == 0)
      return QueryValidationError("Parameter " + Shown(key) + " does not have a list index from 1 to 9999.");
    indexes.insert(index);
  }
  if (!indexes.empty() && *indexes.rbegin() != indexes.size())
    return QueryValidationError("List " + std::string(name) + " skips an index: its members must be numbered 1 to " +
                                std::to_string(*indexes.rbegin()) + " without gaps.");
  return indexes.size();
}

Result<std::vector<std::string>> QueryParams::List(std::string_view name) const {
  Result<size_t> n = ListLength(name);
  if (!n.ok()) return n.status();
  std::vector<std::string> values;
  for (size_t i = 1; i <= *n; ++i) {
    std::string key = std::string(name) + ".member." + std::to_string(i);
    const std::string* v = Get(key);
    if (!v) return QueryValidationError("List " + std::string(name) + " has no scalar member " + key + ".");
    values.push_back(*v);
  }
  return values;
}

Result<std::map<std::string, std::string>> QueryParams::Map(std::string_view name) const {
  Result<size_t> n = ListLength(name, "entry");
  if (!n.ok()) return n.status();
  std::map<std::string, std::string> values;
  for (size_t i = 1; i <= *n; ++i) {
    std::string entry = std::string(name) + ".entry." + std::to_string(i);
    const std::string* key = Get(entry + ".key");
    const std::string* value = Get(entry + ".value");
    if (!key || !value) return QueryValidationError("Map entry " + entry + " needs both a key and a value.");
    if (!values.emplace(*key, *value).second)
      return QueryValidationError("Map " + std::string(name) + " has the key " + Shown(*key) + " twice.");
  }
  return values;
}

std::string_view QueryXmlNamespace(std::string_view signing_name) {
  if (signing_name == "iam") return "https://iam.amazonaws.com/doc/2010-05-08/";
  if (signing_name == "sts") return "https://sts.amazonaws.com/doc/2011-06-15/";
  if (signing_name == "sns") return "http://sns.amazonaws.com/doc/2010-03-31/";
  return "";
}

namespace {

void SetHeader(http::Response* response, std::string name, std::string value) {
  for (http::Header& h : response->headers) {
    if (h.name == name) {
      h.value = std::move(value);
      return;
    }
  }
  response->headers.push_back({std::move(name), std::move(value)});
}

void WriteXml(const pugi::xml_document& doc, const RequestContext& context, http::Response* response) {
  response->body = XmlToString(doc);
  SetHeader(response, "Content-Type", "text/xml");
  SetHeader(response, "x-amzn-RequestId", context.request_id);
}

}  // namespace

void WriteQueryError(const Status& error, const RequestContext& context, std::string_view xml_namespace,
                     http::Response* response) {
  auto [code, http_status] = ErrorCodeFor(Protocol::kQuery, error);
  pugi::xml_document doc;
  pugi::xml_node root = doc.append_child("ErrorResponse");
  if (!xml_namespace.empty()) root.append_attribute("xmlns").set_value(std::string(xml_namespace).c_str());
  pugi::xml_node e = root.append_child("Error");
  AppendTextElement(e, "Type", http_status >= 500 ? "Receiver" : "Sender");
  AppendTextElement(e, "Code", code);
  AppendTextElement(e, "Message", error.message());
  AppendTextElement(root, "RequestId", context.request_id);
  response->status = http_status;
  WriteXml(doc, context, response);
}

QueryService::QueryService(std::string signing_name, std::string api_version, std::string xml_namespace)
    : signing_name_(std::move(signing_name)),
      api_version_(std::move(api_version)),
      xml_namespace_(std::move(xml_namespace)) {}

void QueryService::Register(std::string action, QueryHandler handler, bool has_result) {
  operations_[std::move(action)] = Operation{std::move(handler), has_result};
}

void QueryService::Serve(const RequestContext& context, const http::Request& request, std::string_view body,
                         http::Response& response) {
  std::string_view target = request.target;
  size_t q = target.find('?');
  std::string_view query_string = q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
  ServeForm(context, query_string, body, &response);
}

void QueryService::ServeForm(const RequestContext& context, std::string_view query_string, std::string_view body,
                             http::Response* response) {
  auto fail = [&](const Status& s) { WriteQueryError(s, context, xml_namespace_, response); };
  Result<QueryParams> params = QueryParams::Parse(body, query_string);
  if (!params.ok()) return fail(params.status());
  const std::string& action = params->action();
  if (!params->Has("Action")) return fail(Status::Aws("MissingAction", 400, "Missing Action"));
  auto op = operations_.find(action);
  // AWS answers an unknown operation and a version it does not serve alike.
  if (op == operations_.end() || (params->Has("Version") && params->version() != api_version_))
    return fail(Status::Aws("InvalidAction", 400,
                            "Could not find operation " + Shown(action) + " for version " +
                                Shown(params->Has("Version") ? params->version() : api_version_)));
  pugi::xml_document doc;
  pugi::xml_node root = doc.append_child((action + "Response").c_str());
  root.append_attribute("xmlns").set_value(xml_namespace_.c_str());
  pugi::xml_node result = root.append_child((action + "Result").c_str());
  Status status = op->second.handler(context, *params, result);
  if (!status.ok()) return fail(status);
  if (!op->second.has_result) root.remove_child(result);
  AppendTextElement(root.append_child("ResponseMetadata"), "RequestId", context.request_id);
  response->status = 200;
  WriteXml(doc, context, response);
}

AccessRequest QueryService::Access(const RequestContext& context, const http::Request& request,
                                   std::string_view body) const {
  std::string_view target = request.target;
  size_t q = target.find('?');
  Result<QueryParams> params =
      QueryParams::Parse(body, q == std::string_view::npos ? std::string_view() : target.substr(q + 1));
  if (!params.ok() || !operations_.count(params->action())) return {};  // Serve refuses it
  return AccessFor({.context = &context, .request = &request, .service = signing_name_, .operation = params->action(),
                    .params = &*params, .body = body});
}

}  // namespace lathe::aws
