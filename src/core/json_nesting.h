// How deeply a JSON text nests, found without parsing it. Parsers and tree walks (nlohmann's
// parse, dump, copy and destructor among them) recurse once per level, so untrusted JSON must be
// measured before it is parsed: 200,000 '[' in a 400 KB body would otherwise overflow the stack.
#pragma once

#include <string_view>

namespace lathe {

// Whether no '{' or '[' outside a string is nested more than `limit` levels deep. One linear
// pass; string contents (with their escapes) are skipped, and it stops at the first level over
// the limit. Says nothing about whether the text is valid JSON: the parser decides that after.
bool JsonNestingWithin(std::string_view text, int limit);

// How deep a request body of any AWS JSON protocol may nest. AWS documents no bound; the deepest
// shapes lathe serves need about 10 levels.
inline constexpr int kMaxRequestJsonDepth = 64;

}  // namespace lathe
