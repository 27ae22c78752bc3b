// ParseDefinition: the text's size and nesting first (never parse what could exhaust the stack),
// then the JSON (duplicate keys seen as it is read), then the machine: its fields, every state,
// every transition, terminal states and reachability, each problem as AWS's diagnostic.
#include <deque>
#include <set>
#include <vector>

#include "asl/definition_internal.h"
#include "core/json_nesting.h"

namespace lathe::asl {

using nlohmann::json;
using internal::Checker;
using internal::Child;
using internal::Element;

const char* StateTypeName(StateType type) {
  switch (type) {
    case StateType::kPass: return "Pass";
    case StateType::kTask: return "Task";
    case StateType::kChoice: return "Choice";
    case StateType::kWait: return "Wait";
    case StateType::kSucceed: return "Succeed";
    case StateType::kFail: return "Fail";
    case StateType::kParallel: return "Parallel";
    case StateType::kMap: return "Map";
  }
  return "Pass";
}

namespace internal {
namespace {

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// Every state named by a transition of `s`, with the location of the field that names it.
std::vector<std::pair<std::string, std::string>> Targets(const State& s, const std::string& loc) {
  std::vector<std::pair<std::string, std::string>> out;
  if (!s.next.empty()) out.push_back({s.next, Child(loc, "Next")});
  if (!s.default_next.empty()) out.push_back({s.default_next, Child(loc, "Default")});
  for (size_t i = 0; i < s.choices.size(); ++i)
    if (!s.choices[i].next.empty()) out.push_back({s.choices[i].next, Child(Element(Child(loc, "Choices"), i), "Next")});
  for (size_t i = 0; i < s.catches.size(); ++i)
    if (!s.catches[i].next.empty()) out.push_back({s.catches[i].next, Child(Element(Child(loc, "Catch"), i), "Next")});
  return out;
}

void CheckTransitions(Checker& c, const StateMachine& m, const std::string& loc, bool top) {
  std::string states_loc = Child(loc, "States");
  bool start_found = m.Find(m.start_at) != nullptr;
  if (!m.start_at.empty() && !start_found)
    c.Error(kMissingTarget, "Missing 'Next' target: " + m.start_at, Child(loc, "StartAt"));
  bool terminal = false;
  for (const auto& [name, s] : m.states) {
    for (const auto& [target, where] : Targets(s, Child(states_loc, name)))
      if (!m.Find(target)) c.Error(kMissingTarget, "Missing 'Next' target: " + target, where);
    terminal |= s.end || s.type == StateType::kSucceed || s.type == StateType::kFail;
  }
  // AWS asks for a terminal state at the top level only (a loop inside a Map is accepted), and
  // then leaves reachability alone: every state would be "unreachable" from a loop anyway.
  if (top && !terminal && !m.states.empty()) {
    c.Error("MISSING_END_STATE", "Workflow has no terminal state", "");
    return;
  }
  if (!start_found) return;
  std::set<std::string> reached = {m.start_at};
  std::deque<std::string> queue = {m.start_at};
  while (!queue.empty()) {
    const State* s = m.Find(queue.front());
    queue.pop_front();
    for (const auto& [target, where] : Targets(*s, ""))
      if (m.Find(target) && reached.insert(target).second) queue.push_back(target);
  }
  for (const auto& [name, s] : m.states)
    if (!reached.count(name))
      c.Error(kMissingTarget, "State \"" + name + "\" is not reachable.", Child(states_loc, name));
}

}  // namespace

std::shared_ptr<const StateMachine> ParseMachine(Checker& c, const json& raw, const std::string& loc, bool top) {
  auto m = std::make_shared<StateMachine>();
  std::set<std::string> allowed = {"Comment", "StartAt", "States"};
  if (top) allowed.insert({"TimeoutSeconds", "Version", "QueryLanguage"});
  if (EndsWith(loc, "/ItemProcessor") || EndsWith(loc, "/Iterator")) allowed.insert("ProcessorConfig");
  c.OnlyFields(raw, allowed, loc);
  c.Require(raw, {"StartAt", "States"}, loc);
  if (const std::string* comment = c.String(raw, "Comment", loc)) m->comment = *comment;
  m->start_at = c.Target(raw, "StartAt", loc);
  if (top) {
    m->timeout_seconds = c.Seconds(raw, "TimeoutSeconds", loc, 1, "a positive integer");
    if (const std::string* version = c.String(raw, "Version", loc); version && *version != "1.0")
      c.Schema("Value should be one of the following: [1.0]", Child(loc, "Version"));
    if (const std::string* ql = c.String(raw, "QueryLanguage", loc); ql && *ql != "JSONPath")
      c.Schema(*ql == "JSONata" ? "QueryLanguage 'JSONata' is not supported by lathe (JSONPath only)"
                                : "Value should be one of the following: [JSONPath, JSONata]",
               Child(loc, "QueryLanguage"));
  }
  const json* states = c.Object(raw, "States", loc);
  if (!states) return m;
  std::string states_loc = Child(loc, "States");
  if (states->empty()) c.Schema("Value cannot be empty", states_loc);
  for (auto it = states->begin(); it != states->end(); ++it) {
    std::string where = Child(states_loc, it.key());
    if (!c.CountState(where)) break;
    c.NoteStateName(it.key(), where);
    m->states.emplace(it.key(), ParseState(c, it.key(), it.value(), where));
  }
  CheckTransitions(c, *m, loc, top);
  return m;
}

namespace {

// Duplicate keys, which a JSON parser silently collapses: AWS reports a duplicated state name
// (DUPLICATE_STATE_NAME) and refuses any other duplicated field.
class DuplicateKeys {
 public:
  explicit DuplicateKeys(Checker* checker) : checker_(checker) {}
  bool operator()(int /*depth*/, json::parse_event_t event, json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start:
      case json::parse_event_t::array_start: {
        std::string loc;
        if (!frames_.empty()) {
          Frame& top = frames_.back();
          loc = top.is_object ? Child(top.location, top.last_key) : Element(top.location, top.index++);
        }
        frames_.push_back({event == json::parse_event_t::object_start, std::move(loc), {}, 0, {}});
        break;
      }
      case json::parse_event_t::object_end:
      case json::parse_event_t::array_end:
        if (!frames_.empty()) frames_.pop_back();
        break;
      case json::parse_event_t::key:
        if (!frames_.empty() && parsed.is_string()) {
          Frame& top = frames_.back();
          top.last_key = parsed.get<std::string>();
          if (!top.keys.insert(top.last_key).second) {
            std::string where = Child(top.location, top.last_key);
            if (EndsWith(top.location, "/States"))
              checker_->Error("DUPLICATE_STATE_NAME", "Duplicate State name: " + top.last_key, where);
            else
              checker_->Error("INVALID_JSON_DESCRIPTION", "Duplicate field '" + top.last_key + "'", where);
          }
        }
        break;
      case json::parse_event_t::value:
        if (!frames_.empty() && !frames_.back().is_object) ++frames_.back().index;
        break;
    }
    return true;
  }

