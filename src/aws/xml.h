// XML for the AWS wire: text that every XML 1.0 parser accepts, documents written without string
// concatenation, and request bodies parsed within a size and nesting bound (S3's XML requests).
#pragma once

#include <cstddef>
#include <pugixml.hpp>
#include <string>
#include <string_view>

#include "core/status.h"

namespace lathe::aws {

// `s` made safe for XML 1.0 character data: invalid UTF-8 and the control characters XML forbids
// (all below U+0020 except tab, LF and CR) become U+FFFD. pugixml would write them as `&#1;`,
// which Python's ElementTree (botocore) refuses, losing the whole response.
std::string XmlText(std::string_view s);

// Appends <name>text</name> to `parent` (text through XmlText) and returns the new element.
pugi::xml_node AppendTextElement(pugi::xml_node parent, const char* name, std::string_view text);

// The document as UTF-8 without an XML declaration and without indentation.
std::string XmlToString(const pugi::xml_document& doc);

// The deepest element nesting of `body`, found by one linear scan that understands comments,
// CDATA, processing instructions and quoted attribute values; stops early once past `max_depth`.
// A <!DOCTYPE> is refused (no AWS request carries one, and it is where entity tricks live).
Status CheckXmlDepth(std::string_view body, size_t max_depth);

// Parses a request body into `doc` when it is at most `max_bytes` long and nests at most
// `max_depth` elements deep, both checked before pugixml sees it. Errors are S3's:
// MaxMessageLengthExceeded (too long) and MalformedXML (400).
Status ParseXmlBounded(std::string_view body, size_t max_bytes, size_t max_depth, pugi::xml_document* doc);

}  // namespace lathe::aws
