#include "aws/xml.h"

#include <sstream>

#include "core/utf8.h"

namespace lathe::aws {

std::string XmlText(std::string_view s) {
  std::string out = SanitizeUtf8(s);
  bool clean = true;
  for (unsigned char c : out)
    if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') clean = false;
  if (clean) return out;
  std::string fixed;
  fixed.reserve(out.size() + 8);
  for (unsigned char c : out) {
    if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
      fixed += "\xEF\xBF\xBD";
    else
      fixed += static_cast<char>(c);
  }
  return fixed;
}

pugi::xml_node AppendTextElement(pugi::xml_node parent, const char* name, std::string_view text) {
  pugi::xml_node node = parent.append_child(name);
  node.text().set(XmlText(text).c_str());
  return node;
}

std::string XmlToString(const pugi::xml_document& doc) {
  std::ostringstream out;
  doc.save(out, "", pugi::format_raw | pugi::format_no_declaration, pugi::encoding_utf8);
  return out.str();
}

namespace {

Status Malformed(std::string message) { return Status::Aws("MalformedXML", 400, std::move(message)); }

// Index just past `terminator` at or after `from`, or npos.
size_t SkipPast(std::string_view body, size_t from, std::string_view terminator) {
  size_t at = body.find(terminator, from);
  return at == std::string_view::npos ? at : at + terminator.size();
}

}  // namespace

Status CheckXmlDepth(std::string_view body, size_t max_depth) {
  size_t depth = 0;
  size_t i = 0;
  while (i < body.size()) {
    size_t lt = body.find('<', i);
    if (lt == std::string_view::npos) break;
    std::string_view rest = body.substr(lt);
    size_t next;
    if (rest.substr(0, 4) == "<!--") {
      next = SkipPast(body, lt + 4, "-->");
    } else if (rest.substr(0, 9) == "<![CDATA[") {
      next = SkipPast(body, lt + 9, "]]>");
    } else if (rest.size() >= 9 && (rest.substr(0, 9) == "<!DOCTYPE" || rest.substr(0, 9) == "<!doctype")) {
      return Malformed("The XML you provided has a DOCTYPE, which is not allowed.");
    } else if (rest.substr(0, 2) == "<?" || rest.substr(0, 2) == "<!") {
      next = SkipPast(body, lt + 2, ">");
    } else if (rest.substr(0, 2) == "</") {
      if (depth > 0) --depth;
      next = SkipPast(body, lt + 2, ">");
    } else {
      // A start tag: find its '>' outside quoted attribute values; "/>" closes it at once.
      size_t j = lt + 1;
      char quote = 0;
      for (; j < body.size(); ++j) {
        char c = body[j];
        if (quote) {
          if (c == quote) quote = 0;
        } else if (c == '"' || c == '\'') {
          quote = c;
        } else if (c == '>') {
          break;
        }
      }
      if (j >= body.size()) break;  // unterminated: pugixml reports the syntax error
      if (body[j - 1] != '/' && ++depth > max_depth)
        return Malformed("The XML you provided nests elements more than " + std::to_string(max_depth) +
                         " deep.");
      next = j + 1;
    }
    if (next == std::string_view::npos) break;
    i = next;
  }
  return Status::Ok();
}

Status ParseXmlBounded(std::string_view body, size_t max_bytes, size_t max_depth, pugi::xml_document* doc) {
  if (body.size() > max_bytes)
    return Status::Aws("MaxMessageLengthExceeded", 400,
                       "Your request was too big: " + std::to_string(body.size()) + " bytes, at most " +
                           std::to_string(max_bytes) + ".");
  LATHE_RETURN_IF_ERROR(CheckXmlDepth(body, max_depth));
  pugi::xml_parse_result parsed = doc->load_buffer(body.data(), body.size(), pugi::parse_default, pugi::encoding_utf8);
  if (!parsed)
    return Malformed(std::string("The XML you provided was not well-formed or did not validate against our "
                                 "published schema: ") +
                     parsed.description() + " at byte " + std::to_string(parsed.offset) + ".");
  if (!doc->document_element()) return Malformed("The XML you provided has no root element.");
  return Status::Ok();
}

}  // namespace lathe::aws