 private:
  struct Frame {
    bool is_object;
    std::string location;
    std::set<std::string> keys;
    size_t index;
    std::string last_key;
  };
  Checker* checker_;
  std::vector<Frame> frames_;
};

bool Blank(std::string_view text) {
  for (char ch : text)
    if (ch != ' ' && ch != '\t' && ch != '\r' && ch != '\n') return false;
  return true;
}

}  // namespace
}  // namespace internal

ParsedDefinition ParseDefinition(std::string_view definition) {
  ParsedDefinition out;
  Checker c;
  auto done = [&]() {
    out.diagnostics = c.TakeDiagnostics();
    return std::move(out);
  };
  if (internal::Blank(definition)) {
    c.Error("MISSING_DESCRIPTION", "Received a null or empty workflow input", "");
    return done();
  }
  if (definition.size() > kMaxDefinitionBytes) {
    c.Schema("The definition is " + std::to_string(definition.size()) + " bytes; the most is " +
                 std::to_string(kMaxDefinitionBytes),
             "");
    return done();
  }
  if (!JsonNestingWithin(definition, internal::kMaxDefinitionDepth)) {
    c.Error("TOO_DEEPLY_NESTED",
            "The definition nests more than " + std::to_string(internal::kMaxDefinitionDepth) + " levels deep", "");
    return done();
  }
  json root;
  try {
    root = json::parse(definition.begin(), definition.end(), internal::DuplicateKeys(&c));
  } catch (const json::exception& e) {
    Checker parse_error;  // duplicate keys seen before the syntax error are not worth reporting
    parse_error.Error("INVALID_JSON_DESCRIPTION", e.what(), "");
    out.diagnostics = parse_error.TakeDiagnostics();
    return out;
  }
  if (!root.is_object()) {
    c.Schema("The definition must be a JSON object", "/");
    return done();
  }
  auto machine = internal::ParseMachine(c, root, "", /*top=*/true);
  bool ok = c.error_count() == 0;
  out.diagnostics = c.TakeDiagnostics();
  if (ok) out.machine = std::move(machine);
  return out;
}

