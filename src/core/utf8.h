// UTF-8 checks shared by the dataset validator and the tokenizers.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace lathe {

// Returns the byte index of the first invalid UTF-8 sequence (overlong forms, surrogates and
// code points above U+10FFFF are invalid), or std::string_view::npos if s is valid.
size_t FindInvalidUtf8(std::string_view s);

// s with every invalid UTF-8 sequence replaced by U+FFFD, safe to print or put in JSON.
std::string SanitizeUtf8(std::string_view s);

// Number of code points in valid UTF-8 text (continuation bytes are not counted).
size_t CountCodePoints(std::string_view s);

// "UTF-16LE" or "UTF-16BE" when a file's first bytes are UTF-16 text (a byte-order mark FF FE or
// FE FF, or ASCII with every other byte NUL, as a BOM-less UTF-16 export of JSON is), else nullptr.
const char* DetectUtf16(std::string_view head);

}  // namespace lathe
