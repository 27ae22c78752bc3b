// multipart/form-data bodies (RFC 7578), as the openai SDKs send /v1/files uploads: the
// boundary from the Content-Type, then each part's name, filename and bytes. One linear pass
// over a body already bounded by the gateway; no regex, at most kMaxParts parts.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace lathe::openai {

struct FormPart {
  std::string name;      // Content-Disposition's name
  std::string filename;  // "" when not a file
  std::string_view data; // into the body
};

inline constexpr size_t kMaxFormParts = 16;

// InvalidArgument naming what is wrong (no boundary, a part without a name, no final delimiter).
Result<std::vector<FormPart>> ParseMultipart(std::string_view content_type, std::string_view body);

}  // namespace lathe::openai
