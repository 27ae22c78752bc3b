#include "services/openai/multipart.h"

#include <cctype>

namespace lathe::openai {
namespace {

bool StartsWithNoCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(s[i])) != std::tolower(static_cast<unsigned char>(prefix[i])))
      return false;
  return true;
}

// `key="value"` (or unquoted) among a header's `;`-separated parameters; "" when absent. A
// quoted value runs to its closing quote (';' inside it belongs to it).
std::string Param(std::string_view header, std::string_view key) {
  size_t pos = 0;
  while (pos < header.size()) {
    while (pos < header.size() && (header[pos] == ' ' || header[pos] == ';' || header[pos] == '\t')) ++pos;
    const size_t eq = header.find('=', pos);
    if (pos >= header.size() || eq == std::string_view::npos) break;
    if (const size_t semi = header.find(';', pos); semi < eq) {  // an item without '=': "form-data"
      pos = semi;
      continue;
    }
    std::string_view name = header.substr(pos, eq - pos);
    while (!name.empty() && name.back() == ' ') name.remove_suffix(1);
    std::string_view value;
    if (eq + 1 < header.size() && header[eq + 1] == '"') {
      size_t close = header.find('"', eq + 2);
      if (close == std::string_view::npos) close = header.size();
      value = header.substr(eq + 2, close - eq - 2);
      pos = close + 1;
    } else {
      size_t semi = header.find(';', eq + 1);
      if (semi == std::string_view::npos) semi = header.size();
      value = header.substr(eq + 1, semi - eq - 1);
      while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
      pos = semi;
    }
    if (name.size() == key.size() && StartsWithNoCase(name, key)) return std::string(value);
  }
  return "";
}

}  // namespace

Result<std::vector<FormPart>> ParseMultipart(std::string_view content_type, std::string_view body) {
  if (!StartsWithNoCase(content_type, "multipart/form-data"))
    return Status::InvalidArgument("Expected a multipart/form-data body (Content-Type: multipart/form-data)");
  const std::string boundary = Param(content_type, "boundary");
  if (boundary.empty() || boundary.size() > 200)
    return Status::InvalidArgument("The multipart Content-Type names no boundary of 1 to 200 characters");
  const std::string delimiter = "--" + boundary;
  std::vector<FormPart> parts;
  size_t pos = body.find(delimiter);
  if (pos == std::string_view::npos) return Status::InvalidArgument("The multipart body holds no boundary line");
  while (true) {
    pos += delimiter.size();
    if (body.substr(pos, 2) == "--") return parts;  // the closing delimiter
    if (body.substr(pos, 2) != "\r\n") return Status::InvalidArgument("A multipart boundary line is malformed");
    pos += 2;
    const size_t headers_end = body.find("\r\n\r\n", pos);
    if (headers_end == std::string_view::npos) return Status::InvalidArgument("A multipart part has no header end");
    FormPart part;
    for (size_t line = pos; line < headers_end;) {
      size_t eol = body.find("\r\n", line);
      if (eol == std::string_view::npos || eol > headers_end) eol = headers_end;
      std::string_view h = body.substr(line, eol - line);
      if (StartsWithNoCase(h, "content-disposition:")) {
        part.name = Param(h.substr(20), "name");
        part.filename = Param(h.substr(20), "filename");
      }
      line = eol + 2;
    }
    const size_t data_start = headers_end + 4;
    const size_t next = body.find("\r\n" + delimiter, data_start);
    if (next == std::string_view::npos) return Status::InvalidArgument("The multipart body ends before its last boundary");
    if (part.name.empty()) return Status::InvalidArgument("A multipart part has no name (Content-Disposition)");
    part.data = body.substr(data_start, next - data_start);
    parts.push_back(part);
    if (parts.size() > kMaxFormParts)
      return Status::InvalidArgument("The multipart body holds more than " + std::to_string(kMaxFormParts) + " parts");
    pos = next + 2;
  }
}

}  // namespace lathe::openai