std::string InvalidDefinitionMessage(const std::vector<Diagnostic>& diagnostics) {
  std::string joined;
  for (const Diagnostic& d : diagnostics) {
    if (d.severity != "ERROR") continue;
    if (!joined.empty()) joined += ", ";
    // AWS writes "at null" for a diagnostic without a location (MISSING_END_STATE).
    joined += d.code + ": " + d.message + " at " + (d.location.empty() ? "null" : d.location);
  }
  return "Invalid State Machine Definition: '" + joined + "'";
}

namespace {

bool ServiceName(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (char ch : s)
    if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-')) return false;
  return true;
}

bool ActionName(std::string_view s) {
  if (s.empty() || s.size() > 128) return false;
  for (char ch : s)
    if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9'))) return false;
  return true;
}

Status BadResource(std::string_view resource) {
  return Status::InvalidArgument("The resource provided " + std::string(resource.substr(0, 256)) +
                                 " is not recognized");
}

}  // namespace

Result<TaskResource> ParseTaskResource(std::string_view resource) {
  if (resource.size() > 2048 || resource.substr(0, 4) != "arn:") return BadResource(resource);
  // arn:partition:service:region:account:rest
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (parts.size() < 5) {
    size_t colon = resource.find(':', start);
    if (colon == std::string_view::npos) return BadResource(resource);
    parts.push_back(resource.substr(start, colon - start));
    start = colon + 1;
  }
  std::string_view partition = parts[1], service = parts[2], region = parts[3], account = parts[4];
  std::string_view rest = resource.substr(start);
  if (partition.substr(0, 3) != "aws" || rest.empty()) return BadResource(resource);

  if (service == "lambda") {
    // arn:aws:lambda:region:account:function:name[:qualifier]
    if (rest.substr(0, 9) != "function:" || rest.size() == 9 || region.empty() || account.empty())
      return BadResource(resource);
    return TaskResource{"lambda", "function", ""};
  }
  if (service != "states") return BadResource(resource);
  if (rest.substr(0, 9) == "activity:") {
    if (rest.size() == 9 || region.empty() || account.empty()) return BadResource(resource);
    return TaskResource{"states", "activity", ""};
  }
  // arn:aws:states:::<service>:<action>[.<pattern>], or aws-sdk:<service>:<action>[.<pattern>]
  TaskResource out;
  size_t colon = rest.find(':');
  if (colon == std::string_view::npos) return BadResource(resource);
  out.service = std::string(rest.substr(0, colon));
  std::string_view call = rest.substr(colon + 1);
  if (out.service == "aws-sdk") {
    size_t next = call.find(':');
    if (next == std::string_view::npos || !ServiceName(call.substr(0, next))) return BadResource(resource);
    out.service += ":" + std::string(call.substr(0, next));
    call = call.substr(next + 1);
  } else if (!ServiceName(out.service)) {
    return BadResource(resource);
  }
  size_t dot = call.find('.');
  std::string_view action = call.substr(0, dot);
  if (!ActionName(action)) return BadResource(resource);
  out.action = std::string(action);
  if (dot != std::string_view::npos) {
    std::string_view pattern = call.substr(dot + 1);
    if (pattern != "sync" && pattern != "sync:2" && pattern != "waitForTaskToken") return BadResource(resource);
    out.pattern = std::string(pattern);
  }
  return out;
}

}  // namespace lathe::asl
