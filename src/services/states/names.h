// The shapes of Step Functions' names and ARNs, checked as the service checks them (lengths
// before characters, never a regular expression on request data):
//   arn:aws:states:<region>:<account>:stateMachine:<name>
//   arn:aws:states:<region>:<account>:execution:<state machine name>:<execution name>
#pragma once

#include <string>
#include <string_view>

#include "aws/json_members.h"
#include "core/status.h"

namespace lathe::states {

// Lengths and quoting as AWS words them (aws/json_members.h).
using aws::CheckLength;
using aws::Quoted;

// A state machine or execution name: 1-80 characters (UTF-8), none of them whitespace, brackets
// (<>{}[]), wildcards (?*), the specials "#%\^|~`$&,;:/ or control characters. InvalidName
// "Invalid Name: '<name>'" otherwise, as AWS answers it.
Status CheckName(std::string_view name);

std::string StateMachineArn(const std::string& region, const std::string& account, const std::string& name);
std::string ExecutionArn(const std::string& region, const std::string& account, const std::string& machine,
                         const std::string& name);

// The parts of a state machine or execution ARN; InvalidArn "Invalid Arn: '<arn>'" when `arn` is
// not one (any length, any bytes).
struct ParsedArn {
  std::string region, account;
  std::string machine;    // the state machine's name
  std::string execution;  // the execution's name ("" for a state machine ARN)
};
Result<ParsedArn> ParseStateMachineArn(std::string_view arn);
Result<ParsedArn> ParseExecutionArn(std::string_view arn);

// A fresh execution name when StartExecution has none: a UUID, as AWS's.
std::string NewExecutionName();

}  // namespace lathe::states
