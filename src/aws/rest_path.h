// What the two REST protocols (rest-json, rest-xml) share about request targets: percent-decoding,
// query strings, and operation path templates ("/model/{modelId}/invoke", "/{Bucket}/{Key+}")
// matched segment by segment. No regular expression ever runs on a request path.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace lathe::aws {

// Percent-decodes a path segment or query component ('+' is a space only in queries).
std::string PercentDecode(std::string_view s, bool plus_is_space);
// The decoded query parameters of a raw query string (a repeated name keeps the first).
std::map<std::string, std::string> DecodeQuery(std::string_view query);

// The path part of a botocore "requestUri": literal segments, "{label}" (one non-empty segment)
// and a final "{label+}" (the rest of the path, slashes included, never empty).
class PathTemplate {
 public:
  explicit PathTemplate(std::string_view path_template);
  // Whether the still-encoded `path` matches; on a match `labels` holds the percent-decoded
  // values by label name.
  bool Match(std::string_view path, std::map<std::string, std::string>* labels) const;

 private:
  std::vector<std::string> segments_;  // literal, "{label}" or "{label+}"
};

}  // namespace lathe::aws
