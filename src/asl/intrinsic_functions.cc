// What each States.* intrinsic computes, with AWS's argument rules (the Step Functions developer
// guide's "Input validation" lists): arrays must be arrays, counts and indexes integers (numbers
// with a fraction are rounded where AWS rounds them: MathRandom, MathAdd, ArrayRange,
// ArrayPartition), Base64 and Hash data at most 10,000 characters, ArrayRange at most 1000 items,
// JsonMerge shallow only. Anything else fails with States.IntrinsicFailure naming the function.
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <optional>
#include <set>
#include <string>

#include "asl/intrinsics_internal.h"
#include "core/checksum.h"
#include "core/json_nesting.h"
#include "core/random.h"
#include "core/utf8.h"

namespace lathe::asl {

using nlohmann::json;

namespace {

constexpr int64_t kInt32Min = std::numeric_limits<int32_t>::min();
constexpr int64_t kInt32Max = std::numeric_limits<int32_t>::max();

std::string Dump(const json& value) { return value.dump(-1, ' ', false, json::error_handler_t::replace); }

// A number as an integer: integers as they are, others rounded half up (Java's Math.round, as
// AWS rounds), within [min, max]; nullopt for anything else.
std::optional<int64_t> Integer(const json& value, int64_t min, int64_t max) {
  int64_t out = 0;
  if (value.is_number_integer() && !value.is_number_unsigned()) {
    out = value.get<int64_t>();
  } else if (value.is_number_unsigned()) {
    uint64_t u = value.get<uint64_t>();
    if (u > static_cast<uint64_t>(max)) return std::nullopt;
    out = static_cast<int64_t>(u);
  } else if (value.is_number_float()) {
    double d = std::floor(value.get<double>() + 0.5);
    if (!std::isfinite(d) || d < static_cast<double>(min) || d > static_cast<double>(max)) return std::nullopt;
    out = static_cast<int64_t>(d);
  } else {
    return std::nullopt;
  }
  if (out < min || out > max) return std::nullopt;
  return out;
}

// An integer that must be written as one (ArrayGetItem's index): 2.0 is accepted, 2.5 is not.
std::optional<int64_t> ExactInteger(const json& value) {
  if (value.is_number_float()) {
    double d = value.get<double>();
    if (d != std::floor(d)) return std::nullopt;
  }
  return Integer(value, 0, std::numeric_limits<int64_t>::max());
}

size_t Characters(const std::string& s) {
  return FindInvalidUtf8(s) == std::string::npos ? CountCodePoints(s) : s.size();
}

// States.Format's "natural string representation": strings without quotes, scalars as JSON,
// arrays and objects as Step Functions writes them (Java's [a, b] and {k=v}).
void AppendNatural(const json& value, std::string* out, size_t limit) {
  if (out->size() > limit) return;
  if (value.is_string()) {
    *out += value.get_ref<const std::string&>();
  } else if (value.is_array()) {
    *out += '[';
    bool first = true;
    for (const json& e : value) {
      if (!first) *out += ", ";
      first = false;
      AppendNatural(e, out, limit);
    }
    *out += ']';
  } else if (value.is_object()) {
    *out += '{';
    bool first = true;
    for (auto it = value.begin(); it != value.end(); ++it) {
      if (!first) *out += ", ";
      first = false;
      *out += it.key() + "=";
      AppendNatural(it.value(), out, limit);
    }
    *out += '}';
  } else {
    *out += Dump(value);
  }
}

Result<json> Format(const Intrinsic::Node& call, const std::vector<json>& args) {
  const std::string* tmpl = nullptr;
  if (call.args.front().string_literal) {
    tmpl = &call.args.front().raw;
  } else if (args.front().is_string()) {
    tmpl = &args.front().get_ref<const std::string&>();
  } else {
    return IntrinsicFailure(call.name, "the template (first argument) must be a string");
  }
  std::string out;
  size_t next = 1;
  for (size_t i = 0; i < tmpl->size(); ++i) {
    char c = (*tmpl)[i];
    if (c == '\\' && i + 1 < tmpl->size()) {
      out += (*tmpl)[++i];
    } else if (c == '{' && i + 1 < tmpl->size() && (*tmpl)[i + 1] == '}') {
      ++i;
      if (next >= args.size()) return IntrinsicFailure(call.name, "the template has more {} than there are arguments");
      AppendNatural(args[next++], &out, kMaxPayloadBytes);
    } else {
      out += c;
    }
    if (out.size() > kMaxPayloadBytes) return IntrinsicFailure(call.name, "the result is too large");
  }
  if (next != args.size()) return IntrinsicFailure(call.name, "there are more arguments than {} in the template");
  return json(std::move(out));
}

Result<json> ArrayRange(const std::string& name, const std::vector<json>& args) {
  std::optional<int64_t> first = Integer(args[0], kInt32Min, kInt32Max), last = Integer(args[1], kInt32Min, kInt32Max),
                         step = Integer(args[2], kInt32Min, kInt32Max);
  if (!first || !last || !step) return IntrinsicFailure(name, "all arguments must be integers");
  if (*step == 0) return IntrinsicFailure(name, "the step (third argument) must not be zero");
  int64_t count = 0;
  if ((*step > 0 && *last >= *first) || (*step < 0 && *last <= *first)) count = (*last - *first) / *step + 1;
  if (count > static_cast<int64_t>(kMaxArrayRangeItems))
    return IntrinsicFailure(name, "the array would have " + std::to_string(count) + " items; at most " +
                                      std::to_string(kMaxArrayRangeItems) + " are allowed");
  json out = json::array();
  for (int64_t i = 0; i < count; ++i) out.push_back(*first + i * *step);
  return out;
}

Result<json> Hash(const std::string& name, const std::vector<json>& args) {
  std::string data = args[0].is_string() ? args[0].get<std::string>() : Dump(args[0]);
  if (Characters(data) > kMaxIntrinsicDataChars)
    return IntrinsicFailure(name, "the data must be at most " + std::to_string(kMaxIntrinsicDataChars) + " characters");
  if (!args[1].is_string()) return IntrinsicFailure(name, "the algorithm must be a string");
  const std::string& algorithm = args[1].get_ref<const std::string&>();
  const EVP_MD* md = algorithm == "MD5"       ? EVP_md5()
                     : algorithm == "SHA-1"   ? EVP_sha1()
                     : algorithm == "SHA-256" ? EVP_sha256()
                     : algorithm == "SHA-384" ? EVP_sha384()
                     : algorithm == "SHA-512" ? EVP_sha512()
                                              : nullptr;
  if (md == nullptr)
    return IntrinsicFailure(name, "unknown algorithm '" + SanitizeUtf8(algorithm.substr(0, 64)) +
                                      "' (MD5, SHA-1, SHA-256, SHA-384 or SHA-512)");
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (EVP_Digest(data.data(), data.size(), digest, &size, md, nullptr) != 1)
    return Status::Internal("OpenSSL could not compute " + algorithm);
  return json(HexEncode(std::string_view(reinterpret_cast<const char*>(digest), size)));
}

Result<json> MathRandom(const std::string& name, const std::vector<json>& args) {
  std::optional<int64_t> start = Integer(args[0], kInt32Min, kInt32Max), end = Integer(args[1], kInt32Min, kInt32Max);
  if (!start || !end) return IntrinsicFailure(name, "the start and end must be integers");
  if (*start > *end) return IntrinsicFailure(name, "the start must not be greater than the end");
  uint64_t seed = 0;
  if (args.size() == 3) {
    std::optional<int64_t> s = Integer(args[2], std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max());
    if (!s) return IntrinsicFailure(name, "the seed must be an integer");
    seed = static_cast<uint64_t>(*s);
  } else if (RAND_bytes(reinterpret_cast<unsigned char*>(&seed), sizeof seed) != 1) {
    return Status::Internal("no randomness available");
  }
  Rng rng(seed);  // the same seed gives the same number, as AWS documents
  return json(*start + static_cast<int64_t>(rng.Below(static_cast<uint64_t>(*end - *start) + 1)));
}

// Splits on each character of `delimiters` (code points, not bytes); empty pieces are dropped.
Result<json> StringSplit(const std::string& name, const std::vector<json>& args) {
  if (!args[0].is_string() || !args[1].is_string()) return IntrinsicFailure(name, "both arguments must be strings");
  const std::string& text = args[0].get_ref<const std::string&>();
  const std::string& delimiters = args[1].get_ref<const std::string&>();
  auto char_length = [](const std::string& s, size_t i) -> size_t {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 1;
    return std::min(n, s.size() - i);
  };
  std::set<std::string> set;
  for (size_t i = 0; i < delimiters.size();) {
    size_t n = char_length(delimiters, i);
    set.insert(delimiters.substr(i, n));
    i += n;
  }
  json out = json::array();
  std::string piece;
  for (size_t i = 0; i < text.size();) {
    size_t n = char_length(text, i);
    std::string ch = text.substr(i, n);
    if (set.count(ch)) {
      if (!piece.empty()) out.push_back(std::move(piece));
      piece.clear();
    } else {
      piece += ch;
    }
    i += n;
  }
  if (!piece.empty()) out.push_back(std::move(piece));
  return out;
}

std::string Uuid4() {
  unsigned char b[16];
  if (RAND_bytes(b, sizeof b) != 1) {
    Rng rng(static_cast<uint64_t>(reinterpret_cast<uintptr_t>(&b)));
    for (unsigned char& x : b) x = static_cast<unsigned char>(rng.Next());
  }
  b[6] = static_cast<unsigned char>((b[6] & 0x0F) | 0x40);  // version 4
  b[8] = static_cast<unsigned char>((b[8] & 0x3F) | 0x80);  // RFC 4122 variant
  std::string hex = HexEncode(std::string_view(reinterpret_cast<const char*>(b), sizeof b));
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" + hex.substr(16, 4) + "-" +
         hex.substr(20);
}

}  // namespace

const IntrinsicSignature* FindIntrinsic(std::string_view name) {
  static const IntrinsicSignature kFunctions[] = {
      {"States.Format", 1, SIZE_MAX},      {"States.StringToJson", 1, 1}, {"States.JsonToString", 1, 1},
      {"States.Array", 0, SIZE_MAX},       {"States.ArrayPartition", 2, 2}, {"States.ArrayContains", 2, 2},
      {"States.ArrayRange", 3, 3},         {"States.ArrayGetItem", 2, 2}, {"States.ArrayLength", 1, 1},
      {"States.ArrayUnique", 1, 1},        {"States.Base64Encode", 1, 1}, {"States.Base64Decode", 1, 1},
      {"States.Hash", 2, 2},               {"States.JsonMerge", 3, 3},    {"States.MathRandom", 2, 3},
      {"States.MathAdd", 2, 2},            {"States.StringSplit", 2, 2},  {"States.UUID", 0, 0},
  };
  for (const IntrinsicSignature& f : kFunctions)
    if (name == f.name) return &f;
  return nullptr;
}

Result<json> CallIntrinsic(const Intrinsic::Node& call, std::vector<json> args) {
  const std::string& name = call.name;
  auto need_array = [&](size_t i) { return args[i].is_array(); };
  if (name == "States.Format") return Format(call, args);
  if (name == "States.StringToJson") {
    if (!args[0].is_string()) return IntrinsicFailure(name, "the argument must be a string");
    const std::string& text = args[0].get_ref<const std::string&>();
    if (text.find_first_not_of(" \t\r\n") == std::string::npos) return json(nullptr);
    if (!JsonNestingWithin(text, kMaxRequestJsonDepth))
      return IntrinsicFailure(name, "the JSON nests deeper than " + std::to_string(kMaxRequestJsonDepth) + " levels");
    json parsed = json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (parsed.is_discarded()) return IntrinsicFailure(name, "the argument is not valid JSON");
    return parsed;
  }
  if (name == "States.JsonToString") return json(Dump(args[0]));
  if (name == "States.Array") return json(std::move(args));
  if (name == "States.ArrayPartition") {
    if (!need_array(0)) return IntrinsicFailure(name, "the first argument must be an array");
    std::optional<int64_t> size = Integer(args[1], 1, kInt32Max);
    if (!size) return IntrinsicFailure(name, "the chunk size must be a positive integer");
    json out = json::array();
    const json& array = args[0];
    for (size_t i = 0; i < array.size(); i += static_cast<size_t>(*size)) {
      json chunk = json::array();
      for (size_t j = i; j < array.size() && j < i + static_cast<size_t>(*size); ++j) chunk.push_back(array[j]);
      out.push_back(std::move(chunk));
    }
    return out;
  }
  if (name == "States.ArrayContains") {
    if (!need_array(0)) return IntrinsicFailure(name, "the first argument must be an array");
    for (const json& e : args[0])
      if (e == args[1]) return json(true);
    return json(false);
  }
  if (name == "States.ArrayRange") return ArrayRange(name, args);
  if (name == "States.ArrayGetItem") {
    if (!need_array(0)) return IntrinsicFailure(name, "the first argument must be an array");
    std::optional<int64_t> index = ExactInteger(args[1]);
    if (!index) return IntrinsicFailure(name, "the index must be a non-negative integer");
    if (*index >= static_cast<int64_t>(args[0].size()))
      return IntrinsicFailure(name, "the index " + std::to_string(*index) + " is outside the array of " +
                                        std::to_string(args[0].size()) + " items");
    return args[0][static_cast<size_t>(*index)];
  }
  if (name == "States.ArrayLength") {
    if (!need_array(0)) return IntrinsicFailure(name, "the argument must be an array");
    return json(args[0].size());
  }
  if (name == "States.ArrayUnique") {
    if (!need_array(0)) return IntrinsicFailure(name, "the argument must be an array");
    std::set<json> seen;  // json's ordering treats 1 and 1.0 as one value, as equality does
    json out = json::array();
    for (json& e : args[0])
      if (seen.insert(e).second) out.push_back(std::move(e));
    return out;
  }
  if (name == "States.Base64Encode") {
    if (!args[0].is_string()) return IntrinsicFailure(name, "the argument must be a string");
    const std::string& data = args[0].get_ref<const std::string&>();
    if (Characters(data) > kMaxIntrinsicDataChars)
      return IntrinsicFailure(name, "the data must be at most " + std::to_string(kMaxIntrinsicDataChars) + " characters");
    return json(Base64Encode(data));
  }
  if (name == "States.Base64Decode") {
    if (!args[0].is_string()) return IntrinsicFailure(name, "the argument must be a string");
    const std::string& text = args[0].get_ref<const std::string&>();
    if (text.size() > kMaxIntrinsicDataChars)
      return IntrinsicFailure(name, "the data must be at most " + std::to_string(kMaxIntrinsicDataChars) + " characters");
    std::optional<std::string> decoded = Base64Decode(text);
    if (!decoded) return IntrinsicFailure(name, "the argument is not valid base64");
    if (FindInvalidUtf8(*decoded) != std::string::npos)
      return IntrinsicFailure(name, "the decoded data is not UTF-8 text");
    return json(std::move(*decoded));
  }
  if (name == "States.Hash") return Hash(name, args);
  if (name == "States.JsonMerge") {
    if (!args[0].is_object() || !args[1].is_object())
      return IntrinsicFailure(name, "the first two arguments must be JSON objects");
    if (!args[2].is_boolean()) return IntrinsicFailure(name, "the third argument must be a boolean");
    if (args[2].get<bool>())
      return IntrinsicFailure(name, "Step Functions only supports the shallow merging mode; the third argument must be false");
    json merged = std::move(args[0]);
    for (auto it = args[1].begin(); it != args[1].end(); ++it) merged[it.key()] = std::move(it.value());
    return merged;
  }
  if (name == "States.MathRandom") return MathRandom(name, args);
  if (name == "States.MathAdd") {
    std::optional<int64_t> a = Integer(args[0], kInt32Min, kInt32Max), b = Integer(args[1], kInt32Min, kInt32Max);
    if (!a || !b) return IntrinsicFailure(name, "both arguments must be integers between -2147483648 and 2147483647");
    return json(*a + *b);
  }
  if (name == "States.StringSplit") return StringSplit(name, args);
  if (name == "States.UUID") return json(Uuid4());
  return IntrinsicFailure(name, "unknown function");
}

}  // namespace lathe::asl
