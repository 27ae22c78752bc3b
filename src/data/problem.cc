#include "data/problem.h"

#include <nlohmann/json.hpp>

#include "core/utf8.h"

namespace lathe::data {

std::string FormatProblem(const Problem& p) {
  std::string out = p.file;
  if (p.line > 0) out += ":" + std::to_string(p.line);
  if (p.line > 0 && p.column > 0) out += ":" + std::to_string(p.column);
  out += p.severity == Severity::kError ? ": error: " : ": warning: ";
  if (!p.field.empty()) out += p.field + ": ";
  out += p.message;
  if (!p.code.empty()) out += " [" + p.code + "]";
  if (!p.fix.empty()) out += "\n    fix: " + p.fix;
  return out;
}

nlohmann::json ProblemToJson(const Problem& p) {
  // nlohmann's dump() throws on invalid UTF-8, and a file name (or a read error quoting it) need
  // not be UTF-8: sanitize every string that comes from outside.
  nlohmann::json j = {{"severity", p.severity == Severity::kError ? "error" : "warning"},
                      {"file", SanitizeUtf8(p.file)},
                      {"code", p.code},
                      {"message", SanitizeUtf8(p.message)}};
  if (p.line > 0) j["line"] = p.line;
  if (p.column > 0) j["column"] = p.column;
  if (!p.field.empty()) j["field"] = SanitizeUtf8(p.field);
  if (!p.fix.empty()) j["fix"] = SanitizeUtf8(p.fix);
  return j;
}

}  // namespace lathe::data
