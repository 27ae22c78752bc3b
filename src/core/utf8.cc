#include "core/utf8.h"

#include <cstdint>
#include <cstring>

namespace lathe {

size_t FindInvalidUtf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    // ASCII fast path, 8 bytes at a time: most dataset text is ASCII.
    while (i + 8 <= n) {
      uint64_t w;
      std::memcpy(&w, p + i, 8);
      if (w & 0x8080808080808080ULL) break;
      i += 8;
    }
    if (i >= n) break;
    unsigned char c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    uint32_t min;
    uint32_t cp;
    if ((c & 0xE0) == 0xC0) { len = 2; min = 0x80; cp = c & 0x1F; }
    else if ((c & 0xF0) == 0xE0) { len = 3; min = 0x800; cp = c & 0x0F; }
    else if ((c & 0xF8) == 0xF0) { len = 4; min = 0x10000; cp = c & 0x07; }
    else return i;
    if (i + len > n) return i;
    for (size_t k = 1; k < len; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) return i;
      cp = (cp << 6) | (p[i + k] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return i;
    i += len;
  }
  return std::string_view::npos;
}

std::string SanitizeUtf8(std::string_view s) {
  std::string out;
  while (!s.empty()) {
    size_t bad = FindInvalidUtf8(s);
    if (bad == std::string_view::npos) {
      out.append(s);
      break;
    }
    out.append(s.substr(0, bad));
    out.append("\xEF\xBF\xBD");
    s.remove_prefix(bad + 1);
  }
  return out;
}

size_t CountCodePoints(std::string_view s) {
  size_t count = 0;
  for (unsigned char c : s) count += (c & 0xC0) != 0x80;
  return count;
}

const char* DetectUtf16(std::string_view head) {
  auto byte = [&](size_t i) { return static_cast<unsigned char>(head[i]); };
  if (head.size() >= 2 && byte(0) == 0xFF && byte(1) == 0xFE) return "UTF-16LE";
  if (head.size() >= 2 && byte(0) == 0xFE && byte(1) == 0xFF) return "UTF-16BE";
  // Without a BOM: two ASCII characters, each with a NUL beside it on the same side. Text in
  // UTF-8 never holds NUL there, and a JSON line starts with ASCII ('{', spaces).
  if (head.size() < 4) return nullptr;
  auto ascii = [&](size_t i) { return byte(i) != 0 && byte(i) < 0x80; };
  if (ascii(0) && byte(1) == 0 && ascii(2) && byte(3) == 0) return "UTF-16LE";
  if (byte(0) == 0 && ascii(1) && byte(2) == 0 && ascii(3)) return "UTF-16BE";
  return nullptr;
}

}  // namespace lathe
