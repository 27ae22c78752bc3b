// LLM-as-judge: a chosen model scores each answer on the guide's rubric (review.h's criteria)
// from a fixed prompt that shows the question, the reference (if any) and the answer, and asks
// for "criterion: N" lines. Unparseable output leaves that score absent (never a guess).
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "eval/evaluation.h"

namespace lathe::eval {

std::string JudgePrompt(const TestCase& c, std::string_view answer);
// "accuracy: 4\nrelevance: 5 ..." -> {accuracy: 4, relevance: 5}; only rubric criteria, 1..5.
std::map<std::string, double> ParseJudgeScores(std::string_view judge_output);

}  // namespace lathe::eval
