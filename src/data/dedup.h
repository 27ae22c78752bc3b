// Duplicate keys of records. Exact: the record's text as the model reads it. Normalized: the same
// text lower-cased (ASCII), with punctuation removed and whitespace runs collapsed to one space,
// so "How do I reset my PIN?" and "how do i reset my pin" are the same question.
// Keys are FNV-1a 64-bit hashes of the record's fields (tagged, length-prefixed): the same on
// every machine, and the same for one conversation in every format.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "data/example.h"

namespace lathe::data {

std::string NormalizeText(std::string_view s);
uint64_t Fnv1a64(std::string_view s);
uint64_t ExactKey(const Example& e);
uint64_t NormalizedKey(const Example& e);
// The first word of the prompt (or of the input), lower-cased and without punctuation: the
// tutorial's category heuristic for balance.
std::string FirstWord(const Example& e);

}  // namespace lathe::data
