#include "aws/rest_path.h"

#include "aws/wire.h"

namespace lathe::aws {
namespace {

// "/a/b" -> {"a", "b"}; "/" -> {""}; "/a/" -> {"a", ""}.
std::vector<std::string_view> PathSegments(std::string_view path) {
  std::vector<std::string_view> out;
  size_t start = path.empty() || path[0] != '/' ? 0 : 1;
  while (start <= path.size()) {
    size_t end = std::min(path.find('/', start), path.size());
    out.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

bool IsLabel(std::string_view seg) { return seg.size() >= 3 && seg.front() == '{' && seg.back() == '}'; }
bool IsGreedy(std::string_view seg) { return IsLabel(seg) && seg[seg.size() - 2] == '+'; }
std::string LabelName(std::string_view seg) {
  return std::string(seg.substr(1, seg.size() - (IsGreedy(seg) ? 3 : 2)));
}

}  // namespace

std::string PercentDecode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && HexDigit(s[i + 1]) >= 0 && HexDigit(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexDigit(s[i + 1]) * 16 + HexDigit(s[i + 2])));
      i += 2;
    } else {
      out.push_back(plus_is_space && s[i] == '+' ? ' ' : s[i]);
    }
  }
  return out;
}

std::map<std::string, std::string> DecodeQuery(std::string_view query) {
  std::map<std::string, std::string> out;
  size_t start = 0;
  while (start < query.size()) {
    size_t end = std::min(query.find('&', start), query.size());
    std::string_view pair = query.substr(start, end - start);
    if (!pair.empty()) {
      size_t eq = std::min(pair.find('='), pair.size());
      std::string value = eq < pair.size() ? PercentDecode(pair.substr(eq + 1), true) : "";
      out.emplace(PercentDecode(pair.substr(0, eq), true), std::move(value));
    }
    start = end + 1;
  }
  return out;
}

PathTemplate::PathTemplate(std::string_view path_template) {
  for (std::string_view seg : PathSegments(path_template)) segments_.emplace_back(seg);
}

bool PathTemplate::Match(std::string_view path, std::map<std::string, std::string>* labels) const {
  const std::vector<std::string_view> segs = PathSegments(path);
  std::map<std::string, std::string> found;
  size_t i = 0;
  for (const std::string& want : segments_) {
    if (IsGreedy(want)) {  // the rest of the path, slashes included; never empty
      if (i >= segs.size()) return false;
      std::string rest;
      for (size_t j = i; j < segs.size(); ++j) (j > i ? rest.append("/") : rest).append(segs[j]);
      if (rest.empty()) return false;
      found[LabelName(want)] = PercentDecode(rest, false);
      i = segs.size();
    } else if (i >= segs.size()) {
      return false;
    } else if (IsLabel(want)) {
      if (segs[i].empty()) return false;
      found[LabelName(want)] = PercentDecode(segs[i], false);
      ++i;
    } else {
      if (segs[i] != want) return false;
      ++i;
    }
  }
  if (i != segs.size()) return false;
  *labels = std::move(found);
  return true;
}

}  // namespace lathe::aws
