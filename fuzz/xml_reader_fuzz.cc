// Feeds arbitrary bytes to the bounded XML reader S3's request bodies go through: the depth
// pre-scan and pugixml must never crash, leak, hang or allocate without bound, and a document
// accepted must nest no deeper than the bound.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "aws/xml.h"

namespace {

size_t Depth(pugi::xml_node node, size_t limit) {
  size_t deepest = 0;
  for (pugi::xml_node child = node.first_child(); child; child = child.next_sibling()) {
    if (child.type() != pugi::node_element) continue;
    size_t d = limit == 0 ? 1 : 1 + Depth(child, limit - 1);
    if (d > deepest) deepest = d;
  }
  return deepest;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  constexpr size_t kMaxDepth = 16;
  pugi::xml_document doc;
  if (lathe::aws::ParseXmlBounded(bytes, 1 << 16, kMaxDepth, &doc).ok() && Depth(doc, kMaxDepth + 1) > kMaxDepth)
    std::abort();  // the pre-scan let through deeper nesting than it promised
  return 0;
}
