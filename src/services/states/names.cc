#include "services/states/names.h"

#include <vector>

#include "core/arn.h"
#include "services/states/errors.h"

namespace lathe::states {
namespace {

bool Forbidden(unsigned char c) {
  if (c < 0x20 || c == 0x7f) return true;  // control characters
  switch (c) {
    case ' ': case '<': case '>': case '{': case '}': case '[': case ']': case '?': case '*':
    case '"': case '#': case '%': case '\\': case '^': case '|': case '~': case '`': case '$':
    case '&': case ',': case ';': case ':': case '/':
      return true;
    default:
      return false;
  }
}

// Splits on ':' into at most `max_parts` parts (the last keeps the rest).
std::vector<std::string_view> SplitColons(std::string_view s, size_t max_parts) {
  std::vector<std::string_view> parts;
  while (parts.size() + 1 < max_parts) {
    size_t colon = s.find(':');
    if (colon == std::string_view::npos) break;
    parts.push_back(s.substr(0, colon));
    s.remove_prefix(colon + 1);
  }
  parts.push_back(s);
  return parts;
}

Status BadArn(std::string_view arn) { return InvalidArn("Invalid Arn: '" + Quoted(arn) + "'"); }

Result<ParsedArn> Parse(std::string_view arn, bool execution) {
  if (arn.empty() || arn.size() > 256) return BadArn(arn);
  std::vector<std::string_view> p = SplitColons(arn, execution ? 8 : 7);
  const size_t want = execution ? 8 : 7;
  if (p.size() != want || p[0] != "arn" || p[1].substr(0, 3) != "aws" || p[2] != "states" || p[3].empty() ||
      p[4].empty())
    return BadArn(arn);
  if (p[5] != (execution ? "execution" : "stateMachine")) return BadArn(arn);
  ParsedArn out{std::string(p[3]), std::string(p[4]), std::string(p[6]), ""};
  if (execution) out.execution = std::string(p[7]);
  if (!CheckName(out.machine).ok() || (execution && !CheckName(out.execution).ok())) return BadArn(arn);
  return out;
}

}  // namespace

Status CheckName(std::string_view name) {
  // 80 characters of up to 4 bytes each: anything longer cannot be valid.
  if (name.empty() || name.size() > 80 * 4) return InvalidName("Invalid Name: '" + Quoted(name) + "'");
  size_t characters = 0;
  for (size_t i = 0; i < name.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(name[i]);
    if ((c & 0xC0) != 0x80) ++characters;  // not a continuation byte
    if (Forbidden(c)) return InvalidName("Invalid Name: '" + Quoted(name) + "'");
    // U+0080..U+009F (C1 controls) are C2 80..C2 9F in UTF-8.
    if (c == 0xC2 && i + 1 < name.size()) {
      const unsigned char next = static_cast<unsigned char>(name[i + 1]);
      if (next >= 0x80 && next <= 0x9F) return InvalidName("Invalid Name: '" + Quoted(name) + "'");
    }
  }
  if (characters > 80) return InvalidName("Invalid Name: '" + Quoted(name) + "'");
  return Status::Ok();
}

std::string StateMachineArn(const std::string& region, const std::string& account, const std::string& name) {
  return MakeArn("states", region, account, "stateMachine:" + name);
}

std::string ExecutionArn(const std::string& region, const std::string& account, const std::string& machine,
                         const std::string& name) {
  return MakeArn("states", region, account, "execution:" + machine + ":" + name);
}

Result<ParsedArn> ParseStateMachineArn(std::string_view arn) { return Parse(arn, false); }
Result<ParsedArn> ParseExecutionArn(std::string_view arn) { return Parse(arn, true); }

std::string NewExecutionName() {
  static const char kHex[] = "0123456789abcdef";
  std::string hex;
  for (char c : NewResourceId(32)) hex += kHex[static_cast<unsigned char>(c) % 16];
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" + hex.substr(16, 4) + "-" +
         hex.substr(20, 12);
}

}  // namespace lathe::states
